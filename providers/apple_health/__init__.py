"""Apple Health provider plugin (entry point `apple_health`).

Apple Health has no server API: data arrives as the user's export (export.zip / export.xml),
uploaded through the API and parsed by the `raw_apple_health` asset."""

from providers.apple_health.provider import AppleHealthProvider

__all__ = ["AppleHealthProvider"]
