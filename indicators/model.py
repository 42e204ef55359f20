"""The vocabulary of the indicator catalogue: kinds, roll-ups, categories and the entry type.

Kept apart from the catalogue data so that each category module can build entries without
importing the registry that collects them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


class Category(StrEnum):
    """The health domain an indicator belongs to."""

    ACTIVITY = "activity"
    HEART = "heart"
    SLEEP = "sleep"
    RECOVERY = "recovery"
    RESPIRATORY = "respiratory"
    TEMPERATURE = "temperature"
    BODY = "body"
    BLOOD_PRESSURE = "blood_pressure"
    GLUCOSE = "glucose"


class Kind(StrEnum):
    """What one row of the indicator stands for.

    SAMPLE: an instantaneous reading (`end_time` is null).
    INTERVAL: an amount over a short window, e.g. steps in a 15-minute epoch.
    DAILY: a vendor's own summary of a whole local day.
    SESSION: one sleep or workout, from its start to its end.
    """

    SAMPLE = "sample"
    INTERVAL = "interval"
    DAILY = "daily"
    SESSION = "session"


class Rollup(StrEnum):
    """How one source's rows of a local day become that day's single value."""

    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    LAST = "last"
    DURATION_WEIGHTED_MEAN = "duration_weighted_mean"


class DayAnchor(StrEnum):
    """Which end of a row decides its local day.

    Sleep belongs to the day the person wakes up on (the vendors' own `day`/`calendarDate`
    do the same), so a night from 23:10 to 07:00 counts for the morning's date.
    """

    START = "start"
    END = "end"


@dataclass(frozen=True, slots=True)
class Indicator:
    """One standard indicator: the unit every provider converts to and how a day rolls up.

    `unit` is a UCUM-style code (`kcal`, `min`, `/min`, `Cel`, `mm[Hg]`, `{steps}`).
    `min_value`/`max_value` are the plausible bounds of one row, in `unit`; values outside
    them are quarantined, not dropped. `is_delta` marks differences from a baseline (a
    deviation in degrees converts without the Fahrenheit offset). `molar_mass_g_per_mol`
    lets molar concentrations (mmol/L) convert to mass concentrations (mg/dL).
    """

    id: str
    name: str
    kind: Kind
    unit: str
    rollup: Rollup
    min_value: float
    max_value: float
    description: str
    category: Category = field(kw_only=True)
    keywords: tuple[str, ...] = ()
    is_delta: bool = False
    molar_mass_g_per_mol: float | None = None
    day_anchor: DayAnchor = DayAnchor.START

    def __post_init__(self) -> None:
        if not _ID_PATTERN.match(self.id):
            raise ValueError(f"indicator id {self.id!r} is not snake_case")
        if not self.min_value < self.max_value:
            raise ValueError(f"indicator {self.id!r}: min_value must be below max_value")
        if not self.description or "\n" in self.description:
            raise ValueError(f"indicator {self.id!r} needs a one-line description")

    def in_bounds(self, value: float) -> bool:
        """Whether `value` (in the standard unit) is plausible for this indicator."""
        return self.min_value <= value <= self.max_value
