"""A sync copies and reclassifies only what changed in the source, and ends exactly where the full path
(every row copied, classified and compared again) ends, even when an earlier sync stopped half-way.

Source: 60,000 synthetic rows, six blocks of rowids (alpha_migrate/raw_blocks.py). The changed source
adds a day for every ticker and changes, deletes, duplicates and re-keys rows spread over the file.
"""

import shutil
import sqlite3
from pathlib import Path

import psycopg2
import pytest

from scripts.synthetic_db import write_next_day, write_synthetic_database
from tests.conftest import create_database, digests, drop_database, invoke, migrate_ok, query

ROWS = 60_000
TICKERS = 600


def write_changed_source(v1: Path, v2: Path) -> None:
    write_next_day(v1, v2)
    con = sqlite3.connect(v2)
    with con:
        con.execute("update daily_prices set adj_close = adj_close + 1 where rowid = 100")
        con.execute("delete from daily_prices where rowid = 200")
        # ' TICKER' normalises to TICKER: an identical copy is merged, a different one is a key conflict.
        copy = "insert into daily_prices select ' ' || ticker, date, {} from daily_prices where rowid = {}"
        con.execute(copy.format("raw_close, adj_close, volume", 300))
        con.execute(copy.format("1.0, 1.0, 1", 400))
        con.execute("update daily_prices set date = '2020-06-01' where rowid = 45000")  # a year with no partition yet
    con.close()


def write_conflict_resolved(v2: Path, v3: Path) -> None:
    """v2 with its conflicting copy (appended, so in the last block) given the values of the row it copies
    (rowid 400, in the first block, which v3 leaves as it was): both rows of the key are valid again."""
    shutil.copyfile(v2, v3)
    con = sqlite3.connect(v3)
    with con:
        con.execute(
            """update daily_prices set (raw_close, adj_close, volume) =
               (select raw_close, adj_close, volume from daily_prices where rowid = 400)
               where ticker like ' %' and raw_close = 1.0"""
        )
    con.close()


@pytest.fixture(scope="module")
def runs(admin_target, tmp_path_factory):
    folder = tmp_path_factory.mktemp("incremental")
    v1 = write_synthetic_database(folder / "v1.db", ROWS)
    v2, v3 = folder / "v2.db", folder / "v3.db"
    write_changed_source(v1, v2)
    write_conflict_resolved(v2, v3)
    incremental = create_database(admin_target)
    out = {"first": migrate_ok(v1, incremental, folder / "first.json")[1]}
    full = create_database(admin_target, template=incremental)  # the same first migration, copied
    try:
        out["before"] = digests(incremental)
        # Two conflicting rows exceed --max-rejects 0: the sync stops after classifying, before publishing.
        out["stopped"] = invoke("migrate", "--sqlite", str(v2), "--dsn", incremental.uri())
        out["after_stop"] = digests(incremental)
        out["incremental"] = migrate_ok(v2, incremental, folder / "incremental.json", "--max-rejects", "5")[1]
        # Without digests nothing is trusted: everything is copied, classified and compared again.
        forget_block_digests(full)
        out["full"] = migrate_ok(v2, full, folder / "full.json", "--max-rejects", "5")[1]
        out["checksums"] = digests(incremental), digests(full)
        out["partitions"] = query(incremental, "select count(*) from daily_prices_2020")[0][0]
        out["resolved"] = migrate_ok(v3, incremental, folder / "resolved.json")[1]
        forget_block_digests(full)
        out["resolved_full"] = migrate_ok(v3, full, folder / "resolved_full.json")[1]
        out["resolved_checksums"] = digests(incremental), digests(full)
    finally:
        drop_database(admin_target, incremental)
        drop_database(admin_target, full)
    return out


def forget_block_digests(target) -> None:
    con = psycopg2.connect(target.libpq())
    with con, con.cursor() as cur:
        cur.execute("truncate staging.sqlite_daily_prices_blocks")
    con.close()


def test_a_sync_that_stops_at_the_gate_changes_nothing(runs):
    assert runs["stopped"].returncode == 1
    assert "2 rows quarantined, more than --max-rejects 0" in runs["stopped"].stdout + runs["stopped"].stderr
    assert runs["after_stop"] == runs["before"]


def test_the_next_sync_publishes_what_the_stopped_one_classified(runs):
    incremental = runs["incremental"]
    # The stopped run copied the changed blocks already: nothing is left to copy, yet all is published.
    assert incremental["extract"]["daily_prices"] == {
        "rows": ROWS + TICKERS + 2 - 1,
        "full_copy": False,
        "blocks_copied": 0,
        "rows_copied": 0,
        "row_identity": "rowid",
    }
    assert incremental["sync"]["daily_prices"] == runs["full"]["sync"]["daily_prices"]
    assert incremental["sync"]["daily_prices"]["inserted"] == TICKERS + 1  # the new day, and the re-keyed row
    assert incremental["sync"]["daily_prices"]["updated"] == 1
    assert runs["partitions"] == 1


def test_a_sync_reclassifies_only_changed_blocks_and_their_keys(runs):
    incremental, full = runs["incremental"]["classified"], runs["full"]["classified"]
    assert incremental["stg_daily_prices"]["incremental"] is True
    # The copies of rows 300 and 400 repeat a valid key: the full path compares every row by key, where the
    # first migration of v1, whose keys are all distinct, classified them one by one.
    assert full["stg_daily_prices"] == {"incremental": False, "reclassified": ROWS + TICKERS + 2 - 1, "by_key": True}
    first = runs["first"]["classified"]["stg_daily_prices"]
    assert first == {"incremental": False, "reclassified": ROWS, "by_key": False}
    # Changed blocks: 0 (rowids 100..400), 4 (45000) and 6 (the new rows); the rows sharing their keys.
    assert 2 * 10_000 < incremental["stg_daily_prices"]["reclassified"] < 3 * 10_000 + TICKERS + 2


def test_incremental_and_full_syncs_end_identical(runs):
    incremental, full = runs["checksums"]
    assert incremental == full
    for key in ("reconciliation", "rejected", "sync"):
        assert runs["incremental"][key] == runs["full"][key]
    assert runs["incremental"]["rejected"]["daily_prices"] == {"key_conflict": 2}


def test_a_sync_skips_the_whole_history_parity(runs):
    assert "verify" not in runs["incremental"]
    assert "verify" in runs["full"]


def test_a_sync_reclassifies_the_rejected_rows_sharing_a_changed_key(runs):
    """v3 changes only the conflicting copy, in the last block; the row it conflicted with, rejected and in
    a block v3 leaves alone, shares its key, so it is reclassified too: both rows become valid copies,
    one loaded and one merged, exactly as the full path finds."""
    resolved, full = runs["resolved"], runs["resolved_full"]
    assert resolved["classified"]["stg_daily_prices"]["incremental"] is True
    assert resolved["rejected"]["daily_prices"] == {} == full["rejected"]["daily_prices"]
    assert resolved["reconciliation"] == full["reconciliation"]
    assert resolved["reconciliation"]["daily_prices"]["merged"] == 2
    assert runs["resolved_checksums"][0] == runs["resolved_checksums"][1]
