"""Naming the payload field at fault in one record that stops its record type's batch from
formatting (a value of the wrong type, a date that does not exist, a code nobody knows).

Only used once a batch has failed and bisection has narrowed the fault to one record, so it
may afford to decode and format that record many times."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

from providers.errors import ProviderError, RecordFormatError
from providers.mapping import RecordMapping
from providers.vectorised import decode, failure_frame, format_group

Path = tuple[str | int, ...]
MAX_PROBES = 80


def _fails(payload: str, dtype: pl.Struct) -> bool:
    try:
        decode(pl.Series([payload]), dtype)
    except pl.exceptions.PolarsError:
        return True
    return False


def undecodable(payload: str, dtype: pl.Struct) -> tuple[str, str] | None:
    """The deepest declared path whose value does not decode as declared, and its type."""

    def search(
        fields: list[pl.Field], wrap: Callable[[pl.Struct], pl.Struct], prefix: str
    ) -> tuple[str, str] | None:
        for f in fields:
            if not _fails(payload, wrap(pl.Struct({f.name: f.dtype}))):
                continue
            path, inner = prefix + f.name, f.dtype

            def nest(
                s: pl.DataType, name: str = f.name, outer: Callable[[pl.Struct], pl.Struct] = wrap
            ) -> pl.Struct:
                return outer(pl.Struct({name: s}))

            into: Callable[[pl.Struct], pl.Struct] = nest
            suffix = ""
            if isinstance(inner, pl.List) and isinstance(inner.inner, pl.Struct):
                inner, suffix = inner.inner, "[]"

                def into(s: pl.Struct, n: Callable[..., pl.Struct] = nest) -> pl.Struct:
                    return n(pl.List(s))

            if isinstance(inner, pl.Struct):
                deeper = search(inner.fields, into, path + suffix + ".")
                if deeper is not None:
                    return deeper
            return path, str(f.dtype)
        return None

    return search(dtype.fields, lambda s: s, "")


def _leaves(doc: Any, path: Path = ()) -> Iterator[Path]:
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(doc, list) and doc and isinstance(doc[0], dict | list):
        for i, value in enumerate(doc):
            yield from _leaves(value, (*path, i))
    elif doc is not None:
        yield path


def _name(path: Path, indexed: bool = False) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]" if indexed else "[]"
        else:
            out += ("." if out else "") + part
    return out


def value_at(doc: Any, path: str) -> Any:
    """The value at a dotted path (`[]` takes the first list element that has it)."""
    node = doc
    for part in path.replace("[]", ".[]").split("."):
        if part == "[]":
            node = (
                next((n for n in node if n is not None), None) if isinstance(node, list) else None
            )
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _nulled(doc: Any, path: Path) -> Any:
    out = copy.deepcopy(doc)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = None
    return out


def _candidates(mapping: RecordMapping, doc: Any) -> list[Path]:
    """Leaves of the document: the mapping's declared paths first, then its fields."""
    declared = [*mapping.paths, *(f.path for f in mapping.fields)]
    rank = {p: i for i, p in enumerate(declared)}
    leaves = list(_leaves(doc))
    return sorted(leaves, key=lambda p: rank.get(_name(p), len(rank)))[:MAX_PROBES]


def _blame_by_nulling(
    provider: str, mapping: RecordMapping, record: pl.DataFrame, raw: pl.DataFrame, doc: Any
) -> Path | None:
    """The first leaf whose removal lets the record format (to rows or to a failure of its
    own); removals after which the record is merely skipped do not count."""
    for path in _candidates(mapping, doc):
        payload = json.dumps(_nulled(doc, path), separators=(",", ":"))
        trial = record.with_columns(pl.lit(payload).alias("payload"))
        try:
            result = format_group(provider, mapping, trial, raw)
        except (pl.exceptions.PolarsError, ProviderError):
            continue
        if result.rows.height or result.failures.height:
            return path
    return None


def diagnose(
    provider: str, mapping: RecordMapping, record: pl.DataFrame, raw: pl.DataFrame, exc: Exception
) -> pl.DataFrame:
    """The failure row of a single raw record whose formatting raised `exc`."""
    rt = mapping.record_type
    if isinstance(exc, RecordFormatError) and exc.field is not None:
        return failure_frame(provider, rt, record, exc.reason, exc.field, exc.detail)
    payload = str(record.get_column("payload")[0])
    doc = json.loads(payload)
    if isinstance(exc, RecordFormatError) and exc.reason == "does_not_decode":
        found = undecodable(payload, mapping.decode_dtype())
        if found is not None:
            path, dtype = found
            value = json.dumps(value_at(doc, path))
            if path in mapping.time_paths():
                return failure_frame(
                    provider,
                    rt,
                    record,
                    "unparsable_time",
                    path,
                    f"{path} = {value} does not parse as a time ({dtype})",
                )
            detail = (
                f"{path} = {value} does not decode as {dtype} (a unit or type the "
                "mapping does not know)"
            )
            return failure_frame(provider, rt, record, "does_not_decode", path, detail)
    blamed = _blame_by_nulling(provider, mapping, record, raw, doc)
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    if blamed is None:
        return failure_frame(
            provider, rt, record, "format_error", None, f"{type(cause).__name__}: {cause}"
        )
    value = json.dumps(value_at(doc, _name(blamed)))
    at = f"{_name(blamed, indexed=True)} = {value}"
    if _name(blamed) in mapping.time_paths():
        return failure_frame(
            provider,
            rt,
            record,
            "unparsable_time",
            _name(blamed),
            f"{at} does not parse as a time ({type(cause).__name__})",
        )
    return failure_frame(
        provider,
        rt,
        record,
        "format_error",
        _name(blamed),
        f"{at}: {type(cause).__name__}: {cause}",
    )
