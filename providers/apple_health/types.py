"""Which HealthKit types of an export are mapped, and which are ignored and why.

Identifiers and units are those of Apple's `export.xml` (HealthKit type identifiers; the
export writes each sample in the unit the Health app displays, e.g. `km` or `mi`). Every type
is either here or in IGNORED_TYPES; a type in neither is counted as unlisted by the import."""

from __future__ import annotations

from dataclasses import dataclass

QUANTITY = "HKQuantityTypeIdentifier"
CATEGORY = "HKCategoryTypeIdentifier"
SLEEP_TYPE = CATEGORY + "SleepAnalysis"
MINDFUL_TYPE = CATEGORY + "MindfulSession"
WORKOUT_TYPE = "Workout"


@dataclass(frozen=True)
class QuantityType:
    """One HealthKit quantity type mapped to one catalogue indicator.

    `units`: the export's unit string -> the unit the converter reads ("%" is a fraction in
    the export: 0.97, so it reads as a ratio). `cumulative`: samples cover an interval and
    add up (steps); others are readings (heart rate)."""

    indicator: str
    units: dict[str, str]
    cumulative: bool = False


_COUNT_MIN = {"count/min": "/min"}
_ENERGY = {"kcal": "kcal", "Cal": "kcal", "kJ": "kJ"}
_DISTANCE = {"km": "km", "m": "m", "mi": "[mi_i]", "ft": "[ft_i]"}
_MASS = {"kg": "kg", "lb": "[lb_av]", "g": "g", "st": "[stone_av]"}
_TEMPERATURE = {"degC": "Cel", "degF": "[degF]"}

QUANTITY_TYPES: dict[str, QuantityType] = {
    QUANTITY + "StepCount": QuantityType("steps", {"count": "{steps}"}, cumulative=True),
    QUANTITY + "DistanceWalkingRunning": QuantityType("distance", _DISTANCE, cumulative=True),
    QUANTITY + "FlightsClimbed": QuantityType(
        "floors_climbed", {"count": "{floors}"}, cumulative=True
    ),
    QUANTITY + "ActiveEnergyBurned": QuantityType("active_energy", _ENERGY, cumulative=True),
    QUANTITY + "BasalEnergyBurned": QuantityType("basal_energy", _ENERGY, cumulative=True),
    QUANTITY + "HeartRate": QuantityType("heart_rate", _COUNT_MIN),
    QUANTITY + "RestingHeartRate": QuantityType("resting_heart_rate", _COUNT_MIN),
    QUANTITY + "HeartRateVariabilitySDNN": QuantityType("hrv_sdnn", {"ms": "ms"}),
    QUANTITY + "OxygenSaturation": QuantityType("spo2", {"%": "ratio"}),
    QUANTITY + "RespiratoryRate": QuantityType("respiratory_rate", _COUNT_MIN),
    QUANTITY + "BodyMass": QuantityType("weight", _MASS),
    QUANTITY + "BodyFatPercentage": QuantityType("body_fat_percentage", {"%": "ratio"}),
    QUANTITY + "LeanBodyMass": QuantityType("fat_free_mass", _MASS),
    QUANTITY + "BodyMassIndex": QuantityType("bmi", {"count": "kg/m2"}),
    QUANTITY + "Height": QuantityType(
        "height", {"cm": "cm", "m": "m", "ft": "[ft_i]", "in": "[in_i]"}
    ),
    QUANTITY + "BloodPressureSystolic": QuantityType("blood_pressure_systolic", {"mmHg": "mm[Hg]"}),
    QUANTITY + "BloodPressureDiastolic": QuantityType(
        "blood_pressure_diastolic", {"mmHg": "mm[Hg]"}
    ),
    QUANTITY + "VO2Max": QuantityType(
        "vo2max", {"mL/min·kg": "mL/(kg.min)", "ml/(kg*min)": "mL/(kg.min)"}
    ),
    QUANTITY + "BodyTemperature": QuantityType("body_temperature", _TEMPERATURE),
    # The watch's nightly wrist temperature: an absolute reading (the Health app shows its
    # deviation from the baseline, the export the reading itself).
    QUANTITY + "AppleSleepingWristTemperature": QuantityType("skin_temperature", _TEMPERATURE),
    QUANTITY + "BloodGlucose": QuantityType("blood_glucose", {"mg/dL": "mg/dL"}),
}

