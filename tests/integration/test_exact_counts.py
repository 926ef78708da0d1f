"""What a publish reports is what it wrote, a first load leaves no keyless window, and the quarantine
keeps only the runs asked for."""

import sqlite3
import subprocess

import psycopg2

from alpha_migrate import migrate as migration
from tests.conftest import INVOKE, copy_with_a_changed_day, execute, invoke, migrate_ok, query
from tests.integration.test_killed_run import PUBLISH_WAITING, wait_for

LAST_DAY = "select max(date) from daily_prices"


def test_a_bot_write_during_the_publish_is_not_counted_as_the_publishs(migrated_db, demo_sqlite, tmp_path):
    """The Bot holds one of the rows a sync changes, then writes the very value the source holds: the
    publish, waiting on it, finds nothing left to change there, and its counts say so."""
    source = copy_with_a_changed_day(demo_sqlite, tmp_path / "changed.db")
    changed = sqlite3.connect(source).execute(f"select count(*) from daily_prices where date = ({LAST_DAY})")
    changed = changed.fetchone()[0]
    bot = psycopg2.connect(migrated_db.libpq())
    with bot.cursor() as cur:
        cur.execute(
            f"select ticker, date from daily_prices where date = ({LAST_DAY}) order by ticker limit 1 for update"
        )
        ticker, day = cur.fetchone()
        sync = subprocess.Popen(
            [
                INVOKE,
                "migrate",
                "--sqlite",
                str(source),
                "--dsn",
                migrated_db.uri(),
                "--report",
                str(tmp_path / "r.json"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wait_for(lambda: query(migrated_db, PUBLISH_WAITING)[0][0] == 1, "the publish to wait on the Bot's row")
        cur.execute("update daily_prices set volume = volume + 1 where ticker = %s and date = %s", (ticker, day))
    bot.commit()
    bot.close()
    output = sync.communicate(timeout=300)[0]
    assert sync.returncode == 0, output
    counts = query(migrated_db, "select inserted, updated from staging.sync_runs order by published_at desc limit 2")
    assert (0, changed - 1) in counts, counts


def test_a_bot_row_written_before_the_first_publish_meets_the_key(fresh_db, demo_sqlite, tmp_path, monkeypatch):
    """Between the first run's build (which creates the tables) and its publish, the Bot writes a key the
    source holds, with another volume, and a key of its own: the table had its key all along, the publish
    upserts over the Bot's copy of the source key, keeps the other, and the next sync runs."""
    real_check = migration.check_staging_copy

    def bot_writes_then_check(*args):
        for day_offset, volume in ((0, 1), (1, 2)):
            execute(
                fresh_db,
                "insert into daily_prices select 'XLK', %s::date + %s, 1, 1, %s",
                (sqlite3.connect(demo_sqlite).execute(LAST_DAY).fetchone()[0], day_offset, volume),
            )
        return real_check(*args)

    # conftest runs invoke in this process, so the migration calls the patched check.
    monkeypatch.setattr(migration, "check_staging_copy", bot_writes_then_check)
    _, summary = migrate_ok(demo_sqlite, fresh_db, tmp_path / "first.json")
    monkeypatch.undo()
    source_rows = sqlite3.connect(demo_sqlite).execute("select count(*) from daily_prices").fetchone()[0]
    assert summary["status"] == "ok"
    assert query(fresh_db, "select count(*) from daily_prices") == [(source_rows + 1,)]
    assert query(fresh_db, "select count(*) from daily_prices where volume in (1, 2)") == [(1,)]
    assert query(
        fresh_db, "select conname from pg_constraint where conrelid = 'daily_prices'::regclass and contype = 'p'"
    )
    migrate_ok(demo_sqlite, fresh_db, tmp_path / "sync.json")


def test_rejects_prune_keeps_the_latest_runs(migrated_db):
    execute(
        migrated_db,
        """insert into staging.rejected_rows (run_id, source_table, sqlite_rowid, reason, raw_values, quarantined_at)
           select 'run-' || run, 'daily_prices', rowid, 'ticker_missing', '{}', now() - make_interval(days => 10 - run)
           from generate_series(1, 3) run, generate_series(1, 4) rowid""",
    )
    result = invoke("rejects", "--prune", "--keep", "1", "--dsn", migrated_db.uri())
    assert result.returncode == 0, result.stderr
    assert "deleted the quarantine of 2 runs (8 rows); kept the latest 1 runs'" in result.stdout
    assert query(migrated_db, "select distinct run_id from staging.rejected_rows") == [("run-3",)]
    bad = invoke("rejects", "--prune", "--keep", "some", "--dsn", migrated_db.uri())
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
