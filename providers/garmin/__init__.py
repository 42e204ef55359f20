"""Garmin provider plugin (entry point `garmin = providers.garmin:GarminProvider`)."""

from providers.garmin.provider import GarminProvider

__all__ = ["GarminProvider"]
