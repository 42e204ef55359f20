"""Apple Health exports, golden: records written as the Health app's export.xml writes them
(HealthKit type identifiers, `YYYY-MM-DD hh:mm:ss +hhmm` dates in the record's own offset,
units per record), parsed and formatted, against values computed by hand; offsets far from
UTC, a night across midnight, a night across a DST change, naps, workouts of both export
generations, sources by device, and every type mapped or ignored with a reason."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from indicators.aggregate import local_day
from providers.apple_health import AppleHealthProvider
from providers.apple_health.export import read_export
from providers.apple_health.types import IGNORED_TYPES, MAPPED_TYPES, QUANTITY_TYPES
from providers.raw import make_record, raw_frame
from providers.sandbox.apple_health import write_export
from providers.sandbox.physiology import PERSONS, day_truth

USER = "00000000-0000-0000-0000-0000000000a1"
WATCH = (
    'sourceName="Ada&#8217;s Apple Watch" sourceVersion="11.2" device="&lt;&lt;HKDevice: '
    "0x283e1c0a0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
    'hardware:Watch7,1, software:11.2&gt;"'
)
PHONE = (
    'sourceName="iPhone" sourceVersion="18.2" device="&lt;&lt;HKDevice: 0x283e1c1e0&gt;, '
    "name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone16,1, "
    'software:18.2&gt;"'
)
SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
V = "HKCategoryValueSleepAnalysis"


def export(body: str, exported: str = "2025-04-01 09:00:00 +0200") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [\n'
        "<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>\n"
        ']>\n<HealthData locale="en_GB">\n'
        f' <ExportDate value="{exported}"/>\n'
        ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-05-01"/>\n'
        f"{body}</HealthData>\n"
    ).encode()


def record(
    hk_type: str,
    source: str,
    start: str,
    end: str,
    value: object,
    unit: str | None = None,
    inner: str = "",
) -> str:
    unit_attr = f' unit="{unit}"' if unit else ""
    attrs = (
        f'type="{hk_type}" {source}{unit_attr} creationDate="{end}" startDate="{start}" '
        f'endDate="{end}" value="{value}"'
    )
    return f" <Record {attrs}>{inner}</Record>\n" if inner else f" <Record {attrs}/>\n"


def formatted(xml: bytes):
    summary, docs = read_export(io.BytesIO(xml))
    docs = list(docs)
    raw = raw_frame(
        make_record("apple_health", USER, d.record_type, d.vendor_id, d.version, d.day, d.payload)
        for d in docs
    )
    result = AppleHealthProvider.from_settings(None).format_isolated(raw)
    return summary, docs, result


def rows_of(result, indicator: str) -> list[dict]:
    return result.rows.filter(pl.col("indicator") == indicator).sort("time").to_dicts()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_quantities_keep_their_own_offsets_units_and_sources():
    q = "HKQuantityTypeIdentifier"
    body = "".join(
        [
            # Nepal, +05:45: two samples of one source starting together add up
            record(
                q + "StepCount",
                WATCH,
                "2025-03-30 07:12:00 +0545",
                "2025-03-30 07:18:00 +0545",
                420,
                "count",
                '<MetadataEntry key="HKMetadataKeySyncVersion" value="2"/>',
            ),
            record(
                q + "StepCount",
                WATCH,
                "2025-03-30 07:12:00 +0545",
                "2025-03-30 07:14:00 +0545",
                30,
                "count",
            ),
            record(
                q + "StepCount",
                PHONE,
                "2025-03-30 07:12:00 +0545",
                "2025-03-30 07:19:00 +0545",
                380,
                "count",
            ),
            # Marquesas, -09:30: miles
            record(
                q + "DistanceWalkingRunning",
                WATCH,
                "2025-03-30 07:00:00 -0930",
                "2025-03-30 07:40:00 -0930",
                2,
                "mi",
            ),
            record(
                q + "HeartRate",
                PHONE,
                "2025-03-30 07:00:00 -0930",
                "2025-03-30 07:00:00 -0930",
                64,
                "count/min",
            ),
            # Kiribati, +14:00: Fahrenheit, the day before in UTC
            record(
                q + "BodyTemperature",
                'sourceName="Thermometer"',
                "2025-03-30 06:00:00 +1400",
                "2025-03-30 06:00:00 +1400",
                98.6,
                "degF",
            ),
            record(
                q + "BodyMass",
                'sourceName="Withings"',
                "2025-03-30 07:30:00 +0200",
                "2025-03-30 07:30:00 +0200",
                150,
                "lb",
            ),
            record(
                q + "BodyFatPercentage",
                'sourceName="Withings"',
                "2025-03-30 07:30:00 +0200",
                "2025-03-30 07:30:00 +0200",
                0.215,
                "%",
            ),
            record(
                q + "OxygenSaturation",
                WATCH,
                "2025-03-30 03:10:00 +0200",
                "2025-03-30 03:10:00 +0200",
                0.97,
                "%",
            ),
            record(
                q + "VO2Max",
                WATCH,
                "2025-03-30 18:00:00 +0200",
                "2025-03-30 18:00:00 +0200",
                45.2,
                "mL/min·kg",
            ),
            record(
                q + "HeartRateVariabilitySDNN",
                WATCH,
                "2025-03-30 02:00:00 +0200",
                "2025-03-30 02:01:00 +0200",
                48.5,
                "ms",
                '<HeartRateVariabilityMetadataList><InstantaneousBeatsPerMinute bpm="55" '
                'time="2:00:03.45 AM"/></HeartRateVariabilityMetadataList>',
            ),
        ]
    )
    _, _, result = formatted(export(body))
    assert result.failures.height == 0
    steps = sorted(rows_of(result, "steps"), key=lambda r: r["source"])
    assert [
        (r["source"], r["value"], r["time"], r["end_time"], r["tz_offset_s"]) for r in steps
    ] == [
        ("apple_health.iphone", 380.0, utc(2025, 3, 30, 1, 27), utc(2025, 3, 30, 1, 34), 20700),
        ("apple_health.watch", 450.0, utc(2025, 3, 30, 1, 27), utc(2025, 3, 30, 1, 33), 20700),
    ]
    (distance,) = rows_of(result, "distance")
    assert distance["value"] == pytest.approx(3218.688)
    assert (distance["time"], distance["tz_offset_s"]) == (utc(2025, 3, 30, 16, 30), -34200)
    (heart,) = rows_of(result, "heart_rate")
    assert (heart["source"], heart["value"], heart["end_time"]) == (
        "apple_health.iphone",
        64.0,
        None,
    )
    (temperature,) = rows_of(result, "body_temperature")
    assert temperature["value"] == pytest.approx(37.0)
    assert (temperature["time"], temperature["tz_offset_s"]) == (utc(2025, 3, 29, 16), 50400)
    assert temperature["source"] == "apple_health.thermometer"
    (weight,) = rows_of(result, "weight")
    assert weight["value"] == pytest.approx(68.0388555) and weight["source"] == (
        "apple_health.withings"
    )
    assert rows_of(result, "body_fat_percentage")[0]["value"] == pytest.approx(21.5)
    assert rows_of(result, "spo2")[0]["value"] == pytest.approx(97.0)
    assert rows_of(result, "vo2max")[0]["value"] == pytest.approx(45.2)
    assert rows_of(result, "hrv_sdnn")[0]["value"] == pytest.approx(48.5)
    assert set(result.rows.get_column("unit")) >= {"{steps}", "m", "/min", "Cel", "kg", "%"}


def _night(tz: str) -> str:
    s = WATCH
    return "".join(
        [
            record(SLEEP, s, f"2025-03-29 22:40:00 {tz}", f"2025-03-29 22:55:00 {tz}", V + "Awake"),
            record(
                SLEEP, s, f"2025-03-29 22:55:00 {tz}", f"2025-03-30 00:55:00 {tz}", V + "AsleepCore"
            ),
            record(
                SLEEP, s, f"2025-03-30 00:55:00 {tz}", f"2025-03-30 02:25:00 {tz}", V + "AsleepDeep"
            ),
            record(
                SLEEP, s, f"2025-03-30 02:25:00 {tz}", f"2025-03-30 03:25:00 {tz}", V + "AsleepREM"
            ),
            record(
                SLEEP, s, f"2025-03-30 03:25:00 {tz}", f"2025-03-30 06:30:00 {tz}", V + "AsleepCore"
            ),
            record(SLEEP, s, f"2025-03-30 06:30:00 {tz}", f"2025-03-30 06:50:00 {tz}", V + "Awake"),
            # an afternoon nap the same day: a nap, not part of the night
            record(
                SLEEP,
                s,
                f"2025-03-30 14:00:00 {tz}",
                f"2025-03-30 14:40:00 {tz}",
                V + "AsleepUnspecified",
            ),
        ]
    )


def _values(result) -> dict[str, float]:
    return {r["indicator"]: r["value"] for r in result.rows.to_dicts()}


@pytest.mark.parametrize("tz", ["+0545", "-0930", "+1400"])
def test_a_night_across_midnight_counts_for_its_wake_up_day(tz: str):
    _, docs, result = formatted(export(_night(tz)))
    assert [d.vendor_id for d in docs] == [f"{SLEEP}:2025-03-30"]  # one night, one document
    assert result.failures.height == 0
    values = _values(result)
    assert values == {
        "sleep_duration_in_bed": 490.0,
        "sleep_duration_asleep": 455.0,
        "sleep_duration_light": 305.0,
        "sleep_duration_deep": 90.0,
        "sleep_duration_rem": 60.0,
        "sleep_duration_awake": 35.0,
        "sleep_start": -80.0,
        "sleep_end": 410.0,
        "nap_duration": 40.0,
    }
    days = result.rows.with_columns(local_day().alias("day")).get_column("day").unique()
    assert days.to_list() == [date(2025, 3, 30)]


def test_a_night_across_the_dst_change_wakes_on_the_wall_clock():
    # Europe/Berlin, 30 March 2025: 02:00 +0100 became 03:00 +0200 during the night
    body = "".join(
        [
            record(
                SLEEP,
                WATCH,
                "2025-03-29 23:00:00 +0100",
                "2025-03-30 01:30:00 +0100",
                V + "AsleepCore",
            ),
            record(
                SLEEP,
                WATCH,
                "2025-03-30 01:30:00 +0100",
                "2025-03-30 03:30:00 +0200",
                V + "AsleepDeep",
            ),
            record(
                SLEEP,
                WATCH,
                "2025-03-30 03:30:00 +0200",
                "2025-03-30 07:00:00 +0200",
                V + "AsleepCore",
            ),
        ]
    )
    _, _, result = formatted(export(body))
    values = _values(result)
    assert (values["sleep_duration_light"], values["sleep_duration_deep"]) == (360.0, 60.0)
    assert values["sleep_duration_in_bed"] == 420.0  # 22:00Z..05:00Z
    assert (values["sleep_start"], values["sleep_end"]) == (-60.0, 420.0)  # 23:00, 07:00


def test_workouts_of_both_export_generations():
    start, end = "2025-03-30 07:00:00 +0200", "2025-03-30 07:30:00 +0200"
    running = (
        f' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" '
        f'durationUnit="min" totalDistance="3.1" totalDistanceUnit="mi" '
        f'totalEnergyBurned="1255" totalEnergyBurnedUnit="kJ" {WATCH} '
        f'creationDate="{end}" startDate="{start}" endDate="{end}">\n'
        '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n </Workout>\n'
    )
    c_start, c_end = "2025-03-30 17:00:00 +0200", "2025-03-30 17:45:30 +0200"
    cycling = (
        f' <Workout workoutActivityType="HKWorkoutActivityTypeCycling" duration="45.5" '
        f'durationUnit="min" {WATCH} creationDate="{c_end}" startDate="{c_start}" '
        f'endDate="{c_end}">\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" '
        f'startDate="{c_start}" endDate="{c_end}" sum="410" unit="kcal"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceCycling" '
        f'startDate="{c_start}" endDate="{c_end}" sum="18.2" unit="km"/>\n'
        '  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" '
        f'startDate="{c_start}" endDate="{c_end}" average="141" unit="count/min"/>\n'
        " </Workout>\n"
    )
    _, _, result = formatted(export(running + cycling))
    assert result.failures.height == 0
    by = {(r["indicator"], r["time"]): r["value"] for r in result.rows.to_dicts()}
    run, ride = utc(2025, 3, 30, 5), utc(2025, 3, 30, 15)
    assert by[("workout_duration", run)] == 30.0
    assert by[("workout_distance", run)] == pytest.approx(3.1 * 1609.344)
    assert by[("workout_energy", run)] == pytest.approx(1255 / 4.184)
    assert by[("workout_duration", ride)] == 45.5
    assert by[("workout_energy", ride)] == pytest.approx(410.0)
    assert by[("workout_distance", ride)] == pytest.approx(18200.0)


def test_ignored_and_unlisted_types_are_counted_not_stored():
    body = "".join(
        [
            record(
                "HKQuantityTypeIdentifierAppleStandTime",
                WATCH,
                "2025-03-30 10:00:00 +0200",
                "2025-03-30 10:05:00 +0200",
                5,
                "min",
            ),
            record(
                "HKQuantityTypeIdentifierSomethingNew",
                WATCH,
                "2025-03-30 10:00:00 +0200",
                "2025-03-30 10:05:00 +0200",
                5,
                "count",
            ),
            ' <ActivitySummary dateComponents="2025-03-30" activeEnergyBurned="450"/>\n',
            ' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Omron" '
            'startDate="2025-03-30 08:00:00 +0200" endDate="2025-03-30 08:00:00 +0200">'
            + record(
                "HKQuantityTypeIdentifierBloodPressureSystolic",
                'sourceName="Omron"',
                "2025-03-30 08:00:00 +0200",
                "2025-03-30 08:00:00 +0200",
                121,
                "mmHg",
            )
            + "</Correlation>\n",
            record(
                "HKQuantityTypeIdentifierBloodPressureSystolic",
                'sourceName="Omron"',
                "2025-03-30 08:00:00 +0200",
                "2025-03-30 08:00:00 +0200",
                121,
                "mmHg",
            ),
        ]
    )
    summary, docs, result = formatted(export(body))
    assert dict(summary.ignored) == {
        "HKQuantityTypeIdentifierAppleStandTime": 1,
        "ActivitySummary": 1,
        "Me": 1,
        "HKCorrelationTypeIdentifierBloodPressure": 1,
    }
    assert dict(summary.unlisted) == {"HKQuantityTypeIdentifierSomethingNew": 1}
    assert [d.record_type for d in docs] == ["HKQuantityTypeIdentifierBloodPressureSystolic"]
    (bp,) = result.rows.to_dicts()  # the Correlation's copy is not counted twice
    assert (bp["indicator"], bp["value"], bp["source"]) == (
        "blood_pressure_systolic",
        121.0,
        "apple_health.omron",
    )


def test_every_type_is_mapped_or_ignored_and_every_record_field_is_known():
    assert not (set(MAPPED_TYPES) & set(IGNORED_TYPES))
    assert all(reason for reason in IGNORED_TYPES.values())
    mappings = AppleHealthProvider.mappings
    assert set(mappings) == set(MAPPED_TYPES)
    out = io.StringIO()
    write_export(out, PERSONS["ada"], date(2025, 3, 1), date(2025, 3, 7))
    _, docs = read_export(io.BytesIO(out.getvalue().encode()))
    for doc in docs:
        known = mappings[doc.record_type].known_paths()
        keys = set(doc.payload) | {f"records.{k}" for r in doc.payload["records"] for k in r}
        assert keys <= known | {"records"}, (doc.record_type, keys - known)
    for spec in QUANTITY_TYPES.values():
        assert spec.units


def test_the_sandbox_export_gives_the_physiology():
    ada = PERSONS["ada"]
    out = io.StringIO()
    write_export(out, ada, date(2025, 2, 10), date(2025, 2, 16))
    _, _, result = formatted(out.getvalue().encode())
    assert result.failures.height == 0
    rows = result.rows.with_columns(local_day().alias("day"))
    for day in (date(2025, 2, 10) + timedelta(days=i) for i in range(7)):
        truth = day_truth(ada, day)
        on = rows.filter(pl.col("day") == day)
        values = {
            (r["indicator"], r["source"]): r["value"]
            for r in on.group_by("indicator", "source").agg(pl.col("value").sum()).to_dicts()
        }
        if truth.activity is not None:
            assert values[("steps", "apple_health.watch")] == truth.activity.steps
            assert values[("active_energy", "apple_health.watch")] == pytest.approx(
                truth.activity.active_kcal
            )
        if truth.sleep is not None:
            s = truth.sleep
            assert values[("sleep_duration_deep", "apple_health.watch")] == pytest.approx(
                s.deep_s / 60
            )
            assert values[("sleep_duration_asleep", "apple_health.watch")] == pytest.approx(
                (s.light_s + s.deep_s + s.rem_s) / 60
            )
            assert values[("sleep_duration_awake", "apple_health.watch")] == pytest.approx(
                s.awake_s / 60
            )
            assert values[("resting_heart_rate", "apple_health.watch")] == s.lowest_hr
        if truth.body is not None:
            assert values[("weight", "apple_health.health_mate")] == truth.body.weight_kg


def test_the_daily_merge_prefers_the_watch_and_vendors_linked_directly():
    from indicators.aggregate import daily_summary
    from indicators.quarantine import split_valid
    from providers.priorities import installed_priorities

    q = "HKQuantityTypeIdentifier"
    body = "".join(
        [
            record(
                q + "StepCount",
                PHONE,
                "2025-03-30 12:00:00 +0200",
                "2025-03-30 13:00:00 +0200",
                9000,
                "count",
            ),
            record(
                q + "StepCount",
                WATCH,
                "2025-03-30 12:00:00 +0200",
                "2025-03-30 13:00:00 +0200",
                7000,
                "count",
            ),
            record(
                q + "StepCount",
                'sourceName="Oura"',
                "2025-03-30 12:00:00 +0200",
                "2025-03-30 13:00:00 +0200",
                8000,
                "count",
            ),
        ]
    )
    _, _, result = formatted(export(body))
    oura = result.rows.head(1).with_columns(
        pl.lit("oura").alias("source"), pl.lit(7100.0).alias("value")
    )
    valid, _ = split_valid(result.rows)
    (steps,) = daily_summary(valid, installed_priorities()).to_dicts()
    assert (steps["source"], steps["value"]) == ("apple_health.watch", 7000.0)
    valid, _ = split_valid(pl.concat([result.rows, oura]))
    (steps,) = daily_summary(valid, installed_priorities()).to_dicts()
    assert (steps["source"], steps["value"]) == ("oura", 7100.0)


def test_the_reader_s_memory_does_not_grow_with_the_export(tmp_path):
    """A month of records is what the reader holds: four months peak about as one does."""
    import tracemalloc

    from providers.sandbox.apple_health import write_export

    def peak(days: int) -> tuple[int, int]:
        path = tmp_path / f"export-{days}.xml"
        with path.open("w", encoding="utf-8") as out:
            write_export(
                out, PERSONS["ada"], date(2025, 1, 1), date(2025, 1, 1) + timedelta(days=days - 1)
            )
        tracemalloc.start()
        with path.open("rb") as stream:
            _, docs = read_export(stream, tmp_path)
            n = sum(len(d.payload["records"]) for d in docs)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top, n

    small, n_small = peak(31)
    large, n_large = peak(124)
    assert n_large > 3.5 * n_small
    assert large < 1.5 * small, (small, large)


def test_a_truncated_export_keeps_what_was_read_and_says_where_it_stopped():
    from providers.apple_health.export import ExportFormatError

    q = "HKQuantityTypeIdentifier"
    whole = export(
        record(
            q + "StepCount",
            WATCH,
            "2025-03-30 07:00:00 +0200",
            "2025-03-30 08:00:00 +0200",
            500,
            "count",
        )
        + record(
            q + "StepCount",
            WATCH,
            "2025-03-31 07:00:00 +0200",
            "2025-03-31 08:00:00 +0200",
            600,
            "count",
        )
    )
    cut = whole[: whole.index(b"2025-03-31 08:00:00") + 5]  # inside the second record
    summary, docs = read_export(io.BytesIO(cut))
    assert [d.vendor_id for d in docs] == [f"{q}StepCount:2025-03-30"]
    assert summary.error is not None and "well-formed" in summary.error
    with pytest.raises(ExportFormatError):
        read_export(io.BytesIO(b"PK\x03\x04 not xml at all"))
