"""Shared rules for text people choose: names and titles that others see, and email addresses.

Names and titles refuse invisible characters: controls, bidi overrides and isolates (which
reorder what is shown, e.g. to disguise a name or a file extension), zero-width and other
format characters (which hide text or make look-alikes). Emails are normalised (NFKC, case
folded) so that a full-width or differently cased look-alike is the same address.
"""

from __future__ import annotations

import unicodedata

# Unicode categories refused: control, format, surrogate, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Zero-width non-joiner and joiner are format characters that writing systems (Persian,
# Indic scripts) and emoji sequences need to render correctly; they reorder nothing.
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})


def invisible_character(value: str, *, joiners: bool = True) -> str | None:
    """The first refused character of `value` (as "U+XXXX"), or None when it has none.

    `joiners=False` refuses the zero-width (non-)joiner too (addresses need neither).
    """
    allowed = _ALLOWED_FORMAT if joiners else frozenset()
    for char in value:
        if char not in allowed and unicodedata.category(char) in _REFUSED_CATEGORIES:
            return f"U+{ord(char):04X}"
    return None


def visible_text(value: str | None) -> str | None:
    """A field validator: refuse control, bidi and other invisible formatting characters."""
    if value is not None and (found := invisible_character(value)):
        raise ValueError(
            f"contains an invisible control or formatting character ({found}); "
            "bidi overrides, zero-width and control characters are not allowed"
        )
    return value


def without_invisible(value: str) -> str:
    """`value` with the refused characters removed (for text derived from free input)."""
    return "".join(
        c
        for c in value
        if c in _ALLOWED_FORMAT or unicodedata.category(c) not in _REFUSED_CATEGORIES
    )


def email_text(value: str) -> str:
    """A field validator for addresses: normalised, and without any invisible character."""
    value = normalise_email(value)
    if found := invisible_character(value, joiners=False):
        raise ValueError(f"contains an invisible or control character ({found})")
    return value


def normalise_email(value: str) -> str:
    """The one form an address is stored and looked up in: NFKC, stripped, case folded.

    Case folding can yield a string that is not NFKC (rarely), hence the second pass.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).strip().casefold())
