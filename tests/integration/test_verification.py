"""`invoke verify` and the dbt tests of keys, nulls, partitions and returns, proven against the source."""

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psycopg2
import pytest

from alpha_migrate.verify import parity
from tests.conftest import analyst_dbt_test, digests, invoke, query

NEXT_YEAR = dt.date.today().year + 1


@pytest.fixture(scope="module")
def module_db(migrated_module_db):
    return migrated_module_db


@pytest.fixture(scope="module")
def migrated(demo_template):
    """The demo's migration (its copy is module_db)."""
    return demo_template[1]


def series_from_sqlite(path: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    con = sqlite3.connect(path)
    series = {}
    for ticker in [t for (t,) in con.execute("select distinct ticker from daily_prices")]:
        rows = con.execute("select date, adj_close from daily_prices where ticker = ? order by date", (ticker,))
        dates, prices = zip(*rows, strict=True)
        series[ticker] = (list(dates), np.array(prices))
    rows = con.execute("select date, total_portfolio_value from portfolio_v1_performance order by date")
    dates, values = zip(*rows, strict=True)
    series["PORTFOLIO"] = (list(dates), np.array(values))
    return series


def independent_metrics(series) -> dict[str, dict[str, float]]:
    """Plain numpy over the SQLite values: the reference the report must agree with."""
    spy_dates, spy_prices = series["SPY"]
    spy_returns = dict(zip(spy_dates[1:], spy_prices[1:] / spy_prices[:-1] - 1, strict=True))
    result = {}
    for name, (dates, prices) in series.items():
        returns = prices[1:] / prices[:-1] - 1
        pairs = [(r, spy_returns[d]) for d, r in zip(dates[1:], returns, strict=True) if d in spy_returns]
        own, market = np.array(pairs).T
        result[name] = {
            "volatility": returns.std(ddof=1) * np.sqrt(252),
            "max_drawdown": (prices / np.maximum.accumulate(prices) - 1).min(),
            "var_95": -np.percentile(returns, 5),
            "beta": np.cov(own, market, ddof=1)[0, 1] / market.var(ddof=1),
            "sharpe": returns.mean() / returns.std(ddof=1) * np.sqrt(252),
            "total_return": prices[-1] / prices[0] - 1,
        }
    return result


def test_migrate_ends_with_a_passing_verification(migrated):
    result, summary = migrated
    assert summary["verify"]["failed"] == 0
    assert summary["verify"]["metrics"] == 13 * 6
    # The parity table goes to the run's log (and to the screen with --verbose), not to the screen.
    assert "| XLK | beta |" not in result.stdout
    assert "| XLK | beta |" in Path(summary["log"]).read_text()


def test_verify_report_matches_an_independent_computation(migrated, module_db, demo_sqlite, tmp_path):
    result = invoke("verify", "--sqlite", str(demo_sqlite), "--dsn", module_db.uri(), "--reports-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| series | metric | source (SQLite) | target (PostgreSQL) | difference | bound | ok |" in result.stdout
    (markdown,) = tmp_path.glob("verify-*.md")
    (chart,) = tmp_path.glob("verify-*-cumulative-alpha.png")
    (rows_file,) = tmp_path.glob("verify-*.json")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000
    assert f"![cumulative alpha, source over target]({chart.name})" in markdown.read_text()
    rows = json.loads(rows_file.read_text())
    reference = independent_metrics(series_from_sqlite(demo_sqlite))
    assert {row["series"] for row in rows} == set(reference)
    for row in rows:
        expected = reference[row["series"]][row["metric"]]
        assert row["ok"] is True
        assert row["source"] == pytest.approx(expected, rel=1e-9, abs=1e-12), (row["series"], row["metric"])
        assert abs(row["target"] - expected) <= row["bound"] + 1e-12, (row["series"], row["metric"])
        assert 0 < row["bound"] < 0.05 * max(abs(expected), 0.01)  # a bound, not a blank cheque


def test_the_parity_after_a_migration_leaves_out_a_row_of_the_bots(migrated, migrated_db):
    """At the end of a migration the parity compares the rows the migration loaded: a row of the Bot's, at
    a price that would move every XLK metric, stays out of it."""
    con = psycopg2.connect(migrated_db.libpq())
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(
                "insert into daily_prices (ticker, date, raw_close, adj_close, volume) values ('XLK', %s, 1, 1, 1)",
                (f"{NEXT_YEAR}-01-02",),
            )
        rows, _ = parity(Path(migrated[1]["snapshot_path"]), migrated_db, con, source_staged=True)
    finally:
        con.close()
    assert len(rows) == 13 * 6
    assert [row for row in rows if not row["ok"]] == []


DRIFTED = "ticker = 'XLU' and date >= '2020-01-01'"


def test_the_parity_after_a_migration_agrees_with_verify_and_fails_as_it_does(migrated, migrated_db):
    """The end-of-migration parity, its source side read from the staged rows instead of the file, gives
    the metrics `invoke verify` gives from the file, side by side, and fails as it does on a price that
    drifted."""
    snapshot = Path(migrated[1]["snapshot_path"])
    con = psycopg2.connect(migrated_db.libpq())
    con.autocommit = True
    try:
        staged, _ = parity(snapshot, migrated_db, con, source_staged=True)
        from_file, _ = parity(snapshot, migrated_db, con)
        with con.cursor() as cur:
            cur.execute(f"update daily_prices set adj_close = adj_close * 1.01 where {DRIFTED}")
        drifted, _ = parity(snapshot, migrated_db, con, source_staged=True)
    finally:
        con.close()
    assert [(row["series"], row["metric"]) for row in staged] == [(row["series"], row["metric"]) for row in from_file]
    for ours, theirs in zip(staged, from_file, strict=True):
        for side in ("source", "target"):
            expected = theirs[side]
            assert ours[side] == (None if expected is None else pytest.approx(expected, rel=1e-12, abs=1e-15))
    assert all(row["ok"] for row in staged)
    failed = {(row["series"], row["metric"]) for row in drifted if not row["ok"]}
    assert {series for series, _ in failed} == {"XLU"}


def test_verify_fails_when_a_price_drifts_beyond_rounding(migrated, module_db, demo_sqlite, tmp_path):
    con = psycopg2.connect(module_db.libpq())
    with con, con.cursor() as cur:
        cur.execute(f"create temporary table saved as select * from daily_prices where {DRIFTED}")
        cur.execute(f"update daily_prices set adj_close = adj_close * 1.01 where {DRIFTED}")
    try:
        result = invoke(
            "verify", "--sqlite", str(demo_sqlite), "--dsn", module_db.uri(), "--reports-dir", str(tmp_path)
        )
        assert result.returncode == 1
        assert "verification failed: dbt tests failed" in result.stderr
        assert "risk-metric parity failed for" in result.stderr and "XLU" in result.stderr
    finally:
        with con, con.cursor() as cur:
            cur.execute(
                "update daily_prices set adj_close = saved.adj_close from saved"
                " where daily_prices.ticker = saved.ticker and daily_prices.date = saved.date"
            )
        con.close()


def changed_alike_in_mart_and_staging(column: str) -> tuple[list[str], list[str]]:
    """Breaking and repairing statements for one value changed in both copies: the digests agree, so
    the staged value's own rounding bound must fail."""
    where = "where ticker = 'XLK' and date = '2020-03-02'"
    tables = ("daily_prices", "staging.stg_daily_prices")
    return (
        [f"update {table} set {column} = {column} + 0.01 {where}" for table in tables],
        [f"update {table} set {column} = {column} - 0.01 {where}" for table in tables],
    )


BREAKS = {
    "duplicate_key": (
        [
            "alter table daily_prices drop constraint pk_daily_prices",
            "insert into daily_prices_2020 select * from daily_prices_2020"
            " where ticker = 'XLK' and date = '2020-03-02'",
        ],
        [
            "delete from daily_prices_2020 where ctid = (select max(ctid) from daily_prices_2020"
            " where ticker = 'XLK' and date = '2020-03-02')",
            "alter table daily_prices add constraint pk_daily_prices primary key (ticker, date)",
        ],
        "unique_combination_daily_prices_ticker__date",
    ),
    "null_key": (
        [
            "alter table daily_prices drop constraint pk_daily_prices",
            "alter table daily_prices alter column ticker drop not null",
            "insert into daily_prices values (null, '2020-03-02', 1, 1, 1)",
        ],
        [
            "delete from daily_prices where ticker is null",
            "alter table daily_prices alter column ticker set not null",
            "alter table daily_prices add constraint pk_daily_prices primary key (ticker, date)",
        ],
        "not_null_daily_prices_ticker",
    ),
    "price_changed": (
        ["update daily_prices set raw_close = raw_close + 0.01 where ticker = 'XLK' and date = '2020-03-02'"],
        ["update daily_prices set raw_close = raw_close - 0.01 where ticker = 'XLK' and date = '2020-03-02'"],
        "matches_source_within_rounding_daily_prices",
    ),
    "adjusted_price_changed": (
        ["update daily_prices set adj_close = adj_close + 0.01 where ticker = 'XLK' and date = '2020-03-02'"],
        ["update daily_prices set adj_close = adj_close - 0.01 where ticker = 'XLK' and date = '2020-03-02'"],
        "returns_match_source_daily_prices_adj_close",
    ),
    "price_changed_with_its_staged_copy": (
        *changed_alike_in_mart_and_staging("raw_close"),
        "matches_source_within_rounding_daily_prices",
    ),
    "adjusted_price_changed_with_its_staged_copy": (
        *changed_alike_in_mart_and_staging("adj_close"),
        "returns_match_source_daily_prices_adj_close",
    ),
    "row_deleted": (
        [
            "create temporary table kept as select * from daily_prices where ticker = 'XLK' and date = '2020-03-02'",
            "delete from daily_prices where ticker = 'XLK' and date = '2020-03-02'",
        ],
        ["insert into daily_prices select * from kept"],
        "reconciles_with_source_daily_prices",
    ),
    "no_next_year_partition": (
        [f"alter table daily_prices detach partition daily_prices_{NEXT_YEAR}"],
        [
            f"alter table daily_prices attach partition daily_prices_{NEXT_YEAR} for values from "
            f"('{NEXT_YEAR}-01-01') to ('{NEXT_YEAR + 1}-01-01')"
        ],
        "yearly_partitions_complete_daily_prices_date",
    ),
}


@contextmanager
def broken(target, name: str) -> Iterator[None]:
    """The database with BREAKS[name] applied, then repaired exactly (rows, partitions, constraints), so
    that the next break starts from a passing database."""
    breaking, repairing, _ = BREAKS[name]
    before = table_state(target)
    con = psycopg2.connect(target.libpq())
    try:
        with con, con.cursor() as cur:
            for statement in breaking:
                cur.execute(statement)
        yield
    finally:
        with con, con.cursor() as cur:
            for statement in repairing:
                cur.execute(statement)
        con.close()
    assert table_state(target) == before


@pytest.mark.parametrize("name", BREAKS)
def test_each_dbt_test_fails_on_its_broken_property(name, migrated, module_db, tmp_path):
    with broken(module_db, name):
        result = analyst_dbt_test(module_db, tmp_path)
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if " FAIL " in line and " of " in line]
    assert any(BREAKS[name][2] in line for line in failed), "\n".join(failed) or result.stdout[-3000:]


def test_a_missing_trading_day_is_a_warning_naming_it(migrated, module_db, tmp_path):
    with broken(module_db, "row_deleted"):
        result = analyst_dbt_test(module_db, tmp_path)
    assert re.search(r" WARN 1 no_missing_trading_days_daily_prices_ticker ", result.stdout), result.stdout[-3000:]


CATALOG_STATE = (
    "select inhrelid::regclass::text from pg_inherits where inhparent = 'daily_prices'::regclass order by 1",
    "select conname, contype from pg_constraint where conrelid = 'daily_prices'::regclass order by 1",
    "select attname, attnotnull from pg_attribute where attrelid = 'daily_prices'::regclass and attnum > 0 order by 1",
)


def table_state(target) -> tuple:
    """The rows, partitions, constraints and NOT NULLs of daily_prices."""
    return (digests(target), *(query(target, sql) for sql in CATALOG_STATE))
