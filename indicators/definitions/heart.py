"""Heart indicators: heart-rate samples and daily statistics, HRV and fitness."""

from functools import partial

from indicators.model import Category, Indicator, Kind, Rollup

_h = partial(Indicator, category=Category.HEART)
S, D = Kind.SAMPLE, Kind.DAILY

# Entries are kept compact, like a table: easier to review than one argument per line.
# fmt: off
HEART: tuple[Indicator, ...] = (
    _h("heart_rate", "Heart rate", S, "/min", Rollup.MEAN, 25, 250,
       "One heart-rate reading, in beats per minute.", keywords=("hr", "pulse", "bpm")),
    _h("resting_heart_rate", "Resting heart rate", D, "/min", Rollup.MEAN, 25, 150,
       "Resting heart rate of the day (or lowest sleeping rate), in beats per minute.",
       keywords=("rhr", "pulse", "bpm")),
    _h("average_heart_rate", "Average heart rate", D, "/min",
       Rollup.DURATION_WEIGHTED_MEAN, 25, 250,
       "Average heart rate over the day, in beats per minute.", keywords=("mean hr", "bpm")),
    _h("min_heart_rate", "Minimum heart rate", D, "/min", Rollup.MIN, 25, 250,
       "Lowest heart rate of the day, in beats per minute.", keywords=("lowest hr", "bpm")),
    _h("max_heart_rate", "Maximum heart rate", D, "/min", Rollup.MAX, 25, 250,
       "Highest heart rate of the day, in beats per minute.", keywords=("peak hr", "bpm")),
    _h("user_max_heart_rate", "Personal maximum heart rate", D, "/min", Rollup.LAST, 100, 250,
       "The person's configured or estimated maximum heart rate, in beats per minute.",
       keywords=("hrmax", "profile", "max hr setting")),
    _h("hrv_rmssd", "HRV (RMSSD)", S, "ms", Rollup.MEAN, 1, 300,
       "Heart-rate variability as RMSSD of beat-to-beat intervals, in milliseconds.",
       keywords=("hrv", "heart rate variability", "rmssd")),
    _h("hrv_sdnn", "HRV (SDNN)", S, "ms", Rollup.MEAN, 1, 300,
       "Heart-rate variability as SDNN of beat-to-beat intervals, in milliseconds.",
       keywords=("hrv", "heart rate variability", "sdnn")),
    _h("vo2max", "VO2max", D, "mL/(kg.min)", Rollup.LAST, 10, 95,
       "Estimated maximal oxygen uptake, in millilitres per kilogram per minute.",
       keywords=("cardio fitness", "aerobic capacity", "vo2 max")),
    _h("cardiovascular_age", "Cardiovascular age", D, "a", Rollup.LAST, 18, 100,
       "Vendor-estimated age of the arteries (vascular age), in years.",
       keywords=("vascular age", "arterial stiffness", "oura", "heart health")),
)
# fmt: on
