"""The indicator_values contract check reads the fact files (the table is Parquet now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mirobody_assets.pipeline.checks import indicator_values_contract
from mirobody_assets.pipeline.resources import MirobodyResource
from tests.support.facts import write_values

USER = "00000000-0000-4000-8000-0000000000aa"


def _rows(unit: str) -> list[dict[str, object]]:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return [
        {
            "indicator": "heart_rate",
            "source": "oura",
            "time": now - timedelta(minutes=m),
            "day": (now - timedelta(minutes=m)).date(),
            "value": 60.0,
            "unit": unit,
            "record_id": "r1",
        }
        for m in range(3)
    ]


def test_the_contract_check_passes_on_good_files_and_names_a_wrong_unit(
    database_url: str, tmp_path: Path
) -> None:
    mirobody = MirobodyResource(database_url=database_url, data_dir=str(tmp_path))
    write_values(tmp_path, USER, _rows("/min"))
    good = indicator_values_contract(mirobody=mirobody)
    assert good.passed and good.metadata["rows_checked"].value == 3
    write_values(tmp_path, USER, _rows("bpm"))  # not the catalogue's standard unit
    bad = indicator_values_contract(mirobody=mirobody)
    assert not bad.passed and bad.metadata["by_reason"].value == {"wrong_unit": 3}
