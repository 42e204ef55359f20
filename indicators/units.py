"""Unit conversion to the catalogue's standard units, backed by pint.

Conversions are affine (`standard = value * scale + offset`), so providers look a pair of
units up once and convert a whole column with one multiply-add. An unknown unit is an error,
never passed through unchanged.
"""

from __future__ import annotations

import math
import re
import tokenize
from functools import cache
from typing import overload

import pint
import polars as pl

from indicators.catalogue import get_indicator


class UnitError(ValueError):
    """Base class of unit conversion errors."""


class UnknownUnitError(UnitError):
    """A unit code that is neither UCUM-style, a known vendor alias, nor a pint unit."""

    def __init__(self, unit: object) -> None:
        super().__init__(f"unknown unit {unit!r}")
        self.unit = unit


class IncompatibleUnitsError(UnitError):
    """Two known units of different dimensions (e.g. kg to min)."""

    def __init__(self, from_unit: str, to_unit: str) -> None:
        super().__init__(f"cannot convert {from_unit!r} to {to_unit!r}: different dimensions")
        self.from_unit = from_unit
        self.to_unit = to_unit


# Vendor spellings and UCUM codes pint does not read. Keys are lower-case. The conversion
# factors themselves always come from pint; this only names units.
_ALIASES: dict[str, str] = {
    "bpm": "1/min",
    "beats/min": "1/min",
    "breaths/min": "1/min",
    "brpm": "1/min",
    "/min": "1/min",
    "/h": "1/hour",
    "%": "percent",
    "pct": "percent",
    "ratio": "dimensionless",
    "fraction": "dimensionless",
    "count": "dimensionless",
    "cel": "degC",
    "celsius": "degC",
    "°c": "degC",
    "[degf]": "degF",
    "fahrenheit": "degF",
    "°f": "degF",
    "mm[hg]": "mmHg",
    "mmhg": "mmHg",
    "mg/dl": "mg/dL",
    "mmol/l": "mmol/L",
    "st": "stone",
    "[stone_av]": "stone",
    "[lb_av]": "lb",
    "[mi_i]": "mi",
    "[ft_i]": "ft",
    "[in_i]": "inch",
    "kilocalories": "kcal",
    "kilometer": "km",  # Fitbit distanceUnit "Kilometer"
    "kilometers": "km",
    "mile": "mi",
    "miles": "mi",
    "meter": "m",
    "meters": "m",
    "metre": "m",
    "metres": "m",
    "kilojoule": "kJ",
    "kilojoules": "kJ",
    "ml/kg/min": "mL/(kg*min)",
    "ml/min/kg": "mL/(kg*min)",
    "ml/(kg.min)": "mL/(kg*min)",
}

# Case matters here: UCUM "[Cal]" and the food label's "Cal" are kilocalories, but "cal"
# is the small calorie, a factor of 1000 apart.
_EXACT_ALIASES: dict[str, str] = {"Cal": "kcal", "[Cal]": "kcal", "[cal]": "cal"}

_ANNOTATION = re.compile(r"\{[^{}]*\}")
_POWER = re.compile(r"([A-Za-z])(\d+)\b")
_TEMPERATURES = {"degC": "delta_degC", "degF": "delta_degF", "K": "kelvin"}


@cache
def _registry() -> pint.UnitRegistry:  # type: ignore[type-arg]
    return pint.UnitRegistry(cache_folder=None)


@cache
def _pint_unit(unit: str) -> str:
    """Translate a UCUM-style code or vendor alias to a pint unit expression."""
    if not isinstance(unit, str) or not unit.strip():
        raise UnknownUnitError(unit)
    text = unit.strip()
    alias = _EXACT_ALIASES.get(text) or _ALIASES.get(text.lower())
    if alias is not None:
        return alias
    # UCUM: "{steps}" is a dimensionless annotation, "." multiplies, "m2" is a power and a
    # leading "/" means "per".
    text = _ANNOTATION.sub("1", text)
    if text == "1" or not text:
        return "dimensionless"
    text = text.replace(".", "*")
    text = _POWER.sub(r"\1**\2", text)
    if text.startswith("/"):
        text = "1" + text
    try:
        _registry().parse_units(text)
    # pint's parser surfaces malformed expressions ("kg/", "{x") as several exception types.
    except (
        pint.errors.PintError,
        AttributeError,
        TypeError,
        ValueError,
        SyntaxError,
        tokenize.TokenError,
        AssertionError,
    ):
        raise UnknownUnitError(unit) from None
    return text


def _as_delta(pint_unit: str) -> str:
    return _TEMPERATURES.get(pint_unit, pint_unit)


