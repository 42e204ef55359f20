"""Provider discovery through the `mirobody.providers` entry-point group.

A provider whose client credentials are not configured stays registered but disabled, with the
reason visible in `statuses()`; one that fails to import is disabled the same way."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from providers.base import Provider
from providers.errors import ProviderDisabledError, UnknownProviderError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mirobody.providers"


@dataclass(frozen=True)
class ProviderStatus:
    """A registered provider and whether it can be used."""

    slug: str
    enabled: bool
    reason: str | None
    provider: Provider | None
    entry_point: str


def discover(group: str = ENTRY_POINT_GROUP) -> list[EntryPoint]:
    """Every entry point of the group, sorted by name (built-ins and third-party alike)."""
    return sorted(entry_points(group=group), key=lambda ep: ep.name)


def _load(ep: EntryPoint, settings: Mapping[str, Mapping[str, Any]]) -> ProviderStatus:
    target = f"{ep.module}:{ep.attr}"
    try:
        cls = ep.load()
    except (ImportError, AttributeError) as exc:
        log.error("provider %s: entry point %s failed to import: %s", ep.name, target, exc)
        return ProviderStatus(ep.name, False, f"import failed: {type(exc).__name__}", None, target)
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        return ProviderStatus(
            ep.name, False, "entry point is not a Provider subclass", None, target
        )
    try:
        provider = cls.from_settings(settings.get(ep.name))
    except ProviderDisabledError as exc:
        log.info("provider %s disabled: %s", ep.name, exc)
        return ProviderStatus(ep.name, False, str(exc), None, target)
    return ProviderStatus(ep.name, True, None, provider, target)


class ProviderRegistry:
    """The providers of this installation, built from entry points and settings."""

    def __init__(self, statuses: Mapping[str, ProviderStatus]) -> None:
        self._statuses = dict(statuses)

    @classmethod
    def from_entry_points(
        cls, settings: Mapping[str, Mapping[str, Any]], group: str = ENTRY_POINT_GROUP
    ) -> ProviderRegistry:
        return cls({ep.name: _load(ep, settings) for ep in discover(group)})

    def statuses(self) -> list[ProviderStatus]:
        return [self._statuses[k] for k in sorted(self._statuses)]

    def enabled(self) -> list[Provider]:
        return [s.provider for s in self.statuses() if s.provider is not None]

    def get(self, slug: str) -> Provider:
        """The enabled provider `slug`; raises with the reason when it is disabled."""
        status = self._statuses.get(slug)
        if status is None:
            raise UnknownProviderError(slug, "no such provider")
        if status.provider is None:
            raise ProviderDisabledError(slug, status.reason or "disabled")
        return status.provider


def zone_dependent_record_types(group: str = ENTRY_POINT_GROUP) -> dict[str, list[str]]:
    """{provider: record types} whose values may take their offset from the person's time
    zone (mappings whose offset is "utc" or "wall"): what a change of zone re-derives. Read
    from the provider classes, enabled or not."""
    out: dict[str, list[str]] = {}
    for ep in discover(group):
        try:
            cls = ep.load()
        except (ImportError, AttributeError):
            continue  # reported by the registry that loads it
        mappings = getattr(cls, "mappings", None) or {}
        out[ep.name] = sorted(
            t for t, m in mappings.items() if getattr(m, "offset", "vendor") in ("utc", "wall")
        )
    return out
