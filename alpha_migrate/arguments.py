"""Command-line values checked before any work starts, each failure one line that names the option."""

import datetime as dt

from alpha_migrate.errors import MigrationError


def whole_number(option: str, value, minimum: int = 0) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise MigrationError(f"--{option} takes a whole number of at least {minimum}, not {str(value)!r}")
    return number


def whole_numbers(option: str, values: str, minimum: int = 1) -> list[int]:
    """A comma-separated list, as --sizes takes it."""
    numbers = [whole_number(option, value, minimum) for value in str(values).split(",") if value.strip()]
    if not numbers:
        raise MigrationError(f"--{option} takes whole numbers separated by commas, not {str(values)!r}")
    return numbers


def iso_date(option: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise MigrationError(f"--{option} takes a date as YYYY-MM-DD, not {str(value)!r}") from None
