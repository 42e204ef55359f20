"""Chat history in chat_sessions / chat_messages, message content encrypted at rest.

Each message's payload (its text, and for an assistant turn its tool calls with arguments) is
sealed with the AES-GCM TokenCipher under associated data binding the user and the session, and
stored as "kid:base64(blob)": a row copied to another session or user does not open. The
tool_calls column keeps only ids and names (no arguments) so that nothing readable leaks.
The session's title (the first message's opening words, or a generated summary of them) is
sealed the same way under its own associated data, so it cannot pass for a message either.
The session's agent is a message of role "agent" (chat_sessions has no column for it).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.errors import ApiError, NotFoundError
from api.schemas.text import without_invisible
from mirobody_assets.storage.crypto import TokenCipher, TokenDecryptionError
from mirobody_assets.storage.models import ChatMessage, ChatSession

log = logging.getLogger(__name__)
AGENT_ROLE = "agent"
TITLE_CHARS = 60


class HistoryUnreadableError(ApiError):
    """A stored message does not open under its session's binding (moved, tampered, or its
    key was removed from the ring)."""

    status_code = 500
    code = "chat_history_unreadable"


@dataclass(frozen=True)
class Turn:
    """One stored message, opened: role, text, tool calls (assistant), tool call id (tool)."""

    role: str
    text: str | None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    def as_openai(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": self.role, "content": self.text}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        return message


def _aad(user_id: uuid.UUID, session_id: uuid.UUID) -> bytes:
    return f"mirobody-chat|{user_id}|{session_id}".encode()


def _title_aad(user_id: uuid.UUID, session_id: uuid.UUID) -> bytes:
    # Frozen copy in migration 0006, which seals the titles stored before it: keep in step.
    return f"mirobody-chat-title|{user_id}|{session_id}".encode()


def _seal(cipher: TokenCipher, aad: bytes, plaintext: bytes) -> str:
    kid, blob = cipher.encrypt(plaintext, aad)
    return f"{kid}:{base64.b64encode(blob).decode()}"


def _open(cipher: TokenCipher, aad: bytes, stored: str, session_id: uuid.UUID) -> bytes:
    kid, _, blob = stored.partition(":")
    try:
        return cipher.decrypt(kid, base64.b64decode(blob), aad)
    except (TokenDecryptionError, ValueError) as exc:
        log.error("chat history does not open (%s)", exc, extra={"session_id": str(session_id)})
        raise HistoryUnreadableError("a message of this session cannot be decrypted") from None


def seal(
    cipher: TokenCipher, user_id: uuid.UUID, session_id: uuid.UUID, payload: dict[str, Any]
) -> str:
    return _seal(cipher, _aad(user_id, session_id), json.dumps(payload).encode())


def unseal(
    cipher: TokenCipher, user_id: uuid.UUID, session_id: uuid.UUID, stored: str
) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(
        _open(cipher, _aad(user_id, session_id), stored, session_id)
    )
    return payload


def seal_title(cipher: TokenCipher, user_id: uuid.UUID, session_id: uuid.UUID, title: str) -> str:
    return _seal(cipher, _title_aad(user_id, session_id), title.encode())


def title_of(cipher: TokenCipher, chat: ChatSession) -> str | None:
    """The session's title, decrypted; None when it has none or it does not open (logged:
    one unreadable title must not hide the caller's other sessions from the list)."""
    if chat.title is None:
        return None
    try:
        return _open(cipher, _title_aad(chat.user_id, chat.id), chat.title, chat.id).decode()
    except HistoryUnreadableError:
        return None


