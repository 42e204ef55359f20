"""Withings provider plugin (entry point `withings = providers.withings:WithingsProvider`)."""

from providers.withings.provider import WithingsProvider

__all__ = ["WithingsProvider"]
