from decimal import Decimal

from alpha_migrate.rounding import rounding_bound, within_rounding


def test_bound_is_half_a_unit_in_the_last_decimal_plus_float_conversion():
    assert rounding_bound(1.0, 4) == Decimal("0.00005") + Decimal("5e-15")
    assert rounding_bound(-100.0, 2) == Decimal("0.005") + Decimal("100") * Decimal("5e-15")


def test_a_decimal_tie_stored_just_below_in_binary_still_counts_as_rounded():
    assert within_rounding(Decimal("513.0985"), 513.09845, 4)
    assert within_rounding(Decimal("513.0984"), 513.09845, 4)
    assert not within_rounding(Decimal("513.0983"), 513.09845, 4)
    assert not within_rounding(Decimal("513.0986"), 513.09845, 4)
