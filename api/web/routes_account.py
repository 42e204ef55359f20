"""Pages of the account: sign up, sign in, sign out, password change, time zone."""

from __future__ import annotations

import zoneinfo
from functools import cache

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from api.deps import SessionDep, StateDep, limit_auth_attempts
from api.errors import ApiError
from api.schemas.accounts import UserCreate
from api.schemas.timezones import TimeZoneUpdate
from api.services import accounts, timezones
from api.web.deps import AnonymousFormDep, FormDep, VisitorDep, field
from api.web.render import WebRoute, redirect, render
from api.web.session import anonymous_csrf, end_session, load_session, start_session

router = APIRouter(prefix="/app", route_class=WebRoute, include_in_schema=False)


@cache
def time_zones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic's complaints keyed by form field (the value itself is never echoed)."""
    out: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][-1]) if error.get("loc") else "form"
        out.setdefault(name, str(error.get("msg", "invalid")).removeprefix("Value error, "))
    return out


def safe_next(value: str) -> str:
    """Only a path of this app: never another site (an open redirect)."""
    if value.startswith("/app") and not any(bad in value for bad in ("//", "\\", "..")):
        return value
    return "/app"


def _anonymous_page(
    request: Request, state: StateDep, template: str, status_code: int = 200, **context: object
) -> Response:
    probe = Response()
    csrf = anonymous_csrf(state, request, probe)
    page = render(request, template, status_code, csrf=csrf, user=None, **context)
    for name, value in probe.headers.items():
        if name == "set-cookie":
            page.headers.append(name, value)
    return page


@router.get("/signup")
def signup_page(request: Request, state: StateDep, goodbye: str = "") -> Response:
    """The sign-up form."""
    return _anonymous_page(
        request, state, "signup.html", values={}, errors={}, goodbye=goodbye == "1"
    )


@router.post("/signup", dependencies=[Depends(limit_auth_attempts)])
def signup(
    request: Request, form: AnonymousFormDep, state: StateDep, session: SessionDep
) -> Response:
    """Create the account and sign the browser in."""
    values = {
        "email": field(form, "email", 320),
        "display_name": field(form, "display_name"),
        "timezone": field(form, "timezone", 64) or "UTC",
    }
    try:
        body = UserCreate(
            email=values["email"],
            password=field(form, "password", 256),
            display_name=values["display_name"] or None,
            timezone=values["timezone"],
        )
        user = accounts.register_user(state, session, body)
    except ValidationError as exc:
        return _anonymous_page(
            request, state, "signup.html", 422, values=values, errors=field_errors(exc)
        )
    except ApiError as exc:
        where = "email" if exc.code == "email_taken" else "password"
        return _anonymous_page(
            request,
            state,
            "signup.html",
            exc.status_code,
            values=values,
            errors={where: exc.reason},
        )
    response = redirect("/app/devices?welcome=1")
    start_session(state, request, response, user.id, user.password_hash)
    return response


@router.get("/signin")
def signin_page(request: Request, state: StateDep, next: str = "/app") -> Response:
    """The sign-in form."""
    if load_session(state, request) is not None:
        return redirect(safe_next(next))
    return _anonymous_page(
        request, state, "signin.html", values={"next": safe_next(next)}, errors={}
    )


@router.post("/signin", dependencies=[Depends(limit_auth_attempts)])
def signin(
    request: Request, form: AnonymousFormDep, state: StateDep, session: SessionDep
) -> Response:
    """Check email and password; a new session for this browser."""
    values = {"email": field(form, "email", 320), "next": safe_next(field(form, "next"))}
    try:
        user = accounts.authenticate(state, session, values["email"], field(form, "password", 256))
    except ApiError as exc:
        return _anonymous_page(
            request,
            state,
            "signin.html",
            exc.status_code,
            values=values,
            errors={"form": exc.reason},
        )
    response = redirect(values["next"])
    start_session(state, request, response, user.id, user.password_hash)
    return response


@router.post("/signout")
def signout(request: Request, visitor: VisitorDep, form: FormDep, state: StateDep) -> Response:
    """End this browser's session."""
    response = redirect("/app/signin")
    end_session(state, request, response)
    return response


def _account_page(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    status_code: int = 200,
    **context: object,
) -> Response:
    context.setdefault("errors", {})
    context.setdefault("done", "")
    return render(
        request,
        "account.html",
        status_code,
        user=visitor.user,
        csrf=visitor.csrf,
        zones=time_zones(),
        zone=timezones.read_time_zone(session, visitor.user),
        **context,
    )


@router.get("/account")
def account_page(
    request: Request, visitor: VisitorDep, session: SessionDep, done: str = "", rederive: int = 0
) -> Response:
    """Password and time zone (with its history)."""
    return _account_page(request, visitor, session, done=done, rederive=rederive)


@router.post("/account/password")
def change_password(
    request: Request, visitor: VisitorDep, form: FormDep, state: StateDep, session: SessionDep
) -> Response:
    """Change the password; this browser stays signed in, every other session ends."""
    new = field(form, "new_password", 256)
    errors: dict[str, str] = {}
    if len(new) < 10:
        errors["new_password"] = "use at least 10 characters"  # noqa: S105 - a message
    elif new != field(form, "confirm_password", 256):
        errors["confirm_password"] = "the two new passwords differ"  # noqa: S105
    else:
        try:
            accounts.change_password(
                state, session, visitor.user, field(form, "current_password", 256), new
            )
        except ApiError as exc:
            where = "current_password" if exc.code == "invalid_credentials" else "new_password"
            errors[where] = exc.reason
    if errors:
        return _account_page(request, visitor, session, 422, errors=errors)
    response = redirect("/app/account?done=password")
    start_session(state, request, response, visitor.user.id, visitor.user.password_hash)
    return response


@router.post("/account/timezone")
def change_timezone(
    request: Request, visitor: VisitorDep, form: FormDep, session: SessionDep
) -> Response:
    """Set where the person lives from a day on (blank: always); the days it changes are
    re-derived by the pipeline."""
    try:
        body = TimeZoneUpdate(
            zone=field(form, "timezone", 64),
            effective_from=field(form, "effective_from", 10) or None,
        )
    except ValidationError as exc:
        errors = field_errors(exc)
        if "zone" in errors:
            errors["timezone"] = errors.pop("zone")
        return _account_page(request, visitor, session, 422, errors=errors)
    change = timezones.change_time_zone(session, visitor.user, body.zone, body.effective_from)
    return redirect(f"/app/account?done=timezone&rederive={len(change.rederive)}")
