"""The schedule: yesterday and today for every user, one run per shard of users (each run
vectorised across its users and days; never one run per user-day)."""

from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

from mirobody_assets.pipeline.jobs import pipeline_job
from mirobody_assets.pipeline.partitions import USERS, range_tags
from mirobody_assets.pipeline.resources import MirobodyResource

SHARD_TAG = "mirobody/shard"


def user_shards(users: Sequence[str], users_per_run: int) -> list[tuple[str, str]]:
    """(first, last) user of each shard, in partition order: a run covers users first..last."""
    return [
        (users[i], users[min(i + users_per_run, len(users)) - 1])
        for i in range(0, len(users), users_per_run)
    ]


@dg.schedule(
    job=pipeline_job,
    cron_schedule="0 */6 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every six hours: yesterday and today for every connected user, one run "
    "per shard of USERS_PER_RUN users (runs queue and run side by side).",
)
def recent_days(
    context: dg.ScheduleEvaluationContext, mirobody: MirobodyResource
) -> list[dg.RunRequest] | dg.SkipReason:
    users = context.instance.get_dynamic_partitions(USERS.name or "users")
    if not users:
        return dg.SkipReason("no user partitions yet")
    today = context.scheduled_execution_time.date()
    shards = user_shards(users, mirobody.settings.users_per_run)
    # Dynamic partitions keep insertion order, so first..last spans a shard's users.
    return [
        dg.RunRequest(
            run_key=f"recent-{context.scheduled_execution_time:%Y%m%dT%H}-{n}",
            tags={
                **range_tags(today - timedelta(days=1), today, first, last),
                "mirobody/reason": "schedule",
                SHARD_TAG: f"{n + 1}/{len(shards)}",
            },
        )
        for n, (first, last) in enumerate(shards)
    ]


ALL_SCHEDULES = [recent_days]
