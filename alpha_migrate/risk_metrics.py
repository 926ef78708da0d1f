"""Risk metrics computed by one SQL text, run by DuckDB on both sides: the SQLite source and PostgreSQL.

Per series (each ticker's adj_close, and the portfolio's total value): daily returns r = p[t]/p[t-1] - 1
over consecutive rows; annualised volatility sd(r)*sqrt(252); max drawdown min(p/running_max(p) - 1);
historical 95% VaR -quantile(r, 0.05) (a positive loss); beta to SPY regr_slope(r, r_SPY) over common
dates; Sharpe ratio mean(r)/sd(r)*sqrt(252) at a zero risk-free rate; total return p_last/p_first - 1.

Alongside, the query returns what the rounding bounds need: per series the largest error a price's
rounding can put into one return (eps_r), into p/peak (eps_dd) and into the total return (eps_total),
with a price's rounding error taken as the documented rule (alpha_migrate/rounding.py).
"""

import math
from dataclasses import dataclass

TRADING_DAYS = 252
PORTFOLIO = "PORTFOLIO"
BENCHMARK = "SPY"
METRICS = ("volatility", "max_drawdown", "var_95", "beta", "sharpe", "total_return")

# `{prices}` is a query giving (series, date, price double); DuckDB runs the rest on both sides. The window
# carries the prices alone (each one's rounding error follows from it: _rounding_error), and the first and
# last prices are aggregates. With three columns to sort instead of eight, the target side at 5 million
# rows never ran out of its 50 MB pool in eleven runs; before, it did in one run of three (and was retried).
METRICS_SQL = """
with prices as (
    {prices}
),

steps as (
    select
        series,
        date,
        price,
        lag(price) over by_date as prev_price,
        max(price) over (by_date rows between unbounded preceding and current row) as peak,
        count(*) over (by_date rows between unbounded preceding and unbounded following) as n_prices
    from prices
    window by_date as (partition by series order by date)
),

returns as (
    select
        series,
        date,
        price,
        peak,
        n_prices,
        {err_price} as err,
        price / prev_price - 1 as r,
        ({err_price} * prev_price + price * {err_prev}) / (prev_price * (prev_price - {err_prev})) as r_err,
        ({err_price} * peak + price * {err_peak}) / (peak * (peak - {err_peak})) as dd_err
    from steps
),

paired as (
    select
        returns.*,
        market.r as market_r
    from returns
    left join returns as market
        on market.series = '{benchmark}' and market.date = returns.date
),

per_series as (
    select
        series,
        count(r) as n,
        avg(r) as mean_r,
        stddev_samp(r) as sd_r,
        -- The 5% quantile needs only the lowest returns, of ranks floor(0.05 * (n - 1)) + 1 and + 2, and
        -- n <= n_prices - 1: kept in a heap of that many per series, where percentile_cont kept every
        -- return outside DuckDB's pool (about 12 MB per million rows, the client's one growing part).
        min(r, n_prices // 20 + 2) as low_returns,
        min(price / peak - 1) as max_drawdown,
        arg_min(price, date) as first_price,
        arg_min(err, date) as first_err,
        arg_max(price, date) as last_price,
        arg_max(err, date) as last_err,
        regr_slope(r, market_r) as beta,
        regr_count(r, market_r) as n_pairs,
        covar_samp(r, market_r) as cov_rm,
        var_samp(market_r) filter (where r is not null) as var_m,
        stddev_samp(r) filter (where market_r is not null) as sd_r_pairs,
        max(r_err) as eps_r,
        max(dd_err) as eps_dd
    from paired
    group by series
),

tail as (
    select
        *,
        (n - 1)::double * 0.05 as rank_h,
        floor(rank_h)::bigint as rank_lo,
        rank_h - rank_lo as rank_frac
    from per_series
)

select
    series,
    n,
    mean_r,
    sd_r,
    -- percentile_cont's own interpolation (DuckDB's, bit for bit).
    case
        when n = 0 then null
        when rank_frac = 0 then low_returns[rank_lo + 1]
        else low_returns[rank_lo + 1] * (1 - rank_frac) + low_returns[rank_lo + 2] * rank_frac
    end as q05,
    max_drawdown,
    last_price / first_price - 1 as total_return,
    beta,
    n_pairs,
    cov_rm,
    var_m,
    sd_r_pairs,
    eps_r,
    eps_dd,
    (last_err * first_price + last_price * first_err) / (first_price * (first_price - first_err)) as eps_total
from tail
order by series
"""


