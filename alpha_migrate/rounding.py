"""The documented rounding rule for REAL values loaded into NUMERIC(p, s) columns.

The staging models convert a double through its shortest round-trip decimal text (PostgreSQL's direct
cast, through 15 significant digits, was twice as slow), then NUMERIC rounds half away from zero to the
column's scale. Either way a loaded value differs from the source's exact binary value by at most half a
unit in the last kept decimal plus half a unit in the 15th significant digit.
"""

from decimal import Decimal

SIGNIFICANT_DIGITS = 15


def rounding_bound(source: float, scale: int) -> Decimal:
    """The largest |loaded - source| the rule allows for one value stored at `scale` decimals."""
    return Decimal(5).scaleb(-(scale + 1)) + abs(Decimal(source)) * Decimal(5).scaleb(-SIGNIFICANT_DIGITS)


def within_rounding(loaded: Decimal, source: float, scale: int) -> bool:
    return abs(loaded - Decimal(source)) <= rounding_bound(source, scale)
