"""Adversarial SQLite sources: what a Bot and pandas `to_sql` really leave in `sector_etfs.db`.

Each case adds rows to a small clean base and states exactly what the migration must do with them.
"""

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

NEXT_YEAR = dt.date.today().year + 1
# Declared like the plan but without constraints, as pandas' to_sql writes it: any value goes in.
LOOSE_SCHEMA = """
CREATE TABLE daily_prices (ticker TEXT, date TEXT, raw_close REAL, adj_close REAL, volume INTEGER);
CREATE TABLE portfolio_v1_performance (
    date TEXT, total_portfolio_value REAL, daily_return_vs_spy REAL, cumulative_alpha REAL
);
"""
BASE_PRICES = [
    ("XLK", "2024-01-10", 180.123456, 179.5, 1000),
    ("XLK", "2024-01-11", 181.0, 180.25, 1100),
    ("SPY", "2024-01-10", 470.5, 468.25, 5000),
]
BASE_PORTFOLIO = [("2024-01-10", 100000.0, 0.0, 0.0), ("2024-01-11", 100100.0, 0.001, 0.001)]


@dataclass
class Case:
    name: str
    prices: list = field(default_factory=list)
    portfolio: list = field(default_factory=list)
    loaded: tuple[int, int] = (0, 0)  # rows loaded beyond the base, (prices, portfolio)
    merged: tuple[int, int] = (0, 0)
    rejected: dict = field(default_factory=dict)  # (table, reason) -> rows


CASES = [
    Case(
        "date_shapes_normalised",
        prices=[
            ("XLK", "2024-01-02 00:00:00", 1.0, 1.0, 1),
            ("XLK", "2024/01/03", 1.0, 1.0, 1),
            ("XLK", "2024-01-04T00:00:00Z", 1.0, 1.0, 1),
            ("XLK", "2024-01-05T21:00:00-05:00", 1.0, 1.0, 1),
            ("XLK", 1704672000, 1.0, 1.0, 1),  # 2024-01-08 00:00 UTC, epoch seconds
            ("XLK", "1704758400000", 1.0, 1.0, 1),  # 2024-01-09, epoch milliseconds
            ("XLE", "2024-02-05 ", 1.0, 1.0, 1),  # trailing whitespace, which SQLite's date() ignores too
            ("XLE", "2024-02-06 00:00:00\r\n", 1.0, 1.0, 1),
        ],
        portfolio=[
            ("2024-01-02 00:00:00", 100.0, 0.0, 0.0),
            ("2024/01/03", 100.0, 0.0, 0.0),
            ("2024-02-05\t", 100.0, 0.0, 0.0),
        ],
        loaded=(8, 3),
    ),
    Case(
        # In a column of numeric type SQLite keeps a blob as it is: its text, a decimal literal, is read as
        # the number it spells, as a number stored as text is (tests/integration/test_real_files.py).
        "numbers_in_blobs_read",
        prices=[("XLE", "2024-02-12", b"12.5", 12.5, b"100")],
        portfolio=[("2024-02-12", b"100.5", 0.0, b"-0.25")],
        loaded=(1, 1),
    ),
    Case(
        "dates_rejected",
        prices=[
            ("XLK", "January 9 2024", 1.0, 1.0, 1),
            ("XLE", " 2024-02-07", 1.0, 1.0, 1),  # leading whitespace, which SQLite's date() refuses
            ("XLK", "2024-02-30", 1.0, 1.0, 1),
            ("XLK", "", 1.0, 1.0, 1),
            ("XLK", None, 1.0, 1.0, 1),
            ("XLK", "1985-06-03", 1.0, 1.0, 1),
            ("XLK", f"{NEXT_YEAR + 1}-01-02", 1.0, 1.0, 1),
        ],
        portfolio=[("2023-13-01", 1.0, 0.0, 0.0), ("1989-12-29", 1.0, 0.0, 0.0)],
        rejected={
            ("daily_prices", "date_unparseable"): 2,
            ("daily_prices", "date_impossible"): 1,
            ("daily_prices", "date_missing"): 2,
            ("daily_prices", "date_out_of_range"): 2,
            ("portfolio_v1_performance", "date_impossible"): 1,
            ("portfolio_v1_performance", "date_out_of_range"): 1,
        },
    ),
    Case(
        "identical_keys_merged",
        prices=[
            ("XLK", "2024-01-10 00:00:00", 180.123456, 179.5, 1000),
            ("xlk", "2024-01-11", 181.0, 180.25, 1100),
            ("XLK ", "2024-01-11", 181.0, 180.25, 1100),
        ],
        portfolio=[("2024-01-10 00:00:00", 100000.0, 0.0, 0.0)],
        merged=(3, 1),
    ),
    Case(
        "conflicting_keys_quarantined",
        prices=[("spy", "2024-01-10", 470.6, 468.25, 5000), ("SPY", "2024-01-10 00:00:00", 470.5, 468.25, 5001)],
        portfolio=[("2024-01-11", 100100.0, 0.002, 0.001)],
        loaded=(-1, -1),  # the base rows sharing those keys are quarantined with their rivals
        rejected={("daily_prices", "key_conflict"): 3, ("portfolio_v1_performance", "key_conflict"): 2},
    ),
    Case(
        "tickers_rejected",
        prices=[
            (None, "2024-01-02", 1.0, 1.0, 1),
            ("", "2024-01-02", 1.0, 1.0, 1),
            ("   ", "2024-01-03", 1.0, 1.0, 1),
            ("XLKXLKXLKXL", "2024-01-02", 1.0, 1.0, 1),
        ],
        rejected={("daily_prices", "ticker_missing"): 3, ("daily_prices", "ticker_too_long"): 1},
    ),
    Case(
        "prices_rejected",
        prices=[
            ("XLK", "2024-01-02", "N/A", 1.0, 1),
            ("XLK", "2024-01-03", 1.0, "", 1),
            ("XLK", "2024-01-04", "1,234.5", 1.0, 1),
            ("XLK", "2024-01-05", float("inf"), 1.0, 1),
            ("XLK", "2024-01-08", 1.0, float("-inf"), 1),
            ("XLK", "2024-01-09", -0.01, 1.0, 1),
            ("XLK", "2024-01-12", 1_000_000.0, 1.0, 1),
            ("XLK", "2024-01-15", 999_999.99996, 1.0, 1),
            ("XLK", "2024-01-16", None, None, None),  # NULL prices and volume are allowed
            ("XLK", "2024-01-17", 999_999.9999, 1.0, 1),  # the largest NUMERIC(10,4) value
        ],
        loaded=(2, 0),
        rejected={
            ("daily_prices", "price_not_numeric"): 3,
            ("daily_prices", "price_not_finite"): 2,
            ("daily_prices", "price_negative"): 1,
            ("daily_prices", "price_out_of_range"): 2,
        },
    ),
    Case(
        "volumes_rejected",
        prices=[
            ("XLK", "2024-01-02", 1.0, 1.0, -5),
            ("XLK", "2024-01-03", 1.0, 1.0, 1.5),
            ("XLK", "2024-01-04", 1.0, 1.0, "12a"),
            ("XLK", "2024-01-05", 1.0, 1.0, "1,000"),
        ],
        rejected={
            ("daily_prices", "volume_negative"): 1,
            ("daily_prices", "volume_fractional"): 1,
            ("daily_prices", "volume_not_numeric"): 2,
        },
    ),
    Case(
        "portfolio_values_rejected",
        portfolio=[
            ("2024-01-02", 1e11, 0.0, 0.0),
            ("2024-01-03", 100.0, 150.0, 0.0),
            ("2024-01-04", 100.0, 0.01, 530.0),  # alpha stored in percent
            ("2024-01-05", "n/a", 0.0, 0.0),
            ("2024-01-08", float("inf"), 0.0, 0.0),
            ("2024-01-09", 9_999_999_999.99, -99.999999, 99.999999),  # the largest values that fit
        ],
        loaded=(0, 1),
        rejected={
            ("portfolio_v1_performance", "value_out_of_range"): 1,
            ("portfolio_v1_performance", "return_out_of_range"): 1,
            ("portfolio_v1_performance", "alpha_out_of_range"): 1,
            ("portfolio_v1_performance", "value_not_numeric"): 1,
            ("portfolio_v1_performance", "value_not_finite"): 1,
        },
    ),
]


