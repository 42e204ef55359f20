"""Source priorities for the daily merge, from what each installed provider declares.

Each provider ranks itself per catalogue category (`Provider.priority_ranks`, lower wins) and
orders its own sources (`Provider.source_priorities`); a deployment may override any key with
an explicit list. The result is the `SourcePriorities` mapping that
`indicators.aggregate.daily_summary` takes, so indicators/ never names a vendor and a new
provider ranks where it says, without an edit elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from indicators.aggregate import SourcePriorities
from providers.base import Provider
from providers.registry import discover

log = logging.getLogger(__name__)

FALLBACK = "*"
UNDECLARED_RANK = 1_000  # a provider that declares no rank for a key follows those that do


def _sources(provider: type[Provider]) -> tuple[str, ...]:
    slug = provider.info.slug
    own = tuple(provider.source_priorities)
    return own if slug in own else (*own, slug)


def _rank(provider: type[Provider], key: str) -> int:
    ranks = provider.priority_ranks
    return ranks.get(key, ranks.get(FALLBACK, UNDECLARED_RANK))


def declared_priorities(
    providers: Iterable[type[Provider]], overrides: Mapping[str, Sequence[str]] | None = None
) -> dict[str, tuple[str, ...]]:
    """Every key any provider ranks itself for (and "*"): the providers' sources, best first
    (ties by slug). An `overrides` entry replaces that key's list as given."""
    classes = sorted({p.info.slug: p for p in providers}.values(), key=lambda p: p.info.slug)
    keys = {FALLBACK}.union(*(p.priority_ranks for p in classes))
    table: dict[str, tuple[str, ...]] = {}
    for key in sorted(keys):
        ranked = sorted((_rank(p, key), p.info.slug, p) for p in classes)
        table[key] = tuple(s for _, _, p in ranked for s in _sources(p))
    for key, sources in (overrides or {}).items():
        table[key] = tuple(sources)
    return table


def installed_provider_classes() -> list[type[Provider]]:
    """The Provider classes of every `mirobody.providers` entry point that imports, enabled
    or not (data of a vendor switched off since still needs its rank)."""
    classes: list[type[Provider]] = []
    for ep in discover():
        try:
            cls = ep.load()
        except (ImportError, AttributeError) as exc:
            log.warning("provider %s: no priorities (import failed: %s)", ep.name, exc)
            continue
        if isinstance(cls, type) and issubclass(cls, Provider):
            classes.append(cls)
    return classes


def installed_priorities(overrides: Mapping[str, Sequence[str]] | None = None) -> SourcePriorities:
    """The source priorities of this installation: declared by its providers, then
    `overrides` (the deployment's SOURCE_PRIORITIES setting)."""
    return declared_priorities(installed_provider_classes(), overrides)
