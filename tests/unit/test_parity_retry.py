"""The parity's metrics survive DuckDB running out of its pool: on two threads the query below does not fit
in 10 MB, on one it does, and `_metrics` retries on one (alpha_migrate/verify.py)."""

import duckdb
import pytest

from alpha_migrate.extract import connect_duckdb
from alpha_migrate.risk_metrics import metrics_sql
from alpha_migrate.verify import _metrics

SERIES, DAYS = 600, 500  # 300,000 rows: the window of three columns fits 10 MB on one thread, not on two


@pytest.fixture
def duck():
    con = connect_duckdb(threads=2, memory_limit="1GB")
    con.execute(
        f"""create table prices as
            select 'S' || (i % {SERIES}) as series, date '2000-01-01' + (i // {SERIES})::int as date,
                   100 + (i % 97) * 0.01 + (i // {SERIES}) * 0.001 as price
            from range({SERIES * DAYS}) as t (i)"""
    )
    con.execute("SET memory_limit = '10MB'")
    yield con
    con.close()


def test_two_threads_run_out_of_a_10_mb_pool(duck):
    with pytest.raises(duckdb.OutOfMemoryException):
        duck.execute(metrics_sql("select * from prices")).fetchall()


def test_the_metrics_are_computed_again_on_one_thread(duck):
    rows = _metrics(duck, "select * from prices")
    assert len(rows) == SERIES
    assert {row[1] for row in rows} == {DAYS - 1}  # each series' count of returns
    assert duck.execute("SELECT current_setting('threads')").fetchone()[0] == 2  # as the caller set it
