"""Nothing lost on files the project did not write, proven against the SQLite file itself.

The real Project Alpha file's traits (GLD, raw_close equal to adj_close, float32 noise, an empty
portfolio), rowids anywhere in 64 bits, WITHOUT ROWID tables and text PostgreSQL cannot store: every
count here is SQLite's own, read with sqlite3, never the migration's copy.
"""

import datetime as dt
import json
import sqlite3

import pytest

from tests.conftest import (
    assert_prices_match_the_file,
    copy_with_a_changed_day,
    copy_with_a_new_day,
    digests,
    execute,
    invoke,
    migrate_ok,
    query,
)
from tests.strange_sources import (
    HUGE_ROWIDS,
    NEGATIVE_ROWIDS,
    SPARSE_ROWIDS,
    connect_as_writer,
    write_imported_csv,
    write_negative_rowids,
    write_other_case_names,
    write_real_like,
    write_unstorable_text,
    write_views_in_place_of_tables,
    write_without_rowid,
    write_writers_own_collation,
)

TABLES = ("daily_prices", "portfolio_v1_performance")


def sqlite_count(path, table: str, where: str = "true") -> int:
    con = connect_as_writer(path)
    try:
        return con.execute(f"select count(*) from {table} where {where}").fetchone()[0]
    finally:
        con.close()


def assert_reconciled_with_the_file(summary: dict, path) -> None:
    for table in TABLES:
        counts = summary["reconciliation"][table]
        assert summary["source"][table] == counts["source"] == sqlite_count(path, table), table
        assert counts["source"] == counts["loaded"] + counts["merged"] + counts["quarantined"], table
        assert counts["balanced"], table


@pytest.fixture
def database(fresh_db):
    return fresh_db


def test_the_real_file_loads_whole_and_lists_its_new_ticker(database, tmp_path):
    source = tmp_path / "sector_etfs.db"
    write_real_like(source)
    result, summary = migrate_ok(source, database, tmp_path / "report.json")
    assert_reconciled_with_the_file(summary, source)
    assert summary["loaded"] == {"daily_prices": sqlite_count(source, "daily_prices"), "portfolio_v1_performance": 0}
    gld = sqlite_count(source, "daily_prices", "ticker = 'GLD'")
    assert summary["new_tickers"] == {"GLD": gld}
    assert f"GLD ({gld:,} rows)" in result.stdout
    assert_prices_match_the_file(source, database)


@pytest.mark.parametrize("portfolio_all_negative", [False, True], ids=["prices", "whole_portfolio"])
def test_rows_at_negative_sparse_and_extreme_rowids_arrive(database, tmp_path, portfolio_all_negative):
    source = tmp_path / "negative.db"
    write_negative_rowids(source, portfolio_all_negative=portfolio_all_negative)
    _, summary = migrate_ok(source, database, tmp_path / "report.json")
    assert_reconciled_with_the_file(summary, source)
    assert summary["target_rows"] == {t: sqlite_count(source, t) for t in TABLES}
    special = (*NEGATIVE_ROWIDS, *HUGE_ROWIDS, *SPARSE_ROWIDS)
    staged = query(
        database, "select sqlite_rowid from staging.stg_daily_prices where sqlite_rowid = any(%s)", (list(special),)
    )
    assert sorted(r for (r,) in staged) == sorted(special)
    if portfolio_all_negative:
        assert sqlite_count(source, "portfolio_v1_performance", "rowid < 0") == 20
        assert summary["loaded"]["portfolio_v1_performance"] == 20


def test_a_sync_of_rows_added_at_negative_rowids_copies_only_their_blocks(database, tmp_path):
    source = tmp_path / "negative.db"
    write_negative_rowids(source)
    migrate_ok(source, database, tmp_path / "first.json")
    con = sqlite3.connect(source)
    with con:
        con.execute(
            "insert into daily_prices (rowid, ticker, date, raw_close, adj_close, volume) "
            "values (-3, 'XLK', '2025-12-01', 1.5, 1.5, 10), (-20000, 'XLK', '2025-12-02', 1.5, 1.5, 10)"
        )
    con.close()
    _, summary = migrate_ok(source, database, tmp_path / "sync.json")
    assert_reconciled_with_the_file(summary, source)
    extract = summary["extract"]["daily_prices"]
    assert not extract["full_copy"] and extract["blocks_copied"] == 2
    assert summary["sync"]["daily_prices"]["inserted"] == 2