@cache
def conversion(
    from_unit: str,
    to_unit: str,
    *,
    delta: bool = False,
    molar_mass_g_per_mol: float | None = None,
) -> tuple[float, float]:
    """Return `(scale, offset)` such that `value_in_to = value_in_from * scale + offset`.

    `delta=True` converts differences (a temperature deviation of 1 degF is 5/9 Cel, no
    offset). `molar_mass_g_per_mol` bridges molar and mass concentrations (mmol/L to mg/dL).
    Raises UnknownUnitError or IncompatibleUnitsError.
    """
    src, dst = _pint_unit(from_unit), _pint_unit(to_unit)
    if delta:
        src, dst = _as_delta(src), _as_delta(dst)
    ureg = _registry()
    try:
        at_zero = ureg.Quantity(0.0, src).to(dst).magnitude
        at_one = ureg.Quantity(1.0, src).to(dst).magnitude
    except pint.errors.DimensionalityError:
        if molar_mass_g_per_mol is None:
            raise IncompatibleUnitsError(from_unit, to_unit) from None
        molar_mass = ureg.Quantity(molar_mass_g_per_mol, "g/mol")
        one = ureg.Quantity(1.0, src)
        for bridged in (one * molar_mass, one / molar_mass):
            try:
                return float(bridged.to(dst).magnitude), 0.0
            except pint.errors.DimensionalityError:
                continue
        raise IncompatibleUnitsError(from_unit, to_unit) from None
    scale, offset = float(at_one - at_zero), float(at_zero)
    if src in _TEMPERATURES and dst in _TEMPERATURES:
        # The slope of an offset unit is exact as a difference conversion; 1 - 0 loses digits.
        scale = float(ureg.Quantity(1.0, _as_delta(src)).to(_as_delta(dst)).magnitude)
    # Multiplicative units give an offset of exactly 0; keep float noise out of the table.
    return scale, (0.0 if math.isclose(offset, 0.0, abs_tol=1e-12) else offset)


@overload
def convert(
    value: float,
    from_unit: str,
    to_unit: str,
    *,
    delta: bool = ...,
    molar_mass_g_per_mol: float | None = ...,
) -> float: ...
@overload
def convert(
    value: pl.Series,
    from_unit: str,
    to_unit: str,
    *,
    delta: bool = ...,
    molar_mass_g_per_mol: float | None = ...,
) -> pl.Series: ...
@overload
def convert(
    value: pl.Expr,
    from_unit: str,
    to_unit: str,
    *,
    delta: bool = ...,
    molar_mass_g_per_mol: float | None = ...,
) -> pl.Expr: ...
def convert(
    value: float | pl.Series | pl.Expr,
    from_unit: str,
    to_unit: str,
    *,
    delta: bool = False,
    molar_mass_g_per_mol: float | None = None,
) -> float | pl.Series | pl.Expr:
    """Convert a number, a polars Series or a polars expression between two units."""
    scale, offset = conversion(
        from_unit, to_unit, delta=delta, molar_mass_g_per_mol=molar_mass_g_per_mol
    )
    if isinstance(value, pl.Series | pl.Expr):
        converted = value.cast(pl.Float64) * scale
        return converted + offset if offset else converted
    return float(value) * scale + offset


def indicator_conversion(indicator_id: str, from_unit: str) -> tuple[float, float]:
    """`(scale, offset)` from `from_unit` to the standard unit of `indicator_id`."""
    entry = get_indicator(indicator_id)
    return conversion(
        from_unit,
        entry.unit,
        delta=entry.is_delta,
        molar_mass_g_per_mol=entry.molar_mass_g_per_mol,
    )


@overload
def to_standard(indicator_id: str, value: float, unit: str) -> float: ...
@overload
def to_standard(indicator_id: str, value: pl.Series, unit: str) -> pl.Series: ...
@overload
def to_standard(indicator_id: str, value: pl.Expr, unit: str) -> pl.Expr: ...
def to_standard(
    indicator_id: str, value: float | pl.Series | pl.Expr, unit: str
) -> float | pl.Series | pl.Expr:
    """Convert `value` measured in `unit` to the catalogue's standard unit for the indicator.

    Deviation indicators convert as differences; glucose uses its molar mass.
    Example: `to_standard("active_energy", pl.col("kilojoule"), "kJ")`.
    """
    scale, offset = indicator_conversion(indicator_id, unit)
    if isinstance(value, pl.Series | pl.Expr):
        converted = value.cast(pl.Float64) * scale
        return converted + offset if offset else converted
    return float(value) * scale + offset


def to_standard_frame(
    frame: pl.DataFrame,
    *,
    indicator: str = "indicator",
    value: str = "value",
    unit: str = "unit",
) -> pl.DataFrame:
    """Convert a frame whose rows carry their own vendor unit to the standard units.

    Looks each distinct (indicator, unit) pair up once and applies its scale and offset to
    the whole column; `unit` is replaced by the standard unit. Raises UnknownUnitError or
    IncompatibleUnitsError naming the first bad pair (nothing is passed through).
    """
    pairs = frame.select(indicator, unit).unique()
    table: dict[str, list[object]] = {
        indicator: [],
        unit: [],
        "__scale": [],
        "__offset": [],
        "__std": [],
    }
    for indicator_id, vendor_unit in pairs.iter_rows():
        scale, offset = indicator_conversion(indicator_id, vendor_unit)
        table[indicator].append(indicator_id)
        table[unit].append(vendor_unit)
        table["__scale"].append(scale)
        table["__offset"].append(offset)
        table["__std"].append(get_indicator(indicator_id).unit)
    factors = pl.DataFrame(
        table,
        schema={
            indicator: frame.schema[indicator],
            unit: frame.schema[unit],
            "__scale": pl.Float64,
            "__offset": pl.Float64,
            "__std": pl.String,
        },
    )
    converted = frame.join(factors, on=[indicator, unit], how="left", maintain_order="left")
    return converted.with_columns(
        (pl.col(value).cast(pl.Float64) * pl.col("__scale") + pl.col("__offset")).alias(value),
        pl.col("__std").alias(unit),
    ).drop("__scale", "__offset", "__std")
