"""Every field the vendor notes list for a record type is mapped or ignored with a reason
(the golden tests check the notes' sample payloads; these lists are the notes' field lists)."""

from __future__ import annotations

import pytest

from tests.support.documents import nested

DOCUMENTED = {
    ("garmin", "dailies"): "summaryId calendarDate startTimeInSeconds startTimeOffsetInSeconds "
    "durationInSeconds activityType steps pushes distanceInMeters pushDistanceInMeters "
    "activeTimeInSeconds activeKilocalories bmrKilocalories moderateIntensityDurationInSeconds "
    "vigorousIntensityDurationInSeconds floorsClimbed minHeartRateInBeatsPerMinute "
    "averageHeartRateInBeatsPerMinute maxHeartRateInBeatsPerMinute "
    "restingHeartRateInBeatsPerMinute timeOffsetHeartRateSamples averageStressLevel "
    "maxStressLevel stressDurationInSeconds restStressDurationInSeconds "
    "activityStressDurationInSeconds lowStressDurationInSeconds mediumStressDurationInSeconds "
    "highStressDurationInSeconds stressQualifier bodyBatteryChargedValue "
    "bodyBatteryDrainedValue stepsGoal pushesGoal intensityDurationGoalInSeconds "
    "floorsClimbedGoal",
    ("garmin", "sleeps"): "summaryId calendarDate startTimeInSeconds startTimeOffsetInSeconds "
    "durationInSeconds unmeasurableSleepInSeconds deepSleepDurationInSeconds "
    "lightSleepDurationInSeconds remSleepInSeconds awakeDurationInSeconds sleepLevelsMap "
    "validation timeOffsetSleepRespiration timeOffsetSleepSpo2 overallSleepScore sleepScores "
    "naps totalNapDurationInSeconds",
    ("garmin", "stressDetails"): "summaryId calendarDate startTimeInSeconds "
    "startTimeOffsetInSeconds durationInSeconds timeOffsetStressLevelValues "
    "timeOffsetBodyBatteryValues bodyBatteryDynamicFeedbackEvent bodyBatteryActivityEvents",
    ("withings", "activity"): "date timezone deviceid hash_deviceid brand is_tracker modified "
    "model modelid steps distance elevation soft moderate intense active calories "
    "totalcalories hr_average hr_min hr_max hr_zone_0 hr_zone_1 hr_zone_2 hr_zone_3",
    # the OpenAPI spec's sleep_summary_object
    ("withings", "sleep"): "id timezone model model_id startdate enddate date created modified "
    "hash_deviceid completed data.total_timeinbed data.total_sleep_time data.asleepduration "
    "data.lightsleepduration data.remsleepduration data.deepsleepduration "
    "data.sleep_efficiency data.sleep_latency data.wakeup_latency data.wakeupduration "
    "data.wakeupcount data.waso data.nb_rem_episodes data.durationtosleep "
    "data.durationtowakeup data.out_of_bed_count data.hr_average data.hr_min data.hr_max "
    "data.rr_average data.rr_min data.rr_max data.breathing_quality_assessment "
    "data.breathing_disturbances_intensity data.snoring data.snoringepisodecount "
    "data.sleep_score data.night_events data.apnea_hypopnea_index data.mvt_score_avg "
    "data.mvt_active_duration data.rmssd_start_avg data.rmssd_end_avg "
    "data.chest_movement_rate_wellness_average data.chest_movement_rate_wellness_min "
    "data.chest_movement_rate_wellness_max data.withings_index data.breathing_sounds "
    "data.breathing_sounds_episode_count data.chest_movement_rate_average "
    "data.chest_movement_rate_min data.chest_movement_rate_max "
    "data.core_body_temperature_min data.core_body_temperature_max "
    "data.core_body_temperature_avg data.core_body_temperature_status",
    ("oura", "sleep"): "id day type period bedtime_start bedtime_end time_in_bed "
    "total_sleep_duration awake_time light_sleep_duration deep_sleep_duration "
    "rem_sleep_duration latency efficiency average_breath average_heart_rate "
    "lowest_heart_rate average_hrv heart_rate hrv movement_30_sec sleep_phase_5_min "
    "sleep_phase_30_sec app_sleep_phase_5_min readiness readiness_score_delta "
    "sleep_score_delta restless_periods low_battery_alert sleep_algorithm_version "
    "sleep_analysis_reason ring_id",
    ("oura", "daily_readiness"): "id day score timestamp temperature_deviation "
    "temperature_trend_deviation contributors",
    ("polar", "nightly-recharge"): "polar_user date heart_rate_avg beat_to_beat_avg "
    "heart_rate_variability_avg breathing_rate_avg nightly_recharge_status ans_charge "
    "ans_charge_status hrv_samples breathing_samples",
    ("polar", "physical-info"): "weight height created modified birthday gender "
    "maximum_heart_rate resting_heart_rate aerobic_threshold anaerobic_threshold vo2_max "
    "weight_source training_background typical_day sleep_goal maximum-heart-rate "
    "resting-heart-rate aerobic-threshold anaerobic-threshold vo2-max weight-source",
}


@pytest.mark.parametrize(("slug", "record_type"), sorted(DOCUMENTED))
def test_documented_fields_are_mapped_or_ignored(fmt, coverage, slug, record_type):
    doc = nested(DOCUMENTED[slug, record_type])
    mapping = fmt.provider(slug).mappings[record_type]
    assert coverage(mapping.known_paths(), doc) == set()
    assert all(reason for reason in mapping.ignored.values())
