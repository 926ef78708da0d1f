"""`invoke migrate` on the demo database, end to end, twice, into a real PostgreSQL 16, and the same into
PostgreSQL 18 (the version the real team later ran)."""

import datetime as dt
import hashlib
import json
import re
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from alpha_migrate import target_db
from alpha_migrate.rounding import within_rounding
from tests.conftest import (
    analyst_dbt_test,
    assert_prices_match_the_file,
    create_database,
    digests,
    drop_database,
    execute,
    invoke,
    migrate_ok,
    query,
)

# The first run's checksums per server version: 16 and 18 must load the very same rows.
CHECKSUMS: dict[int, dict] = {}


@pytest.fixture(scope="module", params=[16, 18], ids=["pg16", "pg18"])
def server_version(request) -> int:
    return request.param


@pytest.fixture(scope="module")
def module_db(request, server_version):
    """On 16, a copy of the session's migrated demo (whose first run is the one tested here); on 18, a
    database of its own, migrated by first_run."""
    if server_version == 16:
        yield request.getfixturevalue("migrated_module_db")
        return
    admin = request.getfixturevalue("admin_target_18")
    target = create_database(admin)
    yield target
    drop_database(admin, target)


@pytest.fixture(scope="module")
def first_run(request, module_db, server_version, demo_sqlite, tmp_path_factory):
    if server_version == 16:
        return request.getfixturevalue("demo_template")[1]
    return migrate_ok(demo_sqlite, module_db, tmp_path_factory.mktemp("reports") / "first.json")


def test_summary_reports_every_row_loaded(first_run, demo_sqlite, server_version):
    result, summary = first_run
    assert summary["server_version"].startswith(f"{server_version}.")
    CHECKSUMS[server_version] = summary["checksums"]
    assert CHECKSUMS[server_version] == CHECKSUMS[16]
    con = sqlite3.connect(demo_sqlite)
    source = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in summary["source"]}
    assert summary["status"] == "ok"
    assert summary["source"] == source == summary["loaded"] == summary["staged"]
    assert source["daily_prices"] == 36135
    assert sum(summary["partitions"].values()) == source["daily_prices"]
    assert summary["seconds"] > 0
    assert "migration ok" in result.stdout
    # What an operator reads: the steps and the summary; dbt's node lines and the parity go to the log.
    assert len(result.stdout.splitlines()) < 40, result.stdout
    log = Path(summary["log"]).read_text()
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0", log) and "| XLK | beta |" in log
    assert "psql" in result.stdout and "connect: postgresql://" in result.stdout


def test_the_staging_tables_are_not_vacuumed_for_their_inserts(first_run, module_db):
    """A full copy rewrites them; vacuuming that copy ran during the run's own tests (alpha_migrate/extract.py)."""
    options = query(
        module_db,
        """select relname, reloptions from pg_class
           where relnamespace = 'staging'::regnamespace and relname like any (array['sqlite_%', 'stg_%'])
             and relkind = 'r' and relname not like '%\\_blocks' and relname not like '%\\_publish%'
           order by relname""",
    )
    assert [name for name, _ in options] == [
        "sqlite_daily_prices",
        "sqlite_portfolio_v1_performance",
        "stg_daily_prices",
        "stg_portfolio_v1_performance",
    ]
    assert all(reloptions == ["autovacuum_vacuum_insert_threshold=-1"] for _, reloptions in options), options


VACUUMED = "{}: vacuumed and analyzed before its checks read it"  # target_db.vacuum_bulk_published


def test_the_first_load_is_vacuumed_before_its_checks_read_it(first_run, module_db):
    """Its publish wrote every row: the run vacuums and analyzes both tables itself, rather than leave it to
    autovacuum while its own tests and parity read them (target_db.vacuum_bulk_published)."""
    result, _ = first_run
    assert VACUUMED.format("daily_prices") in result.stdout
    assert VACUUMED.format("portfolio_v1_performance") in result.stdout
    partitions = query(
        module_db,
        """select child.relpages, child.relallvisible, child.reltuples from pg_inherits
           join pg_class child on child.oid = pg_inherits.inhrelid
           where inhparent = 'public.daily_prices'::regclass and child.relpages > 0""",
    )
    assert partitions and all(visible == pages and rows > 0 for pages, visible, rows in partitions), partitions


