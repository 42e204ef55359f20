"""Fitbit provider plugin (entry point `fitbit = providers.fitbit:FitbitProvider`)."""

from providers.fitbit.provider import FitbitProvider

__all__ = ["FitbitProvider"]
