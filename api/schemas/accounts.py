"""Account models: UserBase, UserCreate, UserUpdate, UserPublic, and the token pair."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.text import email_text, normalise_email, visible_text

_C = r"[^@\s\x00-\x1f\x7f]"
EMAIL_PATTERN = rf"^{_C}{{1,64}}@{_C}{{1,253}}\.[^@\s\x00-\x1f\x7f.]{{2,63}}$"


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_timezone(value: str | None) -> str | None:
    if value is not None and value not in _zones():
        raise ValueError("unknown IANA time zone")
    return value


class UserBase(BaseModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=320, examples=["ada@example.org"])
    display_name: str | None = Field(default=None, max_length=200)
    timezone: str = Field(default="UTC", max_length=64, description="IANA zone of the user.")

    _tz = field_validator("timezone")(_check_timezone)


def _normalised_email(value: object) -> object:
    return normalise_email(value) if isinstance(value, str) else value


class UserCreate(UserBase):
    """Registration: the password is hashed with argon2id and never stored or logged. It must
    be hard to guess (zxcvbn score, the account's email and name counted as known words).
    The email is stored normalised (NFKC, case folded): a look-alike is the same address."""

    password: str = Field(min_length=10, max_length=256)

    # Rules on the way in only, so that reading a row stored before them never fails.
    _email_in = field_validator("email", mode="before")(_normalised_email)
    _email = field_validator("email")(email_text)
    _name = field_validator("display_name")(visible_text)


class UserUpdate(BaseModel):
    display_name: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)

    _tz = field_validator("timezone")(_check_timezone)
    _name = field_validator("display_name")(visible_text)


class UserPublic(UserBase):
    model_config = ConfigDict(from_attributes=True)

    email: str  # as stored; input rules apply on the way in only
    id: uuid.UUID
    created_at: datetime


class LoginRequest(BaseModel):
    email: str = Field(max_length=320, description="Matched in its normalised form.")
    password: str = Field(max_length=256)

    _email = field_validator("email", mode="before")(_normalised_email)


class PasswordChange(BaseModel):
    """A new password for the caller, who proves the current one. It must be hard to guess."""

    current_password: str = Field(max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class TokenPair(BaseModel):
    """An access JWT (short-lived) and a single-use refresh token (rotated on use)."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name)
    expires_in: int = Field(description="Seconds until the access token expires.")
