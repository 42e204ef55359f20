"""Account hardening: emails stored normalised; chat titles encrypted like the messages.

Emails: each address becomes NFKC + case folded (what registration and login now use), so
a full-width or differently cased look-alike is the same address. Where several accounts
normalise to one address (look-alikes registered before this revision), the account that
already holds it in the unique index keeps it, else the oldest; the others are left as they
are, unreachable by login, and logged by id for an operator to resolve: merging or deleting
someone's account is not a migration's decision. Downgrade keeps the normalised forms (valid
addresses the older code matches case-insensitively).

Chat titles: `chat_sessions.title` held the first words of the first message in plaintext.
It becomes text holding "kid:base64(AES-GCM blob)" under the vendor-token key ring, bound to
(user, session) by its own associated data, exactly as api/chat/history.py seals it (the
format is frozen here: a migration must not change with the code). They are encrypted here
rather than on first read because a lazily migrated title stays plaintext for as long as
nobody opens it, and the read path would need a plaintext fallback forever. The key comes
from TOKEN_ENCRYPTION_KEYS, or in development from the data folder's secrets.json that
`mirobody up` generates; with titles to encrypt and no key the upgrade stops (nothing is
changed) and says which variable to set. Downgrade decrypts them back (same key needed).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import base64
import json
import logging
import os
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.exc import IntegrityError

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
_VERSION, _NONCE = b"\x01", 12
_BATCH = 500


def _normalise_email(value: str) -> str:
    # api.schemas.text.normalise_email, frozen
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).strip().casefold())


def _title_aad(user_id: object, session_id: object) -> bytes:
    return f"mirobody-chat-title|{user_id}|{session_id}".encode()


def _key_ring() -> dict[str, bytes]:
    """The vendor-token keys the API uses; the first one encrypts."""
    from mirobody_assets.settings import (
        SECRETS_FILE,
        Environment,
        get_settings,
        parse_encryption_keys,
    )

    settings = get_settings()
    if settings.token_encryption_keys is not None:
        return settings.encryption_keys()
    stored = settings.data_dir / SECRETS_FILE
    if settings.environment is Environment.DEVELOPMENT and stored.exists():
        spec = json.loads(stored.read_text()).get("TOKEN_ENCRYPTION_KEYS")
        if spec:
            return parse_encryption_keys(spec)
    raise RuntimeError(
        "revision 0006 encrypts the stored chat titles and needs the API's encryption key: "
        "set TOKEN_ENCRYPTION_KEYS (as for the API) and run the migration again"
    )


def _normalise_emails(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.text("SELECT id, email, lower(email) AS indexed FROM users ORDER BY created_at, id")
    ).all()
    claims: dict[str, list[sa.Row[tuple[object, str, str]]]] = {}
    for row in rows:
        claims.setdefault(_normalise_email(row.email), []).append(row)
    left: list[str] = []
    for address, owners in claims.items():
        holder = next((r for r in owners if r.indexed == address), owners[0])
        left += [str(r.id) for r in owners if r is not holder]
        if holder.email == address:
            continue
        try:
            with conn.begin_nested():
                conn.execute(
                    sa.text("UPDATE users SET email = :e WHERE id = :i"),
                    {"e": address, "i": holder.id},
                )
        except IntegrityError:
            left.append(str(holder.id))
    if left:
        log.warning(
            "0006: %d account(s) share a normalised email with another account and "
            "were left as they are (they cannot log in until resolved): %s",
            len(left),
            ", ".join(left),
        )


def _seal_titles(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.text("SELECT id, user_id, title FROM chat_sessions WHERE title IS NOT NULL")
    ).all()
    if not rows:
        return
    keys = _key_ring()
    kid = next(iter(keys))
    aead = AESGCM(keys[kid])
    sealed = []
    for row in rows:
        nonce = os.urandom(_NONCE)
        blob = (
            _VERSION
            + nonce
            + aead.encrypt(nonce, row.title.encode(), _title_aad(row.user_id, row.id))
        )
        sealed.append({"i": row.id, "t": f"{kid}:{base64.b64encode(blob).decode()}"})
    update = sa.text("UPDATE chat_sessions SET title = :t WHERE id = :i")
    for start in range(0, len(sealed), _BATCH):
        conn.execute(update, sealed[start : start + _BATCH])


def _open_titles(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.text("SELECT id, user_id, title FROM chat_sessions WHERE title IS NOT NULL")
    ).all()
    if not rows:
        return
    ring = {kid: AESGCM(key) for kid, key in _key_ring().items()}
    opened = []
    for row in rows:
        kid, _, b64 = row.title.partition(":")
        blob = base64.b64decode(b64)
        title = (
            ring[kid]
            .decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], _title_aad(row.user_id, row.id))
            .decode()
        )
        opened.append({"i": row.id, "t": title[:200]})
    update = sa.text("UPDATE chat_sessions SET title = :t WHERE id = :i")
    for start in range(0, len(opened), _BATCH):
        conn.execute(update, opened[start : start + _BATCH])


def upgrade() -> None:
    conn = op.get_bind()
    _normalise_emails(conn)
    op.alter_column(
        "chat_sessions",
        "title",
        type_=sa.Text(),
        existing_type=sa.String(length=200),
        existing_nullable=True,
    )
    _seal_titles(conn)


def downgrade() -> None:
    _open_titles(op.get_bind())
    op.alter_column(
        "chat_sessions",
        "title",
        type_=sa.String(length=200),
        existing_type=sa.Text(),
        existing_nullable=True,
    )
