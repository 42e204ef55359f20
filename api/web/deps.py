"""Page dependencies: the signed-in visitor (same limits and account rules as the API's
bearer-token caller) and forms whose CSRF token has been checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from api.deps import SessionDep, StateDep, client_ip
from api.errors import ForbiddenError
from api.ratelimit import Limit
from api.web.render import SignInRequiredError
from api.web.session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    WebSession,
    csrf_matches,
    drop_session,
    load_session,
    password_fingerprint,
)
from mirobody_assets.storage.models import User

MAX_FORM_FIELDS = 20


@dataclass(frozen=True)
class Visitor:
    """A signed-in person: their account row and their web session."""

    user: User
    session: WebSession

    @property
    def csrf(self) -> str:
        return self.session.csrf


def signed_in(request: Request, state: StateDep, session: SessionDep) -> Visitor:
    """The visitor of a valid session, or a redirect to the sign-in page. A session whose
    account is gone, or whose password changed since it began, is ended here."""
    web = load_session(state, request)
    if web is None:
        state.limiter.check(Limit("ip", client_ip(request), state.api.rate_limit_ip_per_minute))
        raise SignInRequiredError(request.url.path)
    state.limiter.check(
        Limit("ip", client_ip(request), state.api.rate_limit_ip_per_minute),
        Limit("user", str(web.user_id), state.api.rate_limit_user_per_minute),
    )
    user = session.get(User, web.user_id)
    if user is None or password_fingerprint(user.password_hash) != web.password_fp:
        drop_session(state, web)
        raise SignInRequiredError(request.url.path)
    request.state.user_id = str(user.id)
    return Visitor(user, web)


VisitorDep = Annotated[Visitor, Depends(signed_in)]


async def _form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)


async def checked_form(request: Request, visitor: VisitorDep) -> FormData:
    """The posted form of a signed-in visitor, after its CSRF token matched the session's."""
    form = await _form(request)
    if not csrf_matches(visitor.csrf, form.get(CSRF_FIELD)):
        raise ForbiddenError(
            "the form expired or came from another site: reload the page and try again",
            code="csrf_failed",
        )
    return form


async def anonymous_form(request: Request) -> FormData:
    """A sign-in or sign-up form: its token must equal the browser's CSRF cookie."""
    form = await _form(request)
    if not csrf_matches(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
        raise ForbiddenError(
            "the form expired or came from another site: reload the page and try again",
            code="csrf_failed",
        )
    return form


FormDep = Annotated[FormData, Depends(checked_form)]
AnonymousFormDep = Annotated[FormData, Depends(anonymous_form)]


def field(form: FormData, name: str, max_length: int = 512) -> str:
    value = form.get(name)
    return value[:max_length] if isinstance(value, str) else ""
