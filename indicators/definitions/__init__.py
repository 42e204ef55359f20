"""Catalogue entries, one module per category. Adding an indicator = one entry here."""

from indicators.definitions.activity import ACTIVITY
from indicators.definitions.body import BODY
from indicators.definitions.heart import HEART
from indicators.definitions.recovery import RECOVERY
from indicators.definitions.sleep import SLEEP
from indicators.definitions.vitals import VITALS

ALL_DEFINITIONS = (*ACTIVITY, *HEART, *SLEEP, *RECOVERY, *VITALS, *BODY)

__all__ = ["ALL_DEFINITIONS"]
