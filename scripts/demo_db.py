"""Write the bundled demo `sector_etfs.db`: deterministic synthetic prices of the SPDR sector ETFs and SPY.

    python -m scripts.demo_db [--out sector_etfs.db] [--end YYYY-MM-DD] [--seed N]

Business days are Monday to Friday (exchange holidays are not modelled) from 2015-01-02 through --end,
by default the last business day before today. Each ticker starts at its real inception. Prices follow
a one-factor geometric random walk (every ticker loads on one market shock, SPY is the market), stored
at full float precision. Quarterly dividends drop the raw price on their ex-date; `adj_close` is the raw
price back-adjusted for every later dividend, so it sits below `raw_close` before the last ex-date.
The same --seed and --end give the same file; a date's raw prices do not depend on --end.
"""

import argparse
import datetime as dt
import math
import random
from pathlib import Path
from typing import NamedTuple

from scripts.portfolio import derive_portfolio
from scripts.sqlite_schema import PriceRow, write_database

FIRST_DATE = dt.date(2015, 1, 2)
DEFAULT_SEED = 20150102
TRADING_DAYS = 252


class Ticker(NamedTuple):
    symbol: str
    inception: dt.date
    first_price: float
    annual_drift: float
    annual_vol: float
    beta: float
    dividend_yield: float
    typical_volume: int


TICKERS = (
    Ticker("SPY", FIRST_DATE, 205.43, 0.10, 0.17, 1.00, 0.019, 85_000_000),
    Ticker("XLB", FIRST_DATE, 48.65, 0.07, 0.20, 0.95, 0.020, 5_000_000),
    Ticker("XLC", dt.date(2018, 6, 19), 50.08, 0.09, 0.22, 1.05, 0.008, 4_000_000),
    Ticker("XLE", FIRST_DATE, 78.95, 0.03, 0.30, 1.10, 0.035, 18_000_000),
    Ticker("XLF", FIRST_DATE, 24.90, 0.09, 0.21, 1.10, 0.018, 45_000_000),
    Ticker("XLI", FIRST_DATE, 56.45, 0.09, 0.19, 1.00, 0.017, 10_000_000),
    Ticker("XLK", FIRST_DATE, 41.27, 0.17, 0.23, 1.15, 0.010, 9_000_000),
    Ticker("XLP", FIRST_DATE, 48.78, 0.06, 0.14, 0.60, 0.026, 11_000_000),
    Ticker("XLRE", dt.date(2015, 10, 8), 31.17, 0.04, 0.20, 0.80, 0.034, 5_500_000),
    Ticker("XLU", FIRST_DATE, 47.64, 0.07, 0.17, 0.45, 0.032, 13_000_000),
    Ticker("XLV", FIRST_DATE, 68.82, 0.09, 0.16, 0.80, 0.015, 9_500_000),
    Ticker("XLY", FIRST_DATE, 72.35, 0.12, 0.20, 1.10, 0.012, 4_500_000),
)
DIVIDEND_MONTHS = (3, 6, 9, 12)


def last_business_day_before(day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def business_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def ex_dividend_dates(days: list[dt.date]) -> set[dt.date]:
    """The first business day on or after the 20th of each dividend month."""
    chosen: dict[tuple[int, int], dt.date] = {}
    for day in days:
        if day.month in DIVIDEND_MONTHS and day.day >= 20:
            chosen.setdefault((day.year, day.month), day)
    return set(chosen.values())


def generate_prices(end: dt.date, seed: int = DEFAULT_SEED) -> list[PriceRow]:
    days = business_days(FIRST_DATE, end)
    ex_dates = ex_dividend_dates(days)
    rng = random.Random(seed)
    raw: dict[str, list[tuple[dt.date, float, float, int]]] = {t.symbol: [] for t in TICKERS}
    price = {t.symbol: t.first_price for t in TICKERS}
    for day in days:
        market = rng.gauss(0.0, 1.0)
        for t in TICKERS:
            # Draw for every ticker every day, live or not, so one day's prices never depend on the end date.
            own, volume_noise = rng.gauss(0.0, 1.0), rng.gauss(0.0, 0.35)
            if day < t.inception:
                continue
            dividend = 0.0
            if raw[t.symbol]:
                shock = t.beta * market + math.sqrt(max(0.0, 1.0 - t.beta**2)) * own
                sigma = t.annual_vol / math.sqrt(TRADING_DAYS)
                drift = (t.annual_drift + t.dividend_yield) / TRADING_DAYS - sigma**2 / 2
                price[t.symbol] *= math.exp(drift + sigma * shock)
                if day in ex_dates:
                    dividend = price[t.symbol] * t.dividend_yield / len(DIVIDEND_MONTHS)
                    price[t.symbol] -= dividend
            volume = int(t.typical_volume * math.exp(volume_noise))
            raw[t.symbol].append((day, price[t.symbol], dividend, volume))

    rows: list[PriceRow] = []
    for t in TICKERS:
        series = raw[t.symbol]
        factor = 1.0
        adjusted = []
        # Walk backwards: a dividend scales every earlier close by (1 - dividend / previous close).
        for i in range(len(series) - 1, -1, -1):
            day, close, _dividend, volume = series[i]
            adjusted.append((t.symbol, day.isoformat(), close, close * factor, volume))
            if series[i][2] and i > 0:
                factor *= 1.0 - series[i][2] / series[i - 1][1]
        rows.extend(reversed(adjusted))
    return rows


def write_demo_database(path: Path, end: dt.date | None = None, seed: int = DEFAULT_SEED) -> tuple[int, int]:
    """Write the demo database; returns (price rows, portfolio rows)."""
    prices = generate_prices(end or last_business_day_before(dt.date.today()), seed)
    portfolio = derive_portfolio(prices)
    write_database(path, prices, portfolio)
    return len(prices), len(portfolio)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("sector_etfs.db"))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    prices, portfolio = write_demo_database(args.out, args.end, args.seed)
    print(f"wrote {args.out}: {prices} daily_prices rows, {portfolio} portfolio_v1_performance rows")


if __name__ == "__main__":
    main()
