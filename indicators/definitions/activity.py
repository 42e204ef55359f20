"""Activity indicators: movement, energy, intensity minutes and workouts."""

from functools import partial

from indicators.model import Category, Indicator, Kind, Rollup

_a = partial(Indicator, category=Category.ACTIVITY)
S, IV, D, X = Kind.SAMPLE, Kind.INTERVAL, Kind.DAILY, Kind.SESSION

_ZONE_WORDS = ("zero", "one", "two", "three", "four", "five")

# Entries are kept compact, like a table: easier to review than one argument per line.
# fmt: off
ACTIVITY: tuple[Indicator, ...] = (
    _a("steps", "Steps", IV, "{steps}", Rollup.SUM, 0, 200_000,
       "Number of steps taken in the interval.", keywords=("walking", "step count")),
    _a("distance", "Distance", IV, "m", Rollup.SUM, 0, 500_000,
       "Distance covered on foot or by any activity in the interval, in metres.",
       keywords=("walking distance", "km", "meters")),
    _a("floors_climbed", "Floors climbed", IV, "{floors}", Rollup.SUM, 0, 2_000,
       "Number of floors (about 3 m of ascent each) climbed in the interval.",
       keywords=("stairs", "elevation")),
    _a("active_energy", "Active energy", IV, "kcal", Rollup.SUM, 0, 15_000,
       "Energy burned by activity above the resting metabolism, in kilocalories.",
       keywords=("active calories", "calories burned", "kcal")),
    _a("total_energy", "Total energy", IV, "kcal", Rollup.SUM, 0, 25_000,
       "Total energy expenditure (resting plus active), in kilocalories.",
       keywords=("total calories", "calories out", "tdee")),
    _a("basal_energy", "Basal energy", IV, "kcal", Rollup.SUM, 0, 10_000,
       "Energy burned by the resting (basal) metabolism, in kilocalories.",
       keywords=("bmr", "resting calories", "basal metabolic rate")),
    _a("sedentary_duration", "Sedentary time", IV, "min", Rollup.SUM, 0, 1_440,
       "Minutes spent sedentary (sitting or lying awake, little movement).",
       keywords=("inactive", "sitting")),
    _a("light_activity_duration", "Light activity time", IV, "min", Rollup.SUM, 0, 1_440,
       "Minutes of light-intensity activity.", keywords=("low intensity", "lightly active")),
    _a("moderate_activity_duration", "Moderate activity time", IV, "min", Rollup.SUM, 0, 1_440,
       "Minutes of moderate-intensity activity.",
       keywords=("intensity minutes", "fairly active", "medium")),
    _a("vigorous_activity_duration", "Vigorous activity time", IV, "min", Rollup.SUM, 0, 1_440,
       "Minutes of vigorous (high) intensity activity.",
       keywords=("intensity minutes", "very active", "high intensity")),
    _a("activity_score", "Activity score", D, "{score}", Rollup.LAST, 0, 100,
       "The vendor's 0-100 score of how active the day was.", keywords=("oura",)),
    *(
        _a(f"heart_rate_zone_{n}_duration", f"Heart-rate zone {n} time", IV, "min",
           Rollup.SUM, 0, 1_440,
           f"Minutes spent in heart-rate zone {n} (0 = below the lowest training zone).",
           keywords=("hr zones", "training zones", f"zone {_ZONE_WORDS[n]}"))
        for n in range(6)
    ),
    _a("workout_duration", "Workout duration", X, "min", Rollup.SUM, 0, 1_440,
       "Duration of one workout, in minutes.", keywords=("exercise", "training", "sport")),
    _a("workout_energy", "Workout energy", X, "kcal", Rollup.SUM, 0, 10_000,
       "Energy burned during one workout, in kilocalories.",
       keywords=("exercise calories", "training")),
    _a("workout_distance", "Workout distance", X, "m", Rollup.SUM, 0, 500_000,
       "Distance covered during one workout, in metres.", keywords=("run", "ride", "swim")),
    _a("workout_elevation_gain", "Workout elevation gain", X, "m", Rollup.SUM, 0, 10_000,
       "Total ascent during one workout, in metres.", keywords=("climb", "altitude")),
    _a("workout_average_heart_rate", "Workout average heart rate", X, "/min",
       Rollup.DURATION_WEIGHTED_MEAN, 25, 250,
       "Average heart rate during one workout, in beats per minute.",
       keywords=("exercise hr", "bpm", "pulse")),
    _a("workout_max_heart_rate", "Workout max heart rate", X, "/min", Rollup.MAX, 25, 250,
       "Highest heart rate during one workout, in beats per minute.",
       keywords=("exercise hr", "bpm", "peak")),
    _a("workout_strain", "Workout strain", X, "{score}", Rollup.MAX, 0, 21,
       "Cardiovascular strain of one workout on WHOOP's 0-21 scale.", keywords=("whoop", "load")),
)
# fmt: on
