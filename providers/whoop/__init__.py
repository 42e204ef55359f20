"""WHOOP provider plugin (entry point `whoop = providers.whoop:WhoopProvider`)."""

from providers.whoop.provider import WhoopProvider

__all__ = ["WhoopProvider"]
