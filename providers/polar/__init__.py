"""Polar provider plugin (entry point `polar = providers.polar:PolarProvider`)."""

from providers.polar.provider import PolarProvider

__all__ = ["PolarProvider"]