def test_the_vacuum_skips_a_table_another_session_holds_and_says_so(migrated_db):
    """A session holding a lock that conflicts with VACUUM neither holds up the run nor fails it: the table
    is left to autovacuum, and the run's output says so."""
    holder = psycopg2.connect(migrated_db.libpq())
    try:
        with holder.cursor() as cur:
            cur.execute("lock table public.daily_prices in share update exclusive mode")
        written = {
            "daily_prices": {"inserted": 10, "updated": 0},
            "portfolio_v1_performance": {"inserted": 0, "updated": 5},
        }
        loaded = {"daily_prices": {"loaded": 10}, "portfolio_v1_performance": {"loaded": 5}}
        with target_db.connect(migrated_db) as con:
            outcomes = target_db.vacuum_bulk_published(con, written, loaded)
    finally:
        holder.rollback()
        holder.close()
    assert outcomes == {
        "daily_prices": 'vacuum skipped (skipping vacuum of "daily_prices" --- lock not available); autovacuum will',
        "portfolio_v1_performance": "vacuumed and analyzed before its checks read it",
    }


def test_yearly_partitions_from_first_data_year_through_next_year(first_run, module_db):
    _, summary = first_run
    next_year = dt.date.today().year + 1
    assert list(summary["partitions"]) == [f"daily_prices_{y}" for y in range(2015, next_year + 1)]
    bounds = query(
        module_db,
        """select child.relname, pg_get_expr(child.relpartbound, child.oid)
           from pg_inherits join pg_class child on child.oid = pg_inherits.inhrelid
           where inhparent = 'public.daily_prices'::regclass""",
    )
    for name, bound in bounds:
        year = int(name[-4:])
        assert bound == f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
    per_year = dict(query(module_db, "select tableoid::regclass::text, count(*) from daily_prices group by 1"))
    assert {k: v for k, v in summary["partitions"].items() if v} == per_year


def test_a_first_load_writes_each_partition_in_key_order(demo_sqlite, fresh_db, tmp_path):
    """One ticker's rows then share a few pages of each partition, where its history reads them
    (macros/publish/publish_table.sql). The source here holds its rows day by day, all tickers of a day
    together, as a file the Bot appends to does."""
    by_day = tmp_path / "by_day.db"
    shutil.copy(demo_sqlite, by_day)
    lite = sqlite3.connect(by_day)
    with lite:
        lite.execute("create temp table day_major as select * from daily_prices order by date, ticker")
        lite.execute("delete from daily_prices")
        lite.execute("insert into daily_prices select * from day_major order by date, ticker")
    lite.close()
    migrate_ok(by_day, fresh_db, tmp_path / "report.json")
    (rows, out_of_order), *_ = query(
        fresh_db,
        """select count(*), count(*) filter (where after_next)
           from (select (ticker, date) < lag((ticker, date)) over (partition by tableoid order by ctid) as after_next
                 from daily_prices) as stored""",
    )
    assert rows > 10_000 and out_of_order == 0


def test_every_value_equals_its_source_within_four_decimal_rounding(first_run, module_db, demo_sqlite):
    assert_prices_match_the_file(demo_sqlite, module_db)


def test_portfolio_values_equal_the_source_within_their_scales(first_run, module_db, demo_sqlite):
    source = dict(
        (d, rest) for d, *rest in sqlite3.connect(demo_sqlite).execute("select * from portfolio_v1_performance")
    )
    rows = query(
        module_db,
        "select date::text, total_portfolio_value, daily_return_vs_spy, cumulative_alpha from portfolio_v1_performance",
    )
    assert len(rows) == len(source)
    for date, value, excess, alpha in rows:
        src_value, src_excess, src_alpha = source[date]
        assert within_rounding(value, src_value, 2)
        assert within_rounding(excess, src_excess, 6) and within_rounding(alpha, src_alpha, 6)


