"""Apple Health export parsing: the streaming reader against a bare iterparse loop.

Writes a generated export (the sandbox person, heart rate every minute) of at least --mb MB,
then, each in its own process so that its peak memory is its own:
  - a bare `xml.etree.ElementTree.iterparse` loop over the same file (elements cleared);
  - `providers.apple_health.export.read_export` to its last raw document (parse, spill per
    month, group by type and local day, sort).
Prints MB/s, records/s and peak RSS of both; with --also-mb, a smaller export too, to show
the reader's peak memory does not grow with the file.

    .venv/bin/python bench/apple_health_parse.py --mb 1024 --also-mb 256
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def generate(path: Path, mb: int) -> int:
    """An export of at least `mb` MB: whole months of the sandbox person, ~11 MB a month."""
    from providers.sandbox.apple_health import write_export
    from providers.sandbox.physiology import PERSONS

    days = 1
    while True:
        with path.open("w", encoding="utf-8") as out:
            first = date(2020, 1, 1)
            write_export(
                out, PERSONS["ada"], first, first + timedelta(days=days - 1), heart_every_s=60
            )
        size = path.stat().st_size
        if size >= mb << 20:
            return size
        days = max(days + 1, int(days * (mb << 20) / size) + 1)


def bare(path: str) -> dict[str, float]:
    start, records = time.perf_counter(), 0
    context = ET.iterparse(path, events=("start", "end"))  # noqa: S314
    _, root = next(context)
    depth = 1
    for event, elem in context:
        if event == "start":
            depth += 1
            continue
        depth -= 1
        if depth == 1:
            records += elem.tag in ("Record", "Workout")
            root.clear()
    return {"seconds": time.perf_counter() - start, "records": records}


def reader(path: str) -> dict[str, float]:
    from providers.apple_health.export import read_export

    start, documents, records = time.perf_counter(), 0, 0
    with Path(path).open("rb") as stream, tempfile.TemporaryDirectory() as spill:
        _, docs = read_export(stream, Path(spill))
        for doc in docs:
            documents += 1
            records += len(doc.payload["records"])
    return {"seconds": time.perf_counter() - start, "records": records, "documents": documents}


def child(kind: str, path: str) -> None:
    result = (bare if kind == "bare" else reader)(path)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(path: Path) -> None:
    size_mb = path.stat().st_size / (1 << 20)
    print(f"export: {size_mb:,.0f} MB")
    for kind in ("bare", "reader"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"  {kind:>6}: {r['seconds']:7.1f} s  {size_mb / r['seconds']:6.1f} MB/s  "
            f"{r['records'] / r['seconds']:>10,.0f} records/s  peak RSS "
            f"{r['peak_rss_mb']:,.0f} MB"
            + (f"  ({r['documents']:,} documents)" if "documents" in r else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--also-mb", type=int, default=0)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for mb in [m for m in (args.also_mb, args.mb) if m]:
            path = Path(tmp) / f"export-{mb}.xml"
            generate(path, mb)
            measure(path)
            path.unlink()


if __name__ == "__main__":
    main()
