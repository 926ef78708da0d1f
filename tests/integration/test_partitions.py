"""Partition lifecycle: `invoke partitions`, and pruning of the Dashboard's "last 30 days" query."""

import datetime as dt
import re

import pytest

from scripts.demo_db import write_demo_database
from tests.conftest import invoke, query

THIS_YEAR = dt.date.today().year


def scanned_partitions(target, sql: str) -> set[str]:
    """Partitions the top Append of the plan reads: those pruned when planned are absent from EXPLAIN
    ANALYZE, those pruned at run time (once an InitPlan is known) are marked never executed."""
    plan = [row[0] for row in query(target, f"explain (analyze, costs off, timing off, summary off) {sql}")]
    assert plan[0].startswith("Append"), plan
    scans = [re.match(r"^  ->  [A-Za-z ]*Scan[A-Za-z ]* on (daily_prices_\d{4}) .*$", line) for line in plan]
    return {m.group(1) for m in scans if m and "(never executed)" not in m.group(0)}


@pytest.fixture(scope="module")
def new_year_db(module_db, tmp_path_factory):
    """Prices up to 2026-01-15: the 30 days before the latest date straddle New Year."""
    source = tmp_path_factory.mktemp("newyear") / "sector_etfs.db"
    write_demo_database(source, end=dt.date(2026, 1, 15))
    result = invoke("migrate", "--sqlite", str(source), "--dsn", module_db.uri())
    assert result.returncode == 0, result.stdout + result.stderr
    return module_db


# The Dashboard's "last 30 days", as it should write it: bounded on both sides, so the (empty) future
# partitions are pruned too. The latest date is read twice, by two InitPlans, both used for pruning.
LAST_30_DAYS_OF_DATA = """
    select ticker, date, adj_close from daily_prices
    where date between (select max(date) from daily_prices) - 29 and (select max(date) from daily_prices)
"""
LAST_30_DAYS_TO_TODAY = """
    select ticker, date, adj_close from daily_prices where date between current_date - 29 and current_date
"""


def test_last_30_days_relative_to_the_latest_date_reads_only_its_partitions(new_year_db):
    # 2026-01-15 minus 29 days is 2025-12-17: two partitions, across New Year.
    assert scanned_partitions(new_year_db, LAST_30_DAYS_OF_DATA) == {"daily_prices_2025", "daily_prices_2026"}


def test_last_30_days_relative_to_today_reads_only_its_partitions(new_year_db):
    first = (dt.date.today() - dt.timedelta(days=29)).year
    expected = {f"daily_prices_{year}" for year in range(first, THIS_YEAR + 1)}
    assert scanned_partitions(new_year_db, LAST_30_DAYS_TO_TODAY) == expected


def test_one_latest_day_reads_one_partition(new_year_db):
    sql = "select * from daily_prices where date = (select max(date) from daily_prices)"
    assert scanned_partitions(new_year_db, sql) == {"daily_prices_2026"}


def test_partitions_task_adds_years_ahead_and_lists_them(new_year_db):
    result = invoke("partitions", "--dsn", new_year_db.uri(), "--ahead", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    names = [
        row[0] for row in query(new_year_db, "select relname from pg_class where relname ~ '^daily_prices_\\d{4}$'")
    ]
    assert f"daily_prices_{THIS_YEAR + 3}" in names
    assert re.search(r"daily_prices_2025\s+[\d,]+ rows\s+[\d.]+ [kM]B", result.stdout)
    again = invoke("partitions", "--dsn", new_year_db.uri(), "--ahead", "3")
    assert again.returncode == 0 and "created 0 partitions" in again.stdout
