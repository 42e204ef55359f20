"""Chat titles are ciphertext at rest, bound to their session, and still read back through the
API; the migration seals the titles stored before it."""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from api.chat.history import title_from
from mirobody_assets.storage import migrate
from mirobody_assets.storage.crypto import TokenCipher
from mirobody_assets.storage.engine import sqlalchemy_url
from mirobody_assets.storage.models import ChatSession


def _stored(engine: Engine, sid: str) -> tuple[str, bytes]:
    """The title column as text and as its raw bytes."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT title::text AS chars, convert_to(title, 'UTF8') AS raw "
                "FROM chat_sessions WHERE id = :s"
            ),
            {"s": sid},
        ).one()
    return str(row.chars), bytes(row.raw)


def _listed_title(live: Any, account: Any, sid: str) -> str | None:
    listed = httpx.get(f"{live.url}/v1/chat/sessions", headers=account.headers).json()
    title: str | None = next(s["title"] for s in listed["data"] if s["id"] == sid)
    return title


def test_a_title_is_ciphertext_at_rest_and_plain_through_the_api(
    live: Any, alice: Any, ask: Any, engine: Engine
) -> None:
    marker = uuid.uuid4().hex[:10]
    message = f"Why does my quokka-{marker} sleep tracker disagree with my ring?"
    events = ask(alice, message)
    sid = str(events[0][1]["session_id"])
    as_text, as_bytes = _stored(engine, sid)
    assert marker not in as_text and b"quokka" not in as_bytes and marker.encode() not in as_bytes
    assert as_text.startswith("k1:")
    assert _listed_title(live, alice, sid) == title_from(message)
    detail = httpx.get(f"{live.url}/v1/chat/sessions/{sid}", headers=alice.headers).json()
    assert detail["title"] == title_from(message)

    renamed = httpx.patch(
        f"{live.url}/v1/chat/sessions/{sid}",
        json={"title": f"Wombat {marker}"},
        headers=alice.headers,
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == f"Wombat {marker}"
    as_text, as_bytes = _stored(engine, sid)
    assert marker not in as_text and b"Wombat" not in as_bytes
    assert _listed_title(live, alice, sid) == f"Wombat {marker}"


def test_a_title_moved_to_another_session_does_not_open(
    live: Any, alice: Any, ask: Any, engine: Engine
) -> None:
    first = str(ask(alice, "A question about my steps")[0][1]["session_id"])
    second = str(ask(alice, "Another question entirely")[0][1]["session_id"])
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE chat_sessions SET title = (SELECT title FROM chat_sessions "
                "WHERE id = :f) WHERE id = :s"
            ),
            {"f": first, "s": second},
        )
    assert _listed_title(live, alice, first) == "A question about my steps"
    assert _listed_title(live, alice, second) is None


def test_a_title_with_bidi_controls_is_refused_and_derived_titles_drop_them(
    live: Any, alice: Any, ask: Any
) -> None:
    sid = str(ask(alice, "Sleep \u202eevil\u202c report")[0][1]["session_id"])
    assert _listed_title(live, alice, sid) == "Sleep evil report"
    refused = httpx.patch(
        f"{live.url}/v1/chat/sessions/{sid}",
        json={"title": "Sleep \u2067report"},
        headers=alice.headers,
    )
    assert refused.status_code == 422
    assert "U+2067" in refused.json()["errors"][0]["msg"]


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_the_migration_seals_stored_titles_and_downgrade_opens_them(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from api.chat.history import title_of

    migrate.upgrade(empty_database_url, "0005")
    engine = create_engine(sqlalchemy_url(empty_database_url))
    try:
        with engine.begin() as conn:
            user = conn.execute(
                text("INSERT INTO users (email) VALUES ('t@example.org') RETURNING id")
            ).scalar_one()
            sid = conn.execute(
                text(
                    "INSERT INTO chat_sessions (user_id, title) VALUES "
                    "(:u, 'My private sleep question') RETURNING id"
                ),
                {"u": user},
            ).scalar_one()
        # no key anywhere: the upgrade refuses and changes nothing
        monkeypatch.delenv("TOKEN_ENCRYPTION_KEYS", raising=False)
        monkeypatch.setenv("ENVIRONMENT", "development")
        monkeypatch.setenv("DATA_DIR", str(tmp_path))
        with pytest.raises(RuntimeError, match="TOKEN_ENCRYPTION_KEYS"):
            migrate.upgrade(empty_database_url, "0006")
        assert migrate.current_revision(empty_database_url) == "0005"

        old, current = _key(), _key()
        monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", f"k2:{current},k1:{old}")
        migrate.upgrade(empty_database_url, "0006")
        with engine.connect() as conn:
            sealed = conn.execute(text("SELECT title FROM chat_sessions")).scalar_one()
        assert sealed.startswith("k2:") and "sleep" not in sealed
        cipher = TokenCipher(
            {"k1": base64.urlsafe_b64decode(old), "k2": base64.urlsafe_b64decode(current)}
        )
        row = ChatSession(id=sid, user_id=user, title=sealed)
        assert title_of(cipher, row) == "My private sleep question"

        migrate.downgrade(empty_database_url, "0005")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title FROM chat_sessions")).scalar_one() == (
                "My private sleep question"
            )
    finally:
        engine.dispose()