def title_from(message: str) -> str:
    """The first user message, cut at a word boundary, without invisible characters."""
    words = " ".join(without_invisible(message).split())
    if len(words) <= TITLE_CHARS:
        return words or "New chat"
    return words[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def own_session(db: Session, user_id: uuid.UUID, session_id: uuid.UUID) -> ChatSession:
    """The caller's session; another person's is as absent as a missing one."""
    row = db.get(ChatSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFoundError("chat session not found")
    return row


def create_session(
    db: Session, cipher: TokenCipher, user_id: uuid.UUID, first_message: str, agent: str
) -> ChatSession:
    session_id = uuid.uuid4()  # chosen here: the sealed title is bound to it
    row = ChatSession(
        id=session_id,
        user_id=user_id,
        title=seal_title(cipher, user_id, session_id, title_from(first_message)),
    )
    db.add(row)
    db.flush()
    add_message(db, cipher, row, AGENT_ROLE, {"text": agent})
    db.commit()
    return row


def add_message(
    db: Session, cipher: TokenCipher, chat: ChatSession, role: str, payload: dict[str, Any]
) -> None:
    calls = payload.get("tool_calls")
    db.add(
        ChatMessage(
            session_id=chat.id,
            role=role,
            content=seal(cipher, chat.user_id, chat.id, payload),
            tool_calls=[{"id": c["id"], "name": c["function"]["name"]} for c in calls]
            if calls
            else None,
            tool_call_id=payload.get("tool_call_id"),
        )
    )
    chat.updated_at = datetime.now(UTC)


def read_turns(db: Session, cipher: TokenCipher, chat: ChatSession) -> list[Turn]:
    rows = db.scalars(
        select(ChatMessage).where(ChatMessage.session_id == chat.id).order_by(ChatMessage.id)
    ).all()
    turns = []
    for row in rows:
        payload = unseal(cipher, chat.user_id, chat.id, row.content or "")
        turns.append(
            Turn(
                row.role,
                payload.get("text"),
                payload.get("tool_calls"),
                payload.get("tool_call_id"),
            )
        )
    return turns


def session_agent(turns: list[Turn], default: str) -> str:
    agents = [t.text for t in turns if t.role == AGENT_ROLE and t.text]
    return agents[-1] if agents else default


def list_sessions(db: Session, user_id: uuid.UUID, limit: int) -> list[ChatSession]:
    return list(
        db.scalars(
            select(ChatSession)
            .where(ChatSession.user_id == user_id)
            .order_by(ChatSession.updated_at.desc())
            .limit(limit)
        ).all()
    )


def rename_session(
    db: Session, cipher: TokenCipher, user_id: uuid.UUID, session_id: uuid.UUID, title: str
) -> ChatSession:
    row = own_session(db, user_id, session_id)
    row.title = seal_title(cipher, user_id, session_id, title)
    db.commit()
    return row


def delete_session(db: Session, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    own_session(db, user_id, session_id)
    db.execute(delete(ChatSession).where(ChatSession.id == session_id))
    db.commit()


def answered_only(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leave out tool calls whose results were never stored (an answer stopped mid-tool):
    back ends reject an assistant tool call without its tool messages."""
    results = {m.get("tool_call_id") for m in turns if m["role"] == "tool"}
    kept = []
    for m in turns:
        calls = m.get("tool_calls")
        if calls and not all(c["id"] in results for c in calls):
            orphans = {c["id"] for c in calls}
            if m.get("content"):
                kept.append({"role": "assistant", "content": m["content"]})
            results -= orphans
            continue
        if m["role"] == "tool" and m.get("tool_call_id") not in results:
            continue
        kept.append(m)
    return kept


def fit_context(turns: list[dict[str, Any]], budget_tokens: int) -> list[dict[str, Any]]:
    """Drop the oldest turns until the rest fit (about 4 characters a token); the kept
    history starts at a user message so no tool result loses its call."""

    def size(m: dict[str, Any]) -> int:
        return (len(m.get("content") or "") + len(json.dumps(m.get("tool_calls") or ""))) // 4 + 4

    kept = list(turns)
    total = sum(size(m) for m in kept)
    while kept and (total > budget_tokens or kept[0]["role"] != "user"):
        total -= size(kept.pop(0))
    return kept
