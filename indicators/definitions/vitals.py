"""Vital signs: blood oxygen, breathing, temperature, blood pressure and glucose."""

from functools import partial

from indicators.model import Category, DayAnchor, Indicator, Kind, Rollup

S, D, X = Kind.SAMPLE, Kind.DAILY, Kind.SESSION
_resp = partial(Indicator, category=Category.RESPIRATORY)
_temp = partial(Indicator, category=Category.TEMPERATURE)
_bp = partial(Indicator, category=Category.BLOOD_PRESSURE)
_glu = partial(Indicator, category=Category.GLUCOSE)

# Glucose C6H12O6; 1 mmol/L = 18.016 mg/dL.
GLUCOSE_MOLAR_MASS_G_PER_MOL = 180.156

# Entries are kept compact, like a table: easier to review than one argument per line.
# fmt: off
VITALS: tuple[Indicator, ...] = (
    _resp("spo2", "Blood oxygen (SpO2)", S, "%", Rollup.MEAN, 50, 100,
          "One peripheral blood-oxygen saturation reading, in percent.",
          keywords=("oxygen saturation", "pulse ox", "spo2")),
    _resp("spo2_sleep_average", "Sleep SpO2 average", X, "%", Rollup.DURATION_WEIGHTED_MEAN,
          50, 100, "Average blood-oxygen saturation over a night, in percent.",
          keywords=("oxygen saturation", "night", "spo2"), day_anchor=DayAnchor.END),
    _resp("spo2_lowest", "Lowest SpO2", D, "%", Rollup.MIN, 50, 100,
          "Lowest blood-oxygen saturation of the day or night, in percent.",
          keywords=("oxygen saturation", "desaturation", "spo2")),
    _resp("respiratory_rate", "Respiratory rate", S, "/min", Rollup.MEAN, 4, 60,
          "One breathing-rate reading, in breaths per minute.",
          keywords=("breathing rate", "respiration", "breaths")),
    _resp("breathing_disturbance_index", "Breathing disturbance index", D, "/h",
          Rollup.MEAN, 0, 150,
          "Breathing disturbances per hour of sleep (an apnea-hypopnea-like index).",
          keywords=("apnea", "ahi", "sleep apnea", "bdi")),
    _temp("skin_temperature", "Skin temperature", S, "Cel", Rollup.MEAN, 20, 45,
          "Absolute skin temperature reading, in degrees Celsius.",
          keywords=("temperature", "wrist temperature", "finger temperature")),
    _temp("skin_temperature_deviation", "Skin temperature deviation", D, "Cel", Rollup.MEAN,
          -10, 10, "Nightly skin temperature minus the personal baseline, in degrees Celsius.",
          keywords=("temperature", "baseline", "delta", "relative"), is_delta=True,
          day_anchor=DayAnchor.END),
    _temp("body_temperature", "Body temperature", S, "Cel", Rollup.MEAN, 30, 45,
          "Absolute core or oral body temperature reading, in degrees Celsius.",
          keywords=("temperature", "fever", "core temperature")),
    _bp("blood_pressure_systolic", "Systolic blood pressure", S, "mm[Hg]", Rollup.MEAN, 40, 300,
        "Systolic (upper) arterial blood pressure, in millimetres of mercury.",
        keywords=("blood pressure", "bp", "hypertension")),
    _bp("blood_pressure_diastolic", "Diastolic blood pressure", S, "mm[Hg]", Rollup.MEAN,
        20, 200, "Diastolic (lower) arterial blood pressure, in millimetres of mercury.",
        keywords=("blood pressure", "bp", "hypertension")),
    _bp("pulse_wave_velocity", "Pulse wave velocity", S, "m/s", Rollup.MEAN, 1, 30,
        "Aortic pulse wave velocity, an arterial stiffness measure, in metres per second.",
        keywords=("arterial stiffness", "vascular", "withings")),
    _glu("blood_glucose", "Blood glucose", S, "mg/dL", Rollup.MEAN, 10, 1_000,
         "Blood or interstitial glucose concentration, in milligrams per decilitre.",
         keywords=("glucose", "sugar", "cgm", "diabetes"),
         molar_mass_g_per_mol=GLUCOSE_MOLAR_MASS_G_PER_MOL),
)
# fmt: on