def _rounding_error(price: str) -> str:
    """The largest rounding error of `price` in its series (the documented rule, alpha_migrate/rounding.py)."""
    return f"((case when series = '{PORTFOLIO}' then 0.005 else 0.00005 end) + abs({price}) * 5e-15)"


def metrics_sql(prices_query: str) -> str:
    return METRICS_SQL.format(
        prices=prices_query,
        benchmark=BENCHMARK,
        err_price=_rounding_error("price"),
        err_prev=_rounding_error("prev_price"),
        err_peak=_rounding_error("peak"),
    )


@dataclass(frozen=True)
class SeriesStats:
    series: str
    n: int
    mean_r: float
    sd_r: float
    q05: float
    max_drawdown: float
    total_return: float
    beta: float | None
    n_pairs: int
    cov_rm: float | None
    var_m: float | None
    sd_r_pairs: float | None
    eps_r: float
    eps_dd: float
    eps_total: float

    def metrics(self) -> dict[str, float | None]:
        """None where a series is too short for the metric (fewer than two returns, no common dates)."""
        root = math.sqrt(TRADING_DAYS)
        return {
            "volatility": self.sd_r * root if self.sd_r is not None else None,
            "max_drawdown": self.max_drawdown,
            "var_95": -self.q05 if self.q05 is not None else None,
            "beta": self.beta,
            "sharpe": self.mean_r / self.sd_r * root if self.sd_r else None,
            "total_return": self.total_return,
        }

    def bounds(self, market_eps: float) -> dict[str, float]:
        """The largest difference rounding can cause in each metric (first-order plus the exact worst case
        of each step: sd, quantiles and minima move by at most the largest perturbation of their inputs)."""
        root = math.sqrt(TRADING_DAYS)
        k = math.sqrt(self.n / (self.n - 1)) if self.n > 1 else 1.0
        eps, sd, mean = self.eps_r or 0.0, self.sd_r or 0.0, abs(self.mean_r or 0.0)
        d_sd = k * eps
        sharpe = root * (eps * sd + mean * d_sd) / (sd * (sd - d_sd)) if sd > d_sd else math.inf
        beta = 0.0
        if self.var_m and self.cov_rm is not None:
            sd_m = math.sqrt(self.var_m)
            km = math.sqrt(self.n_pairs / (self.n_pairs - 1)) if self.n_pairs > 1 else 1.0
            d_cov = km * eps * sd_m + (self.sd_r_pairs or 0.0) * km * market_eps + km * km * eps * market_eps
            d_var = 2 * km * market_eps * sd_m + (km * market_eps) ** 2
            beta = (
                (d_cov * self.var_m + abs(self.cov_rm) * d_var) / (self.var_m * (self.var_m - d_var))
                if self.var_m > d_var
                else math.inf
            )
        return {
            "volatility": root * d_sd,
            "max_drawdown": self.eps_dd or 0.0,
            "var_95": eps,
            "beta": beta,
            "sharpe": sharpe,
            "total_return": self.eps_total or 0.0,
        }


def _defined(value) -> float | None:
    """An undefined metric (a slope over one pair, a variance of one value) is NULL in PostgreSQL and NaN
    in DuckDB: None for both."""
    return None if value is None or math.isnan(float(value)) else float(value)


def to_stats(rows) -> dict[str, SeriesStats]:
    return {row[0]: SeriesStats(row[0], *[_defined(v) for v in row[1:]]) for row in rows}
