"""Deterministic synthetic sources of the plan's SQLite schema, at any size, for `invoke bench`.

600 tickers (B000..B599) share the business days that end on END_DATE, as many as the size needs:
5 million rows are 8,334 days, back to 1994 (the last ticker may get fewer days). Prices are
full-precision random walks, as a Bot writes them; the portfolio has one row per day. The same size
and seed always give the same file.
"""

import datetime as dt
import random
import sqlite3
from pathlib import Path

from scripts.demo_db import business_days
from scripts.sqlite_schema import SQLITE_DDL

TICKERS = 600
END_DATE = dt.date(2025, 12, 31)
SEED = 20261125


def trading_days(count: int) -> list[str]:
    first = END_DATE - dt.timedelta(days=count * 7 // 5 + 14)
    return [day.isoformat() for day in business_days(first, END_DATE)[-count:]]


def write_synthetic_database(path: Path, rows: int, seed: int = SEED) -> Path:
    """Write `rows` price rows; an existing file is kept (it is the same)."""
    path = Path(path)
    if path.exists():
        return path
    days = trading_days(-(-rows // TICKERS))
    rng = random.Random(seed)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(partial)
    con.executescript(SQLITE_DDL)

    def prices():
        written = 0
        for t in range(TICKERS):
            price, factor = rng.uniform(20, 400), rng.uniform(0.6, 1.0)
            for day in days:
                if written == rows:
                    return
                price *= 1 + rng.gauss(0.0003, 0.012)
                written += 1
                yield f"B{t:03d}", day, price, price * factor, rng.randrange(10_000, 50_000_000)

    con.executemany("INSERT INTO daily_prices VALUES (?, ?, ?, ?, ?)", prices())
    value = 100_000.0
    portfolio = []
    for day in days:
        daily = rng.gauss(0.0002, 0.004)
        value *= 1 + daily
        portfolio.append((day, value, daily, 0.0))
    con.executemany("INSERT INTO portfolio_v1_performance VALUES (?, ?, ?, ?)", portfolio)
    con.commit()
    con.close()
    partial.replace(path)
    return path


def write_next_day(source: Path, destination: Path) -> Path:
    """The source one business day later: a new price for every ticker, a new portfolio row."""
    import shutil

    shutil.copyfile(source, destination)
    con = sqlite3.connect(destination)
    last = dt.date.fromisoformat(con.execute("select max(date) from daily_prices").fetchone()[0])
    day = (last + dt.timedelta(days=3 if last.weekday() == 4 else 1)).isoformat()
    with con:
        con.execute(
            """insert into daily_prices select ticker, ?, raw_close * 1.001, adj_close * 1.001, volume
               from daily_prices where (ticker, date) in (select ticker, max(date) from daily_prices group by 1)""",
            (day,),
        )
        con.execute(
            """insert into portfolio_v1_performance select ?, total_portfolio_value, daily_return_vs_spy,
               cumulative_alpha from portfolio_v1_performance where date = ?""",
            (day, last.isoformat()),
        )
    con.close()
    return destination
