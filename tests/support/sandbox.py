"""The sandbox vendor cloud as the suite sees it."""

from datetime import date

# The sandbox's "today": every emulated vendor holds data up to this day.
SANDBOX_TODAY = date(2025, 2, 20)