# Sleep analysis values (HKCategoryValueSleepAnalysis) -> stage. `Asleep` is the pre-iOS 16
# value, `AsleepUnspecified` its successor: asleep, stage unknown.
SLEEP_STAGES: dict[str, str] = {
    "HKCategoryValueSleepAnalysisInBed": "in_bed",
    "HKCategoryValueSleepAnalysisAsleep": "asleep",
    "HKCategoryValueSleepAnalysisAsleepUnspecified": "asleep",
    "HKCategoryValueSleepAnalysisAsleepCore": "core",
    "HKCategoryValueSleepAnalysisAsleepDeep": "deep",
    "HKCategoryValueSleepAnalysisAsleepREM": "rem",
    "HKCategoryValueSleepAnalysisAwake": "awake",
}

_NO_HOME = "no catalogue indicator"
IGNORED_TYPES: dict[str, str] = {
    QUANTITY + "WalkingHeartRateAverage": "Apple's average of walking readings: "
    "not the day's average heart rate",
    QUANTITY + "HeartRateRecoveryOneMinute": _NO_HOME,
    QUANTITY + "DistanceCycling": "cycling distance: workouts carry it (workout_distance); "
    "adding it to walking distance would mix two measures",
    QUANTITY + "DistanceSwimming": "swimming distance: workouts carry it",
    QUANTITY + "DistanceWheelchair": _NO_HOME,
    QUANTITY + "DistanceDownhillSnowSports": "workouts carry it",
    QUANTITY + "SwimmingStrokeCount": _NO_HOME,
    QUANTITY + "PushCount": _NO_HOME,
    QUANTITY + "AppleExerciseTime": "Apple's exercise-ring minutes: workouts are mapped",
    QUANTITY + "AppleStandTime": "stand-ring minutes: " + _NO_HOME,
    QUANTITY + "AppleMoveTime": "move-ring minutes: " + _NO_HOME,
    QUANTITY + "WalkingSpeed": "gait metric: " + _NO_HOME,
    QUANTITY + "WalkingStepLength": "gait metric: " + _NO_HOME,
    QUANTITY + "WalkingDoubleSupportPercentage": "gait metric: " + _NO_HOME,
    QUANTITY + "WalkingAsymmetryPercentage": "gait metric: " + _NO_HOME,
    QUANTITY + "AppleWalkingSteadiness": "gait metric: " + _NO_HOME,
    QUANTITY + "StairAscentSpeed": "gait metric: " + _NO_HOME,
    QUANTITY + "StairDescentSpeed": "gait metric: " + _NO_HOME,
    QUANTITY + "SixMinuteWalkTestDistance": "an estimate: " + _NO_HOME,
    QUANTITY + "RunningSpeed": "workout metric: " + _NO_HOME,
    QUANTITY + "RunningPower": "workout metric: " + _NO_HOME,
    QUANTITY + "RunningStrideLength": "workout metric: " + _NO_HOME,
    QUANTITY + "RunningVerticalOscillation": "workout metric: " + _NO_HOME,
    QUANTITY + "RunningGroundContactTime": "workout metric: " + _NO_HOME,
    QUANTITY + "CyclingSpeed": "workout metric: " + _NO_HOME,
    QUANTITY + "CyclingPower": "workout metric: " + _NO_HOME,
    QUANTITY + "CyclingCadence": "workout metric: " + _NO_HOME,
    QUANTITY + "PhysicalEffort": "Apple's effort estimate: " + _NO_HOME,
    QUANTITY + "TimeInDaylight": _NO_HOME,
    QUANTITY + "EnvironmentalAudioExposure": "noise exposure: " + _NO_HOME,
    QUANTITY + "EnvironmentalSoundReduction": "noise exposure: " + _NO_HOME,
    QUANTITY + "HeadphoneAudioExposure": "noise exposure: " + _NO_HOME,
    QUANTITY + "WaistCircumference": _NO_HOME,
    QUANTITY + "AppleSleepingBreathingDisturbances": "Apple's own disturbance score: "
    "not the AHI-like index of the catalogue",
    QUANTITY + "NumberOfTimesFallen": _NO_HOME,
    QUANTITY + "ElectrodermalActivity": _NO_HOME,
    QUANTITY + "PeripheralPerfusionIndex": _NO_HOME,
    QUANTITY + "InhalerUsage": _NO_HOME,
    QUANTITY + "InsulinDelivery": _NO_HOME,
    QUANTITY + "BloodAlcoholContent": _NO_HOME,
    QUANTITY + "UVExposure": _NO_HOME,
    QUANTITY + "WaterTemperature": "not a body measurement",
    QUANTITY + "UnderwaterDepth": "not a body measurement",
    QUANTITY + "DietaryWater": "nutrition: " + _NO_HOME,
    QUANTITY + "DietaryEnergyConsumed": "nutrition: " + _NO_HOME,
    QUANTITY + "DietaryCaffeine": "nutrition: " + _NO_HOME,
    QUANTITY + "DietaryProtein": "nutrition: " + _NO_HOME,
    QUANTITY + "DietaryCarbohydrates": "nutrition: " + _NO_HOME,
    QUANTITY + "DietaryFatTotal": "nutrition: " + _NO_HOME,
    QUANTITY + "DietarySugar": "nutrition: " + _NO_HOME,
    CATEGORY + "AppleStandHour": "stand-ring hours: " + _NO_HOME,
    CATEGORY + "HighHeartRateEvent": "a notification, not a measurement",
    CATEGORY + "LowHeartRateEvent": "a notification, not a measurement",
    CATEGORY + "IrregularHeartRhythmEvent": "a notification, not a measurement",
    CATEGORY + "LowCardioFitnessEvent": "a notification, not a measurement",
    CATEGORY + "AudioExposureEvent": "a notification, not a measurement",
    CATEGORY + "EnvironmentalAudioExposureEvent": "a notification",
    CATEGORY + "HeadphoneAudioExposureEvent": "a notification",
    CATEGORY + "SleepApneaEvent": "a notification (breathing disturbances elevated)",
    CATEGORY + "HandwashingEvent": _NO_HOME,
    CATEGORY + "ToothbrushingEvent": _NO_HOME,
    CATEGORY + "MenstrualFlow": "cycle tracking: " + _NO_HOME,
    CATEGORY + "IntermenstrualBleeding": "cycle tracking: " + _NO_HOME,
    CATEGORY + "OvulationTestResult": "cycle tracking: " + _NO_HOME,
    CATEGORY + "SexualActivity": "personal data: " + _NO_HOME,
    CATEGORY + "Headache": "symptom log: " + _NO_HOME,
    CATEGORY + "Fatigue": "symptom log: " + _NO_HOME,
    CATEGORY + "MoodChanges": "symptom log: " + _NO_HOME,
    "HKDataTypeSleepDurationGoal": "a goal, not a measurement",
    "HKCorrelationTypeIdentifierBloodPressure": "its two Records are also written at the "
    "top level, where they are mapped",
    "HKCorrelationTypeIdentifierFood": "nutrition: " + _NO_HOME,
    "ActivitySummary": "the day's ring totals re-count the Records (active energy, exercise "
    "minutes) and add goals: mapping both would double the day",
    "Me": "personal characteristics (birth date, sex, blood type): never indicator values",
    "ClinicalRecord": "FHIR clinical documents, outside this catalogue",
    "Audiogram": "hearing test: " + _NO_HOME,
    "VisionPrescription": _NO_HOME,
}

# The HKQuantityTypeIdentifierHeartRate family is big; a mindful session is a duration.
CATEGORY_TYPES = (SLEEP_TYPE, MINDFUL_TYPE)
MAPPED_TYPES = frozenset([*QUANTITY_TYPES, *CATEGORY_TYPES, WORKOUT_TYPE])
