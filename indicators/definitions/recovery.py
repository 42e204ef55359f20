"""Recovery and load indicators: vendor readiness scores, body battery, stress and strain."""

from functools import partial

from indicators.model import Category, Indicator, Kind, Rollup

_r = partial(Indicator, category=Category.RECOVERY)
S, IV, D, X = Kind.SAMPLE, Kind.INTERVAL, Kind.DAILY, Kind.SESSION

# Entries are kept compact, like a table: easier to review than one argument per line.
# fmt: off
RECOVERY: tuple[Indicator, ...] = (
    _r("recovery_score", "Recovery score", D, "{score}", Rollup.LAST, 0, 100,
       "WHOOP-style 0-100 readiness of the body to take on strain.",
       keywords=("whoop", "readiness")),
    _r("readiness_score", "Readiness score", D, "{score}", Rollup.LAST, 0, 100,
       "Oura-style 0-100 score of how ready the body is for the day.",
       keywords=("oura", "recovery")),
    _r("body_battery", "Body battery", S, "{score}", Rollup.LAST, 0, 100,
       "Garmin Body Battery energy level reading, 0-100.", keywords=("garmin", "energy")),
    _r("body_battery_charged", "Body battery charged", D, "{score}", Rollup.SUM, 0, 100,
       "Body Battery points gained over the day.", keywords=("garmin", "energy", "recharge")),
    _r("body_battery_drained", "Body battery drained", D, "{score}", Rollup.SUM, 0, 100,
       "Body Battery points spent over the day.", keywords=("garmin", "energy")),
    _r("stress_level", "Stress level", S, "{score}", Rollup.DURATION_WEIGHTED_MEAN, 0, 100,
       "Physiological stress level reading on a 0-100 scale.",
       keywords=("stress", "garmin", "anxiety")),
    _r("stress_duration_high", "High stress time", IV, "min", Rollup.SUM, 0, 1_440,
       "Minutes spent at high physiological stress.", keywords=("stress", "oura", "garmin")),
    _r("recovery_duration_high", "High recovery time", IV, "min", Rollup.SUM, 0, 1_440,
       "Minutes spent in high recovery (restful) state while awake.",
       keywords=("relaxation", "rest", "oura")),
    _r("strain", "Day strain", D, "{score}", Rollup.MAX, 0, 21,
       "Cardiovascular load of the whole day on WHOOP's 0-21 scale.",
       keywords=("whoop", "load", "exertion")),
    _r("training_load", "Training load", D, "{score}", Rollup.SUM, 0, 2_000,
       "Vendor training or cardio load accumulated over the day.",
       keywords=("cardio load", "polar", "trimp")),
    _r("nightly_recharge_ans_charge", "ANS charge", D, "{score}", Rollup.LAST, -10, 10,
       "Polar Nightly Recharge autonomic nervous system charge, -10 to +10.",
       keywords=("polar", "recovery", "autonomic")),
    _r("mindfulness_duration", "Mindfulness session time", X, "min", Rollup.SUM, 0, 1_440,
       "Minutes of one guided breathing, meditation, relaxation or rest session.",
       keywords=("meditation", "breathing", "relaxation", "oura", "moment", "mindful")),
)
# fmt: on
