"""Standard indicators, units, time handling and the frame contracts of Mirobody.

Every other package speaks this vocabulary: providers convert vendor data to catalogue ids and
standard units, the pipeline validates frames with the schemas here, and readers look
indicators up in the catalogue.
"""

from indicators.catalogue import (
    CATALOGUE,
    Category,
    DayAnchor,
    Indicator,
    Kind,
    Rollup,
    UnknownIndicatorError,
    catalogue_frame,
    get_indicator,
    search_indicators,
)

__all__ = [
    "CATALOGUE",
    "Category",
    "DayAnchor",
    "Indicator",
    "Kind",
    "Rollup",
    "UnknownIndicatorError",
    "catalogue_frame",
    "get_indicator",
    "search_indicators",
]
