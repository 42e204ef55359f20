"""Fitbit through the pipeline: a user linked to the sandbox Fitbit through the real OAuth flow
(PKCE), their days pulled into raw_fitbit, normalised and summarised with the physiology's
values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import dagster as dg
from sqlalchemy import Engine, text

from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.partitions import range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from providers.sandbox.physiology import PERSONS, day_truth

from .conftest import TODAY

FIRST, LAST = TODAY - timedelta(days=3), TODAY - timedelta(days=1)


def test_a_fitbit_user_s_days_are_pulled_and_summarised(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    user = make_user()
    link(user, "fitbit", "ada")
    dagster_instance.add_dynamic_partitions("users", [user])
    result = dg.materialize(
        ALL_ASSETS,
        instance=dagster_instance,
        resources={"mirobody": mirobody},
        tags=range_tags(FIRST, LAST, user, user),
    )
    assert result.success
    with engine.connect() as conn:
        types = set(
            conn.execute(
                text(
                    "SELECT DISTINCT record_type FROM raw_records WHERE user_id = :u "
                    "AND provider = 'fitbit'"
                ),
                {"u": user},
            ).scalars()
        )
        summary = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                text(
                    "SELECT day, indicator, value FROM daily_summary WHERE user_id = :u "
                    "AND source = 'fitbit'"
                ),
                {"u": user},
            ).all()
        }
    assert {"sleep", "activities", "heart", "heart_intraday", "hrv"} <= types
    for i in range(3):
        day = FIRST + timedelta(days=i)
        truth = day_truth(PERSONS["ada"], day)
        if truth.activity is not None:
            assert summary[(day, "steps")] == truth.activity.steps
        if truth.sleep is not None:
            assert summary[(day, "sleep_duration_deep")] == round(truth.sleep.deep_s / 60)