def test_second_run_gives_the_same_result_while_a_reader_keeps_reading(first_run, module_db, demo_sqlite, tmp_path):
    _, first = first_run
    stop = threading.Event()
    errors: list[str] = []
    served = [0]

    def reader():
        con = psycopg2.connect(module_db.libpq())
        con.autocommit = True
        with con.cursor() as cur:
            while not stop.is_set():
                try:
                    cur.execute(
                        "select ticker, count(*), max(adj_close) from daily_prices "
                        "where date > (select max(date) from daily_prices) - 30 group by ticker"
                    )
                    if len(cur.fetchall()) != 12:
                        errors.append("reader saw a partial table")
                    served[0] += 1
                except psycopg2.Error as exc:
                    errors.append(str(exc))
                    time.sleep(0.05)
        con.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        report = tmp_path / "second.json"
        result = invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", module_db.uri(), "--report", str(report))
    finally:
        stop.set()
        thread.join()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "vacuumed" not in result.stdout  # it wrote nothing: autovacuum's to judge
    second = json.loads(report.read_text())
    # The run keeps its snapshot with its sha256 (checked at once: runs elsewhere prune older snapshots).
    assert hashlib.sha256(open(second["snapshot_path"], "rb").read()).hexdigest() == second["snapshot_sha256"]
    assert errors == []
    assert served[0] > 10
    for key in ("loaded", "partitions", "checksums", "snapshot_sha256"):
        assert second[key] == first[key], key
    leftovers = query(
        module_db, "select relname from pg_class where relname like '%dbt_tmp%' or relname like '%dbt_backup%'"
    )
    assert leftovers == []


def test_analyst_runs_dbt_test_with_the_example_profile(first_run, module_db, tmp_path):
    result = analyst_dbt_test(module_db, tmp_path)
    assert result.returncode == 0, result.stdout
    assert re.search(r"Done\. PASS=(\d+) WARN=0 ERROR=0", result.stdout)
    assert int(re.search(r"PASS=(\d+)", result.stdout).group(1)) >= 10
    # The dbt unit tests of the data rules (models/staging/sqlite/_sqlite__models.yml) are part of a plain
    # `dbt test`.
    assert len(re.findall(r"PASS stg_\w+::stg_\w+", result.stdout)) == 5, result.stdout


def test_analyst_dbt_build_publishes_each_mart_itself_and_changes_nothing_unchanged(first_run, module_db, tmp_path):
    before = digests(module_db, ["daily_prices"])
    result = analyst_dbt_test(module_db, tmp_path, "build")
    assert result.returncode == 0, result.stdout
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0", result.stdout)
    assert digests(module_db, ["daily_prices"]) == before
    # The latest publish is this build's, one transaction per mart, and it wrote nothing.
    latest = query(
        module_db,
        """select table_name, inserted, updated, unchanged from staging.sync_runs
           where run_id = (select run_id from staging.sync_runs order by published_at desc limit 1) order by 1""",
    )
    assert latest == [("daily_prices", 0, 0, 36135), ("portfolio_v1_performance", 0, 0, 3103)]


def test_dbt_test_fails_when_a_loaded_row_goes_missing(first_run, module_db, tmp_path):
    con = psycopg2.connect(module_db.libpq())
    with con, con.cursor() as cur:
        cur.execute("select * from daily_prices where ticker = 'XLK' and date = '2020-03-02'")
        row = cur.fetchone()
        cur.execute("delete from daily_prices where ticker = 'XLK' and date = '2020-03-02'")
    try:
        result = analyst_dbt_test(module_db, tmp_path)
        assert result.returncode == 1
        assert "FAIL 1 reconciles_with_source_daily_prices" in result.stdout
    finally:
        with con, con.cursor() as cur:
            cur.execute("insert into daily_prices values (%s, %s, %s, %s, %s)", row)
        con.close()


def test_dbt_test_fails_when_a_row_goes_missing_from_the_raw_copy(migrated_db, tmp_path):
    """reconciles_with_source takes the source's rows from the raw copy's block digests only while nothing
    has written to the copy since a run proved it equal to the file: a delete since is counted."""
    execute(migrated_db, "delete from staging.sqlite_daily_prices where sqlite_rowid = 1")
    result = analyst_dbt_test(migrated_db, tmp_path)
    assert result.returncode == 1
    assert "FAIL 1 reconciles_with_source_daily_prices" in result.stdout
    assert "reconciles_with_source_portfolio_v1_performance" in result.stdout
    assert "FAIL 1 reconciles_with_source_portfolio" not in result.stdout
