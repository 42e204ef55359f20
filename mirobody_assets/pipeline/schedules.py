"""The schedule: yesterday and today for every user, as one run vectorised across users."""

from datetime import timedelta

import dagster as dg

from mirobody_assets.pipeline.jobs import pipeline_job
from mirobody_assets.pipeline.partitions import USERS, range_tags


@dg.schedule(job=pipeline_job, cron_schedule="0 */6 * * *",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Every six hours: yesterday and today for every connected user, in one "
                         "run (never one run per user-day).")
def recent_days(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    users = context.instance.get_dynamic_partitions(USERS.name or "users")
    if not users:
        return dg.SkipReason("no user partitions yet")
    today = context.scheduled_execution_time.date()
    # Dynamic partitions keep insertion order, so first..last spans every user.
    return dg.RunRequest(
        run_key=f"recent-{context.scheduled_execution_time:%Y%m%dT%H}",
        tags={**range_tags(today - timedelta(days=1), today, users[0], users[-1]),
              "mirobody/reason": "schedule"})


ALL_SCHEDULES = [recent_days]
