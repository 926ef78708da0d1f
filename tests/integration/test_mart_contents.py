"""The report's checksums read again only the partitions written since a run last read them
(alpha_migrate/mart_contents.py, macros/publish/write_log.sql), and still equal a full read of the table
whoever wrote what in between; `reconciles_with_source` takes the mart's keys from that record only while
nothing was written since."""

import datetime as dt
import sqlite3

from alpha_migrate.target_db import KEY_HASH, row_hash_sql
from tests.conftest import PRICE_COLUMNS, copy_with_a_new_day, dbt_test_after_the_sync, execute, migrate_ok, query


def full_read(target) -> tuple[int, str]:
    """The table's rows and checksum, read whole, as a first run takes them."""
    rows, digest = query(target, f"select count(*), sum({row_hash_sql(PRICE_COLUMNS)}) from daily_prices")[0]
    return rows, str(digest)


def sync_days(demo_sqlite, tmp_path, days: int):
    """Sources one, two, ... `days` days after the demo's last."""
    last = sqlite3.connect(demo_sqlite).execute("select max(date) from daily_prices").fetchone()[0]
    last = dt.date.fromisoformat(last)
    source = demo_sqlite
    for n in range(1, days + 1):
        source = copy_with_a_new_day(source, tmp_path / f"day-{n}.db", (last + dt.timedelta(days=n)).isoformat())
        yield source


def test_a_sync_reads_again_only_what_was_written_since(migrated_db, demo_sqlite, tmp_path):
    first, second, third = sync_days(demo_sqlite, tmp_path, 3)
    _, summary = migrate_ok(first, migrated_db, tmp_path / "first.json")
    current = summary["partitions_read"]
    assert len(current) == 1 and (summary["target_rows"]["daily_prices"], summary["checksums"]["daily_prices"]) == (
        full_read(migrated_db)
    )
    # The Bot writes between runs: through the table, into an old year; and straight into a partition.
    execute(migrated_db, "update daily_prices set volume = volume + 1 where date = '2016-03-01'")
    execute(
        migrated_db,
        "insert into daily_prices_2018 (ticker, date, raw_close, adj_close, volume) "
        "values ('ZZZ', '2018-06-01', 1, 1, 1)",
    )
    _, summary = migrate_ok(second, migrated_db, tmp_path / "second.json")
    assert summary["partitions_read"] == sorted(["daily_prices_2016", "daily_prices_2018", *current])
    assert (summary["target_rows"]["daily_prices"], summary["checksums"]["daily_prices"]) == full_read(migrated_db)
    # A partition rewritten into a new file (here with the same rows) is read again too.
    execute(migrated_db, "cluster daily_prices_2019 using daily_prices_2019_pkey")
    _, summary = migrate_ok(third, migrated_db, tmp_path / "third.json")
    assert summary["partitions_read"] == sorted(["daily_prices_2019", *current])
    assert query(migrated_db, "select count(*) from staging.mart_writes") == [(0,)]


def test_a_write_log_found_disabled_makes_the_next_run_read_every_partition(migrated_db, demo_sqlite, tmp_path):
    """Disabled, the trigger logged nothing: the publish puts it back in force and voids the record."""
    (source,) = sync_days(demo_sqlite, tmp_path, 1)
    execute(migrated_db, "alter table daily_prices disable trigger alpha_log_mart_write")
    execute(migrated_db, "update daily_prices set volume = volume + 1 where date = '2016-03-01'")
    _, summary = migrate_ok(source, migrated_db, tmp_path / "sync.json")
    assert len(summary["partitions_read"]) == len(summary["partitions"])
    assert (summary["target_rows"]["daily_prices"], summary["checksums"]["daily_prices"]) == full_read(migrated_db)
    in_force = """select count(*) from pg_trigger where tgname = 'alpha_log_mart_write' and tgenabled = 'A'
        and tgrelid in (select inhrelid from pg_inherits where inhparent = 'daily_prices'::regclass)"""
    assert query(migrated_db, in_force) == [(len(summary["partitions"]),)]


def test_reconciles_with_source_takes_the_marts_keys_from_the_record_only_while_nothing_was_written(
    migrated_db, demo_sqlite, tmp_path
):
    (source,) = sync_days(demo_sqlite, tmp_path, 1)
    _, summary = migrate_ok(source, migrated_db, tmp_path / "sync.json")
    recorded = "select staging.alpha_mart_keys_digest('public.daily_prices'::regclass)"
    keys = f"select count(*)::text || ':' || coalesce(sum({KEY_HASH}), 0)::text from daily_prices"
    assert query(migrated_db, recorded) == query(migrated_db, keys)
    # The Bot deletes a loaded row after the run: its partition is logged, so the record no longer
    # answers, and an analyst's test reads the keys and misses the row.
    execute(
        migrated_db,
        "delete from daily_prices where (ticker, date) = "
        "(select ticker, min(date) from daily_prices where ticker = 'XLK' group by ticker)",
    )
    assert query(migrated_db, recorded) == [(None,)]
    result = dbt_test_after_the_sync(
        migrated_db, tmp_path, summary["run_id"], "test_name:reconciles_with_source,daily_prices"
    )
    assert result.returncode == 1, result.stdout
    assert "FAIL 1 reconciles_with_source_daily_prices" in result.stdout
