"""Wait on a condition, never on the clock: a test polls what it needs to be true."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], what: str, timeout_s: float = 20.0, poll_s: float = 0.02
) -> T:
    """Poll `condition` until it returns a truthy value and return that value. The timeout
    only bounds a test that would otherwise hang: it is never what the test measures."""
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(poll_s)
    return result
