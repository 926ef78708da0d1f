"""`invoke migrate` on a migrated target is a sync: it inserts what is new, updates what changed, keeps
what only PostgreSQL holds, and deletes only with --mirror, never a key the source still has."""

import psycopg2
import pytest

from scripts.sqlite_schema import write_database
from tests.conftest import migrate_ok, query

DAYS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
PRICES = [(t, d, 100.0 + i, 99.0 + i, 1000 + i) for t in ("XLK", "SPY") for i, d in enumerate(DAYS)]
PORTFOLIO = [(d, 100000.0 + i, 0.001, 0.001 * (i + 1)) for i, d in enumerate(DAYS)]
BOT_ROW = ("XLK", "2024-06-28", 210.5, 210.5, 7)

CHANGED = ("XLK", "2024-01-03", 101.0, 150.25, 1001)  # adj_close was 100.0
NEW_DAY = [("XLK", "2024-01-08", 105.0, 104.0, 1005), ("SPY", "2024-01-08", 105.0, 104.0, 1005)]
LAST_YEAR = [("XLK", "2023-12-29", 99.0, 98.0, 999), ("SPY", "2023-12-29", 99.0, 98.0, 999)]
V2_PRICES = [CHANGED if row[:2] == CHANGED[:2] else row for row in PRICES] + NEW_DAY + LAST_YEAR
V2_PORTFOLIO = [*PORTFOLIO, ("2024-01-08", 100010.0, 0.002, 0.006), ("2023-12-29", 99990.0, 0.0, 0.0)]


def counts(summary: dict, table: str) -> tuple[int, int, int, int]:
    """(inserted, updated, unchanged, deleted) of one table in one run's summary."""
    sync = summary["sync"][table]
    return sync["inserted"], sync["updated"], sync["unchanged"], sync["deleted"]


@pytest.fixture(scope="module")
def synced(module_db, tmp_path_factory):
    """Three runs on one target: first load; a sync after the Bot wrote a row; a --mirror sync."""
    folder = tmp_path_factory.mktemp("sync")
    runs = {}
    write_database(folder / "v1.db", PRICES, PORTFOLIO)
    runs["first"] = migrate_ok(folder / "v1.db", module_db, folder / "first.json")[1]
    bot = psycopg2.connect(module_db.libpq())
    with bot, bot.cursor() as cur:
        cur.execute("insert into daily_prices values (%s, %s, %s, %s, %s)", BOT_ROW)
    bot.close()

    write_database(folder / "v2.db", V2_PRICES, V2_PORTFOLIO)
    runs["sync"] = migrate_ok(folder / "v2.db", module_db, folder / "sync.json")[1]
    runs["after_sync"] = query(module_db, "select ticker, date::text, adj_close::float8 from daily_prices")

    # The source loses SPY's first day, and XLK 2024-01-04 gains a conflicting copy (' xlk' normalises to
    # XLK): both copies are quarantined, and the key must survive the mirror.
    v3 = [row for row in V2_PRICES if row[:2] != ("SPY", "2024-01-02")] + [(" xlk", "2024-01-04", 1.0, 1.0, 1)]
    write_database(folder / "v3.db", v3, V2_PORTFOLIO)
    runs["mirror"] = migrate_ok(folder / "v3.db", module_db, folder / "mirror.json", "--mirror", "--max-rejects", "5")[
        1
    ]
    runs["after_mirror"] = query(module_db, "select ticker, date::text, adj_close::float8 from daily_prices")
    return runs


def test_the_first_run_inserts_everything(synced):
    assert counts(synced["first"], "daily_prices") == (8, 0, 0, 0)
    assert counts(synced["first"], "portfolio_v1_performance") == (4, 0, 0, 0)


def test_a_sync_moves_only_what_changed(synced):
    assert counts(synced["sync"], "daily_prices") == (4, 1, 7, 0)
    assert counts(synced["sync"], "portfolio_v1_performance") == (2, 0, 4, 0)
    assert ("XLK", "2024-01-03", 150.25) in synced["after_sync"]


def test_a_sync_keeps_the_rows_only_postgresql_holds(synced):
    assert ("XLK", "2024-06-28", 210.5) in synced["after_sync"]
    assert len(synced["after_sync"]) == len(V2_PRICES) + 1


def test_a_new_year_gets_its_partition_before_its_rows(synced):
    assert synced["first"]["partitions"].get("daily_prices_2023") is None
    assert synced["sync"]["partitions"]["daily_prices_2023"] == 2


def test_mirror_deletes_vanished_keys_but_not_quarantined_ones(synced):
    assert counts(synced["mirror"], "daily_prices") == (0, 0, 10, 2)
    remaining = {row[:2] for row in synced["after_mirror"]}
    assert ("SPY", "2024-01-02") not in remaining  # gone from the source
    assert ("XLK", "2024-06-28") not in remaining  # the Bot's row: --mirror makes the source the truth
    assert ("XLK", "2024-01-04") in remaining  # in conflict in the source: kept, with its last loaded value
    assert synced["mirror"]["rejected"]["daily_prices"] == {"key_conflict": 2}
    assert counts(synced["mirror"], "portfolio_v1_performance")[3] == 0
