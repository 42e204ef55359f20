"""The catalogue of standard indicators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser
from api.errors import ERROR_RESPONSES, InvalidRequestError, NotFoundError
from api.schemas.health import IndicatorPublic, IndicatorsPublic
from indicators import CATALOGUE, Category, Indicator, search_indicators

router = APIRouter(prefix="/v1/indicators", tags=["indicators"], responses=ERROR_RESPONSES)


def _public(entry: Indicator) -> IndicatorPublic:
    return IndicatorPublic(
        id=entry.id,
        name=entry.name,
        category=entry.category.value,
        kind=entry.kind.value,
        unit=entry.unit,
        rollup=entry.rollup.value,
        min_value=entry.min_value,
        max_value=entry.max_value,
        description=entry.description,
        keywords=list(entry.keywords),
    )


@router.get("", response_model=IndicatorsPublic)
def list_indicators(
    user: CurrentUser,
    q: Annotated[str, Query(max_length=200, description="Keywords, e.g. 'resting heart'.")] = "",
    category: Annotated[str | None, Query(max_length=32)] = None,
) -> IndicatorsPublic:
    """The catalogue, or the indicators matching keywords (best match first)."""
    if category is not None and category not in {c.value for c in Category}:
        raise InvalidRequestError(f"unknown category {category!r}", code="unknown_category")
    found = search_indicators(q, category=category)
    return IndicatorsPublic(data=[_public(e) for e in found], count=len(found))


@router.get("/{indicator_id}", response_model=IndicatorPublic)
def read_indicator(indicator_id: str, user: CurrentUser) -> IndicatorPublic:
    """One indicator of the catalogue by id."""
    entry = CATALOGUE.get(indicator_id)
    if entry is None:
        raise NotFoundError("unknown indicator", code="unknown_indicator")
    return _public(entry)
