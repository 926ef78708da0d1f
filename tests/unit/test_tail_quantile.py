"""The parity's 5% quantile from each series' lowest returns alone (alpha_migrate/risk_metrics.py) is
DuckDB's percentile_cont bit for bit, for every series length, in one query where the lengths differ."""

import pytest

from alpha_migrate.extract import connect_duckdb
from alpha_migrate.risk_metrics import metrics_sql

# Lengths around the ranks' steps (every 20 returns), the shortest series, and one long one.
LENGTHS = [*range(1, 70), 399, 400, 401, 421, 8335]


@pytest.fixture(scope="module")
def duck():
    con = connect_duckdb(threads=2, memory_limit="200MB")
    con.execute(
        "create table prices as "
        + " union all ".join(
            f"""select 'S{n}' as series, date '2000-01-01' + i::int as date,
                       50 + (hash(i * {n}) % 10000)::double / 1000 as price
                from range({n}) as t (i)"""
            for n in LENGTHS
        )
    )
    yield con
    con.close()


def test_the_tail_quantile_is_percentile_cont(duck):
    q05 = dict(duck.execute("select series, q05 from (" + metrics_sql("select * from prices") + ")").fetchall())
    expected = dict(
        duck.execute(
            """select series, percentile_cont(0.05) within group (order by r) from (
                   select series, price / lag(price) over (partition by series order by date) - 1 as r
                   from prices)
               group by series"""
        ).fetchall()
    )
    assert len(q05) == len(LENGTHS)
    assert q05 == expected
    assert q05["S1"] is None and q05["S2"] is not None