# Dates in the ISO, slashed and epoch shapes, but in other scripts' digits (Arabic-Indic, Devanagari,
# fullwidth): no shape reads them, whatever digits the database's collation counts.
OTHER_SCRIPT_DIGITS = Case(
    "dates_in_other_scripts_digits",
    prices=[
        ("XLK", "\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0662", 1.0, 1.0, 1),
        ("XLK", "\u0968\u0966\u0968\u096a-\u0966\u0967-\u0966\u0968 00:00:00", 1.0, 1.0, 1),
        ("XLK", "\uff12\uff10\uff12\uff14/\uff10\uff11/\uff10\uff12", 1.0, 1.0, 1),
        ("XLK", "\u0661\u0667\u0660\u0664\u0666\u0667\u0662\u0660\u0660\u0660", 1.0, 1.0, 1),
        ("XLK", "\u0661\u0667\u0660\u0664\u0667\u0665\u0668\u0664\u0660\u0660\u0660\u0660\u0660", 1.0, 1.0, 1),
    ],
    portfolio=[("\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0662T00:00:00Z", 1.0, 0.0, 0.0)],
    rejected={("daily_prices", "date_unparseable"): 5, ("portfolio_v1_performance", "date_unparseable"): 1},
)


def mixed_case() -> Case:
    """Every case at once; they use distinct keys, so their outcomes add up."""
    mixed = Case("all_cases_mixed")
    loaded, merged = [0, 0], [0, 0]
    for case in CASES:
        mixed.prices += case.prices
        mixed.portfolio += case.portfolio
        for i in range(2):
            loaded[i] += case.loaded[i]
            merged[i] += case.merged[i]
        for key, n in case.rejected.items():
            mixed.rejected[key] = mixed.rejected.get(key, 0) + n
    mixed.loaded, mixed.merged = tuple(loaded), tuple(merged)
    return mixed


def write_case(path: Path, case: Case) -> None:
    con = sqlite3.connect(path)
    con.executescript(LOOSE_SCHEMA)
    con.executemany("insert into daily_prices values (?, ?, ?, ?, ?)", BASE_PRICES + case.prices)
    con.executemany("insert into portfolio_v1_performance values (?, ?, ?, ?)", BASE_PORTFOLIO + case.portfolio)
    con.commit()
    con.close()
