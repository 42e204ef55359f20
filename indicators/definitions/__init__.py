"""Catalogue entries, one module per category. Adding an indicator = one entry here."""

from indicators.definitions.activity import ACTIVITY
from indicators.definitions.body import BODY
from indicators.definitions.heart import HEART
from indicators.definitions.recovery import RECOVERY
from indicators.definitions.sleep import SLEEP
from indicators.definitions.vitals import VITALS

# The order is the search tie-break: the most asked-about families first.
ALL_DEFINITIONS = (*HEART, *ACTIVITY, *SLEEP, *RECOVERY, *VITALS, *BODY)

__all__ = ["ALL_DEFINITIONS"]
