"""Risk metrics computed by one SQL text on two engines: DuckDB over the SQLite snapshot, and PostgreSQL.

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

# `{prices}` is a query giving (series, date, price double); the rest is standard SQL both engines run.
METRICS_SQL = """
with prices as (
    {prices}
),

bounded as (
    select
        series,
        date,
        price,
        (case when series = '{portfolio}' then 0.005 else 0.00005 end) + abs(price) * 5e-15 as err
    from prices
),

steps as (
    select
        series,
        date,
        price,
        err,
        lag(price) over by_date as prev_price,
        lag(err) over by_date as prev_err,
        max(price) over (by_date rows between unbounded preceding and current row) as peak,
        first_value(price) over whole as first_price,
        first_value(err) over whole as first_err,
        last_value(price) over whole as last_price,
        last_value(err) over whole as last_err
    from bounded
    window
        by_date as (partition by series order by date),
        whole as (partition by series order by date rows between unbounded preceding and unbounded following)
),

returns as (
    select
        *,
        price / prev_price - 1 as r,
        (err * prev_price + price * prev_err) / (prev_price * (prev_price - prev_err)) as r_err,
        (err * peak + price * (case when series = '{portfolio}' then 0.005 else 0.00005 end + abs(peak) * 5e-15))
        / (peak * (peak - (case when series = '{portfolio}' then 0.005 else 0.00005 end + abs(peak) * 5e-15)))
            as dd_err
    from steps
),

paired as (
    select
        returns.*,
        market.r as market_r
    from returns
    left join returns as market
        on market.series = '{benchmark}' and market.date = returns.date
)

select
    series,
    count(r) as n,
    avg(r) as mean_r,
    stddev_samp(r) as sd_r,
    percentile_cont(0.05) within group (order by r) as q05,
    min(price / peak - 1) as max_drawdown,
    max(last_price) / max(first_price) - 1 as total_return,
    regr_slope(r, market_r) as beta,
    regr_count(r, market_r) as n_pairs,
    covar_samp(r, market_r) as cov_rm,
    var_samp(market_r) filter (where r is not null) as var_m,
    stddev_samp(r) filter (where market_r is not null) as sd_r_pairs,
    max(r_err) as eps_r,
    max(dd_err) as eps_dd,
    max((last_err * first_price + last_price * first_err) / (first_price * (first_price - first_err))) as eps_total
from paired
group by series
order by series
"""


def metrics_sql(prices_query: str) -> str:
    return METRICS_SQL.format(prices=prices_query, portfolio=PORTFOLIO, benchmark=BENCHMARK)


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