def test_without_rowid_tables_are_numbered_and_the_report_says_how(database, tmp_path):
    source = tmp_path / "without_rowid.db"
    write_without_rowid(source, portfolio_without_rowid=True)
    result, summary = migrate_ok(source, database, tmp_path / "first.json")
    assert_reconciled_with_the_file(summary, source)
    assert summary["extract"]["daily_prices"]["row_identity"] == "ordinal by (ticker, date)"
    assert summary["extract"]["portfolio_v1_performance"]["row_identity"] == "ordinal by (date)"
    assert "rows identified by ordinal by (ticker, date)" in result.stdout
    assert_a_new_day_syncs(source, "daily_prices", database, tmp_path)


def assert_a_new_day_syncs(source, prices_table: str, database, tmp_path) -> None:
    """One new row in the file: the sync inserts it, updates nothing, and reconciles with the file."""
    con = connect_as_writer(source)
    with con:
        con.execute(f"insert into {prices_table} select ticker, '2026-01-05', 1.0, 1.0, 1 from {prices_table} limit 1")
    con.close()
    _, summary = migrate_ok(source, database, tmp_path / "sync.json")
    assert_reconciled_with_the_file(summary, source)
    assert summary["sync"]["daily_prices"]["inserted"] == 1
    assert summary["sync"]["daily_prices"]["updated"] == 0


def loaded_whole(write, database, tmp_path):
    """The file `write` makes, migrated: every row SQLite counts loaded, reconciled with the file."""
    source = tmp_path / "sector_etfs.db"
    counts = write(source)
    result, summary = migrate_ok(source, database, tmp_path / "first.json")
    assert_reconciled_with_the_file(summary, source)
    assert summary["loaded"] == counts
    return source, result, summary


def test_tables_and_columns_named_in_other_cases_load_whole(database, tmp_path):
    """DAILY_PRICES and "Ticker" are daily_prices and ticker to SQLite, as to the file's own clients."""
    source, _, summary = loaded_whole(write_other_case_names, database, tmp_path)
    assert not [w for w in summary["warnings"] if "ignored extra" in w], summary["warnings"]
    assert_prices_match_the_file(source, database)


def test_views_in_place_of_tables_are_numbered_and_synced(database, tmp_path):
    """A view's rowid is NULL on every row: its rows are numbered by their values, as WITHOUT ROWID ones are."""
    source, result, summary = loaded_whole(write_views_in_place_of_tables, database, tmp_path)
    identity = "ordinal by (ticker, date, raw_close, adj_close, volume)"
    assert summary["extract"]["daily_prices"]["row_identity"] == identity
    assert f"rows identified by {identity}" in result.stdout
    assert_a_new_day_syncs(source, "prices_store", database, tmp_path)
    assert_prices_match_the_file(source, database)


def test_indexes_in_the_writers_own_collation_load_whole_and_sync(database, tmp_path):
    """SQLite counts a table by its smallest index, here one that only the writing application can read."""
    source, _, _ = loaded_whole(write_writers_own_collation, database, tmp_path)
    assert_a_new_day_syncs(source, "daily_prices", database, tmp_path)
    assert_prices_match_the_file(source, database)


