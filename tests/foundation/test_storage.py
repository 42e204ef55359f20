"""The storage layer against real PostgreSQL and Redis: constraints the pipeline relies on."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from mirobody_assets.storage.models import RawRecord, User
from mirobody_assets.storage.redis_client import PrefixedRedis, make_redis


def _user(session: Session) -> uuid.UUID:
    user = User(email=f"{uuid.uuid4().hex}@example.org")
    session.add(user)
    session.flush()
    return user.id


def test_raw_records_dedup_identical_content_on_conflict(engine: Engine) -> None:
    payload = {"id": "abc", "score": {"strain": 5.2}}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    with Session(engine) as session, session.begin():
        uid = _user(session)
        row = dict(
            user_id=uid,
            provider="whoop",
            record_type="cycle",
            vendor_id="abc",
            version="2026-01-01T00:00:00Z",
            content_hash=digest,
            day=date(2026, 1, 1),
            payload=payload,
        )
        for _ in range(3):
            session.execute(insert(RawRecord).values(**row).on_conflict_do_nothing())
        count = session.scalar(select(func.count()).where(RawRecord.user_id == uid))
        stored = session.scalar(select(RawRecord.payload).where(RawRecord.user_id == uid))
    assert count == 1
    assert stored == payload


def test_deleting_a_user_cascades_to_their_data(engine: Engine) -> None:
    t = datetime(2026, 1, 1, 7, 0, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        uid = _user(session)
        session.add(
            RawRecord(
                user_id=uid,
                provider="garmin",
                record_type="dailies",
                vendor_id="d1",
                content_hash="0" * 64,
                day=t.date(),
                payload={"steps": 1000},
            )
        )
    with Session(engine) as session, session.begin():
        session.delete(session.get(User, uid))
    with Session(engine) as session:
        left = session.scalar(select(func.count()).where(RawRecord.user_id == uid))
    assert left == 0


def test_redis_keys_carry_the_prefix_and_are_cleaned(redis: PrefixedRedis, redis_url: str) -> None:
    redis.client.set(redis.key("oauth", "state", "s1"), "v", ex=60)
    assert redis.key("a", "b") == redis.prefix + "a:b"
    other = make_redis(redis_url, redis.prefix + "other-tenant:")
    other.client.set(other.key("x"), "1")
    assert other.delete_all() == 1
    assert redis.client.get(redis.key("oauth", "state", "s1")) == "v"
    other.client.close()
