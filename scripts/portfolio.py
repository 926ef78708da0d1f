"""Derive `portfolio_v1_performance` from daily prices.

The formulas (documented in docs/testing.md, tested in tests/unit/test_portfolio.py):

* The portfolio holds the sector ETFs in equal weight, rebalanced daily. On a day t its return is the
  plain mean of  adj_close[t] / adj_close[t-1] - 1  over the sector tickers that traded on both t and
  the ticker's previous date. A ticker joins the day after its first price (XLRE, XLC).
* total_portfolio_value[t] = START_VALUE * prod(1 + portfolio_return) up to and including t.
* daily_return_vs_spy[t]   = portfolio_return[t] - spy_return[t]  (SPY from adj_close the same way).
* cumulative_alpha[t]      = sum of daily_return_vs_spy up to and including t (running, not compounded).

The first date on which SPY and at least one sector ETF trade is the start: value START_VALUE, return
and alpha 0. Dates before it, and dates on which SPY did not trade, have no portfolio row.
"""

from collections import defaultdict

from scripts.sqlite_schema import PortfolioRow, PriceRow

START_VALUE = 100_000.0
BENCHMARK = "SPY"


def derive_portfolio(prices: list[PriceRow]) -> list[PortfolioRow]:
    adj_by_date: dict[str, dict[str, float]] = defaultdict(dict)
    for ticker, date, _raw, adj, _volume in prices:
        if adj is not None:
            adj_by_date[date][ticker] = adj

    rows: list[PortfolioRow] = []
    previous: dict[str, float] = {}
    value = START_VALUE
    alpha = 0.0
    for date in sorted(adj_by_date):
        today = adj_by_date[date]
        sectors = [t for t in today if t != BENCHMARK]
        if BENCHMARK not in today or not sectors:
            previous.update(today)
            continue
        if not rows:
            rows.append((date, value, 0.0, 0.0))
        else:
            returns = [today[t] / previous[t] - 1.0 for t in sectors if t in previous]
            portfolio_return = sum(returns) / len(returns) if returns else 0.0
            spy_return = today[BENCHMARK] / previous[BENCHMARK] - 1.0
            value *= 1.0 + portfolio_return
            excess = portfolio_return - spy_return
            alpha += excess
            rows.append((date, value, excess, alpha))
        previous.update(today)
    return rows
