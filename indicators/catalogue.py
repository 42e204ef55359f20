"""The catalogue of standard indicators: ids, units, bounds and daily roll-ups.

Every provider maps vendor fields to these ids and converts to `Indicator.unit`; the API and
the AI tools look indicators up by id or by keyword.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

import polars as pl

from indicators.definitions import ALL_DEFINITIONS
from indicators.model import Category, DayAnchor, Indicator, Kind, Rollup


class UnknownIndicatorError(KeyError):
    """An indicator id that the catalogue does not define."""

    def __init__(self, indicator_id: str) -> None:
        super().__init__(indicator_id)
        self.indicator_id = indicator_id

    def __str__(self) -> str:
        return f"unknown indicator {self.indicator_id!r}"


def _build(entries: tuple[Indicator, ...]) -> Mapping[str, Indicator]:
    by_id: dict[str, Indicator] = {}
    for entry in entries:
        if entry.id in by_id:
            raise ValueError(f"indicator id {entry.id!r} is defined twice")
        by_id[entry.id] = entry
    return MappingProxyType(by_id)


CATALOGUE: Mapping[str, Indicator] = _build(ALL_DEFINITIONS)
"""Every standard indicator by id (read-only)."""


def get_indicator(indicator_id: str) -> Indicator:
    """Return the catalogue entry for `indicator_id`, or raise UnknownIndicatorError."""
    try:
        return CATALOGUE[indicator_id]
    except KeyError:
        raise UnknownIndicatorError(indicator_id) from None


_WORD = re.compile(r"[a-z0-9]+")
_POSITION = {indicator_id: position for position, indicator_id in enumerate(CATALOGUE)}


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _matches(token: str, words: set[str]) -> bool:
    # Prefix matching in both directions makes "calorie" find "calories" and "sleeping"
    # find "sleep" without a stemmer; short words must match exactly ("hr" is not "hrv").
    return any(
        word == token
        or (len(token) >= 3 and word.startswith(token))
        or (len(word) >= 4 and token.startswith(word))
        for word in words
    )


def search_indicators(query: str, *, category: Category | str | None = None) -> list[Indicator]:
    """Find indicators whose id, name, keywords or description match the words of `query`.

    Results are ranked: a word found in the id or keywords counts more than one found in the
    description. An empty query lists the whole catalogue (optionally one category).
    """
    tokens = sorted(_words(query))
    as_id = "_".join(_WORD.findall(query.lower()))
    scored: list[tuple[int, str, Indicator]] = []
    for entry in CATALOGUE.values():
        if category is not None and entry.category != Category(category):
            continue
        strong = _words(entry.id.replace("_", " ")) | _words(" ".join(entry.keywords))
        medium = _words(entry.name) | {entry.category.value}
        weak = _words(entry.description)
        # An exact id ("heart rate" -> heart_rate) outranks ids that merely contain the words.
        score = 10 if entry.id == as_id else 0
        for token in tokens:
            if token in strong:
                score += 4
            elif _matches(token, strong):
                score += 3
            elif _matches(token, medium):
                score += 2
            elif _matches(token, weak):
                score += 1
        if score or not tokens:
            scored.append((score, entry.id, entry))
    # Ties keep catalogue order, where the most common indicator of a family comes first.
    scored.sort(key=lambda item: (-item[0], _POSITION[item[1]]))
    return [entry for _, _, entry in scored]


@cache
def catalogue_frame() -> pl.DataFrame:
    """The catalogue as a polars frame, one row per indicator, for vectorised joins."""
    entries = list(CATALOGUE.values())
    return pl.DataFrame(
        {
            "indicator": [e.id for e in entries],
            "category": [e.category.value for e in entries],
            "kind": [e.kind.value for e in entries],
            "standard_unit": [e.unit for e in entries],
            "rollup": [e.rollup.value for e in entries],
            "min_value": [float(e.min_value) for e in entries],
            "max_value": [float(e.max_value) for e in entries],
            "day_anchor": [e.day_anchor.value for e in entries],
        }
    )


__all__ = [
    "CATALOGUE",
    "Category",
    "DayAnchor",
    "Indicator",
    "Kind",
    "Rollup",
    "UnknownIndicatorError",
    "catalogue_frame",
    "get_indicator",
    "search_indicators",
]