def test_numbers_stored_as_text_load_as_the_numbers_they_spell(database, tmp_path):
    """A file whose columns the sqlite3 shell's `.import` declared TEXT: every price, volume and portfolio
    measure is text, and each loads as the number SQLite itself reads in it; `invoke verify`, which reads
    the file again, agrees."""
    source, _, _ = loaded_whole(write_imported_csv, database, tmp_path)
    assert_prices_match_the_file(source, database)
    assert_a_new_day_syncs(source, "daily_prices", database, tmp_path)
    result = invoke("verify", "--sqlite", str(source), "--dsn", database.uri(), "--reports-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_unstorable_text_is_quarantined_with_its_bytes(database, tmp_path):
    source = tmp_path / "unstorable.db"
    written = write_unstorable_text(source)
    bad = written["unstorable"]
    report = tmp_path / "stopped.json"
    stopped = invoke("migrate", "--sqlite", str(source), "--dsn", database.uri(), "--report", str(report))
    assert stopped.returncode == 1
    total = sum(bad.values())
    assert stopped.stderr.startswith(f"error: {total} rows quarantined, more than --max-rejects 0: the target tables")
    assert query(database, "select to_regclass('public.daily_prices') is null")[0][0]

    _, summary = migrate_ok(source, database, tmp_path / "report.json", "--max-rejects", str(total))
    assert_reconciled_with_the_file(summary, source)
    assert summary["rejected"] == {t: {"text_unstorable": bad[t]} for t in TABLES}
    assert summary["loaded"] == {t: written[t] - bad[t] for t in TABLES}
    quarantined = query(
        database,
        "select raw_values from staging.rejected_rows where run_id = %s order by source_table, sqlite_rowid",
        (summary["run_id"],),
    )
    hexes = [json.loads(raw)["unstorable_hex"] for (raw,) in quarantined]
    assert {"ticker": b"XL\x00K".hex()} in hexes and {"ticker": "58ff4b"} in hexes
    assert {"raw_close": "31ff32"} in hexes and {"volume": "00ff"} in hexes


def test_a_copy_changed_before_the_publish_stops_the_run_with_the_target_unchanged(
    migrated_db, demo_sqlite, tmp_path, monkeypatch
):
    """The staging copy loses a row, or a value, between extract and transform: the file's own count
    and digest catch it, and nothing is published."""
    from io import StringIO

    from alpha_migrate import migrate as migration
    from alpha_migrate.console import Console
    from alpha_migrate.errors import MigrationError

    database = migrated_db
    before = digests(database)
    source = copy_with_a_changed_day(demo_sqlite, tmp_path / "changed.db")
    rows = sqlite_count(source, "daily_prices")
    tamperings = {
        "rows": (
            "delete from staging.sqlite_daily_prices where sqlite_rowid = (select max(sqlite_rowid) "
            "from staging.sqlite_daily_prices)"
        ),
        "values": "update staging.sqlite_daily_prices set raw_close = raw_close + 1 where sqlite_rowid = 1",
    }
    real_extract = migration.extract
    for what, tampering in tamperings.items():

        def extract_then_tamper(*args, tampering=tampering):
            staged = real_extract(*args)
            execute(database, tampering)
            return staged

        monkeypatch.setattr(migration, "extract", extract_then_tamper)
        options = migration.Options(source, dsn=database.uri(), report=tmp_path / f"{what}.json")
        with pytest.raises(MigrationError) as stopped:
            migration.migrate(options, Console(8, StringIO()))
        staged = rows - 1 if what == "rows" else rows
        assert str(stopped.value) == (
            f"the staging copy of daily_prices differs from the SQLite file in its "
            f"{'rows' if what == 'rows' else 'values (same row count, different digest)'}: SQLite counts {rows:,} "
            f"rows, staging holds {staged:,}; nothing was published, the target tables are unchanged"
        )
        assert digests(database) == before
        assert json.loads((tmp_path / f"{what}.json").read_text())["status"] == "failed"


@pytest.mark.parametrize(
    "tampering",
    [
        pytest.param(
            "update staging.sqlite_daily_prices set raw_close = raw_close + 1 where sqlite_rowid = 1", id="logged"
        ),
        pytest.param(
            "alter table staging.sqlite_daily_prices alter column raw_close type double precision "
            "using case when sqlite_rowid = 1 then raw_close + 1 else raw_close end",
            id="rewritten-by-ddl",
        ),
    ],
)
def test_a_copy_changed_while_it_is_read_back_is_read_again(migrated_db, demo_sqlite, tmp_path, monkeypatch, tampering):
    """The read-back runs beside the transform (source_check.ReadBack): a value changed in staging after
    that read, while the transform may still read it, shows in the write log or as the table's new file,
    so the table is read again and the file's digest stops the sync."""
    from io import StringIO

    from alpha_migrate import migrate as migration
    from alpha_migrate.console import Console
    from alpha_migrate.errors import MigrationError

    before = digests(migrated_db)
    source = next_day_source(demo_sqlite, tmp_path / "next.db")
    real_check = migration.check_staging_copy

    def tamper_then_check(con, run_id, sqlite_rows, copied, read_back):
        read_back.found(con)  # the first read is over
        execute(migrated_db, tampering)
        return real_check(con, run_id, sqlite_rows, copied, read_back)

    monkeypatch.setattr(migration, "check_staging_copy", tamper_then_check)
    options = migration.Options(source, dsn=migrated_db.uri(), report=tmp_path / "sync.json")
    with pytest.raises(MigrationError, match="differs from the SQLite file in its values"):
        migration.migrate(options, Console(8, StringIO()))
    assert digests(migrated_db) == before


def test_a_read_back_that_cannot_read_stops_with_one_line(migrated_db):
    """The read-back's own process reports what stopped it as the run's one-line error."""
    from alpha_migrate import target_db
    from alpha_migrate.dsn import Target
    from alpha_migrate.errors import MigrationError
    from alpha_migrate.source_check import ReadBack

    elsewhere = Target({**migrated_db.params, "dbname": "no_such_database"})
    copied = {"daily_prices": {"full_copy": True, "ranges": []}}
    with target_db.connect(migrated_db) as con, ReadBack(elsewhere, con, "run", copied) as read_back:
        with pytest.raises(MigrationError) as stopped:
            read_back.found(con)
    message = str(stopped.value)
    assert message.startswith("could not read the staging copy back to check it: ") and "no_such_database" in message
    assert "\n" not in message


def next_day_source(demo_sqlite, copy):
    last = sqlite3.connect(demo_sqlite).execute("select max(date) from daily_prices").fetchone()[0]
    day = (dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()
    return copy_with_a_new_day(demo_sqlite, copy, day)


def test_a_sync_reads_back_only_the_blocks_it_copied(migrated_db, demo_sqlite, tmp_path):
    """No write to staging but the extract's since the last check: the rest of the copy is what that
    check proved, and only the copied blocks are read back (alpha_migrate/raw_writes.py)."""
    source = next_day_source(demo_sqlite, tmp_path / "next.db")
    _, summary = migrate_ok(source, migrated_db, tmp_path / "sync.json")
    assert summary["extract"]["daily_prices"]["full_copy"] is False
    assert summary["source_check"]["daily_prices"]["read_back"] == "1 copied ranges"
    assert summary["source_check"]["daily_prices"]["staged_rows"] == sqlite_count(source, "daily_prices")
    # The portfolio did not change: nothing of it is read back.
    assert summary["source_check"]["portfolio_v1_performance"]["read_back"] == "0 copied ranges"
    assert query(migrated_db, "select count(*) from staging.raw_writes") == [(0,)]
    # So the next extract, and this run's reconciles_with_source, took the copy's rows from its digests.
    untouched = "select staging.alpha_raw_untouched(%s, %s)"
    logged = ["staging.sqlite_daily_prices", "staging.sqlite_daily_prices_blocks"]
    assert query(migrated_db, untouched, ("daily_prices", logged)) == [(True,)]
    execute(migrated_db, "alter table staging.sqlite_daily_prices_blocks disable trigger alpha_log_write")
    assert query(migrated_db, untouched, ("daily_prices", logged)) == [(False,)]


def test_a_sync_after_the_last_check_is_forgotten_reads_everything_back(migrated_db, demo_sqlite, tmp_path):
    """What docs/operator.md tells an operator who wants the whole copy checked again."""
    execute(migrated_db, "delete from staging.raw_checked")
    _, summary = migrate_ok(next_day_source(demo_sqlite, tmp_path / "next.db"), migrated_db, tmp_path / "sync.json")
    assert summary["source_check"]["daily_prices"]["read_back"] == "whole table"
    assert query(migrated_db, "select count(*) from staging.raw_checked") == [(2,)]


def test_a_row_deleted_from_the_copy_between_runs_makes_the_sync_copy_everything(migrated_db, demo_sqlite, tmp_path):
    """The extract takes the copy's row count from its block digests only while nothing has written to it
    since the last check: here a logged delete has, the count no longer matches the digests, and the
    sync copies the whole table again instead of trusting them (and failing at the read-back)."""
    execute(migrated_db, "delete from staging.sqlite_daily_prices where sqlite_rowid = 1")
    source = next_day_source(demo_sqlite, tmp_path / "next.db")
    _, summary = migrate_ok(source, migrated_db, tmp_path / "sync.json")
    assert summary["extract"]["daily_prices"]["full_copy"] is True
    assert summary["source_check"]["daily_prices"]["staged_rows"] == sqlite_count(source, "daily_prices")
    # The portfolio's copy was not written to: its rows are still counted from its digests, and it is untouched.
    assert summary["extract"]["portfolio_v1_performance"]["rows_copied"] == 0


CHANGE_ROW_ONE = "update staging.sqlite_daily_prices set raw_close = raw_close + 1 where sqlite_rowid = 1"


@pytest.mark.parametrize(
    "tampering",
    [
        pytest.param([CHANGE_ROW_ONE], id="logged"),
        pytest.param(
            ["alter table staging.sqlite_daily_prices disable trigger alpha_log_write", CHANGE_ROW_ONE], id="unlogged"
        ),
        pytest.param(["set session_replication_role = replica", CHANGE_ROW_ONE], id="as-a-replica"),
        pytest.param(
            [
                "alter table staging.sqlite_daily_prices alter column raw_close type double precision "
                "using case when sqlite_rowid = 1 then raw_close + 1 else raw_close end"
            ],
            id="rewritten-by-ddl",
        ),
    ],
)
def test_a_copy_changed_between_runs_outside_the_copied_blocks_stops_the_sync(
    migrated_db, demo_sqlite, tmp_path, tampering
):
    """A value changed in staging after the last run, in a block the sync does not copy: logged, the
    trigger found disabled, or the table found in another file (a DDL rewrite logs nothing), the whole
    copy is read back and the file's digest catches it."""
    execute(migrated_db, "; ".join(tampering))
    before = digests(migrated_db)
    source = next_day_source(demo_sqlite, tmp_path / "next.db")
    report = tmp_path / "sync.json"
    result = invoke("migrate", "--sqlite", str(source), "--dsn", migrated_db.uri(), "--report", str(report))
    rows = sqlite_count(source, "daily_prices")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: the staging copy of daily_prices differs from the SQLite file in its values (same row count, "
        f"different digest): SQLite counts {rows:,} rows, staging holds {rows:,}; nothing was published, the "
        "target tables are unchanged"
    )
    assert digests(migrated_db) == before
    # The run put the trigger back in force.
    assert query(
        migrated_db,
        "select count(*) from pg_trigger where tgname = 'alpha_log_write' and tgenabled = 'A'",
    ) == [(4,)]


def test_a_check_failed_after_the_publish_is_named_with_its_rows(migrated_db, demo_sqlite, tmp_path):
    database = migrated_db
    execute(
        database,
        "delete from daily_prices where (ticker, date) = "
        "(select ticker, max(date) from daily_prices where ticker = 'XLK' group by ticker)",
    )
    report = tmp_path / "second.json"
    result = invoke("migrate", "--sqlite", str(demo_sqlite), "--dsn", database.uri(), "--report", str(report))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: check reconciles_with_source(daily_prices) failed: 1 row (checked after the publish: the "
        "target tables hold this run's rows; sample rows in the report)"
    )
    failed = json.loads(report.read_text())["failed_checks"]
    assert [(c["check"], c["failing_rows"]) for c in failed] == [("reconciles_with_source(daily_prices)", 1)]
    assert failed[0]["samples"][0]["loaded_present"] == str(int(failed[0]["samples"][0]["loaded"]) - 1)
