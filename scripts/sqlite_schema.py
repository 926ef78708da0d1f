"""The SQLite schema of section 2 of the migration plan, exactly as the Bot created it."""

import sqlite3
from pathlib import Path

SQLITE_DDL = """
CREATE TABLE daily_prices (
    ticker TEXT NOT NULL,
    date TEXT NOT NULL,
    raw_close REAL,
    adj_close REAL,
    volume INTEGER,
    PRIMARY KEY (ticker, date)
);
CREATE TABLE portfolio_v1_performance (
    date TEXT PRIMARY KEY,
    total_portfolio_value REAL,
    daily_return_vs_spy REAL,
    cumulative_alpha REAL
);
"""

PriceRow = tuple[str, str, float, float, int]
PortfolioRow = tuple[str, float, float, float]


def write_database(path: Path, prices: list[PriceRow], portfolio: list[PortfolioRow]) -> None:
    """Write a fresh SQLite file with the plan's schema; an existing file is replaced."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a half-written file never carries the real name.
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    con = sqlite3.connect(partial)
    try:
        con.executescript(SQLITE_DDL)
        con.executemany("INSERT INTO daily_prices VALUES (?, ?, ?, ?, ?)", prices)
        con.executemany("INSERT INTO portfolio_v1_performance VALUES (?, ?, ?, ?)", portfolio)
        con.commit()
    finally:
        con.close()
    partial.replace(path)
