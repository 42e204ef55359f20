"""What production needs to know of the sandbox vendor cloud: its vendors and the sandbox
client credentials (with `SANDBOX_URL` set, unconfigured vendors point at the sandbox).

Kept free of FastAPI and uvicorn: the Dagster code location imports this module, never the
emulators."""

from __future__ import annotations

VENDORS = ("whoop", "garmin", "oura", "withings", "polar", "fitbit")

# Sandbox-only credentials: they open nothing but the local emulators.
SANDBOX_CREDENTIALS: dict[str, dict[str, str]] = {
    v: {"client_id": f"sandbox-{v}-client", "client_secret": f"sandbox-{v}-secret"} for v in VENDORS
}
SANDBOX_CREDENTIALS["oura"]["verification_token"] = "sandbox-oura-verification"  # noqa: S105
# Polar hands out a webhook signing key at webhook creation; the sandbox's is fixed.
SANDBOX_CREDENTIALS["polar"]["webhook_secret"] = "sandbox-polar-webhook-key"  # noqa: S105
# Fitbit checks a subscriber endpoint with GET ?verify=<this code> (204) and a wrong one (404).
SANDBOX_CREDENTIALS["fitbit"]["verification_code"] = "sandbox-fitbit-verify"
