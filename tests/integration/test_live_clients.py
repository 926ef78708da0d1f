"""The cut-over with live clients: a full migration, then syncs, while Dashboard-like readers and a
Bot-like writer work on the same PostgreSQL 16 through real connections.

Bound stated and asserted: no client statement waits longer than MAX_WAIT_SECONDS behind the sync.
"""

import sqlite3
import threading
import time
from dataclasses import dataclass, field

import psycopg2

from tests.conftest import copy_with_a_new_day, migrate_ok

MAX_WAIT_SECONDS = 2.0
PAUSE_SECONDS = 0.02  # between a client's rounds: busy, yet leaving the two cores to the sync too
SYNC_DAYS = ["2026-11-25", "2026-11-26", "2026-11-27"]  # one new trading day per sync, after DEMO_END
BOT_DATE = "2026-12-31"  # the Bot's own rows: not in the source, so no sync may touch them
TICKERS = ["SPY", "XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV", "XLY"]
LAST_30_DAYS = """
    select ticker, date, adj_close from daily_prices
    where date > (select max(date) from daily_prices where date < %s) - 30 and date < %s"""
HISTORY = "select date, adj_close from daily_prices where ticker = %s order by date"
# Counted in one snapshot: a half-applied sync would show new prices beside an old portfolio.
BOTH_COUNTS = """
    select (select count(*) from daily_prices where date < %s), (select count(*) from portfolio_v1_performance)"""


@dataclass
class Client:
    name: str
    statements: int = 0
    longest: float = 0.0
    errors: list = field(default_factory=list)
    seen: set = field(default_factory=set)
    written: dict = field(default_factory=dict)

    def timed(self, cur, sql, params=()):
        started = time.perf_counter()
        cur.execute(sql, params)
        self.longest = max(self.longest, time.perf_counter() - started)
        self.statements += 1


def run_client(client: Client, target, stop: threading.Event, work) -> None:
    try:
        con = psycopg2.connect(target.libpq(), application_name=client.name)
        while not stop.is_set():
            work(client, con)
            time.sleep(PAUSE_SECONDS)
        con.close()
    except Exception as exc:  # noqa: BLE001 -- every failure is recorded, and the test asserts there is none
        client.errors.append(repr(exc))


def dashboard(client, con):
    with con, con.cursor() as cur:
        client.timed(cur, LAST_30_DAYS, (BOT_DATE, BOT_DATE))
        client.timed(cur, HISTORY, (TICKERS[client.statements % len(TICKERS)],))
        cur.fetchall()


def auditor(client, con):
    con.set_session(isolation_level="REPEATABLE READ")
    with con, con.cursor() as cur:
        client.timed(cur, BOTH_COUNTS, (BOT_DATE,))
        client.seen.add(cur.fetchone())


def bot(client, con):
    # Upserts in key order, as publish_table does, so the two never deadlock.
    price = round(100 + client.statements * 0.01, 4)
    with con, con.cursor() as cur:
        for ticker in TICKERS:
            client.timed(
                cur,
                """insert into daily_prices values (%s, %s, %s, %s, 1000) on conflict (ticker, date)
                   do update set raw_close = excluded.raw_close, adj_close = excluded.adj_close""",
                (ticker, BOT_DATE, price, price),
            )
    client.written = {ticker: price for ticker in TICKERS}  # committed: the `with con` block ended


def add_day(source, destination, day: str) -> None:
    """The next day of the source: every ticker's last price again, and one older price corrected."""
    copy_with_a_new_day(source, destination, day)
    con = sqlite3.connect(destination)
    with con:
        con.execute(
            """insert into portfolio_v1_performance select ?, total_portfolio_value, daily_return_vs_spy,
               cumulative_alpha from portfolio_v1_performance order by date desc limit 1""",
            (day,),
        )
        con.execute("update daily_prices set adj_close = adj_close + 0.01 where ticker = 'XLK' and date = '2026-01-02'")
    con.close()


def test_readers_and_the_bot_work_through_the_migration_and_its_syncs(fresh_db, demo_sqlite, tmp_path):
    expected = set()
    _, summary = migrate_ok(demo_sqlite, fresh_db, tmp_path / "full.json")
    expected.add((summary["target_rows"]["daily_prices"], summary["target_rows"]["portfolio_v1_performance"]))

    stop = threading.Event()
    clients = [Client("dashboard-1"), Client("dashboard-2"), Client("auditor"), Client("bot")]
    work = {"dashboard-1": dashboard, "dashboard-2": dashboard, "auditor": auditor, "bot": bot}
    threads = [threading.Thread(target=run_client, args=(c, fresh_db, stop, work[c.name])) for c in clients]
    for thread in threads:
        thread.start()
    source = demo_sqlite
    syncs = []
    for day in SYNC_DAYS:
        time.sleep(1)
        next_source = tmp_path / f"{day}.db"
        add_day(source, next_source, day)
        _, summary = migrate_ok(next_source, fresh_db, tmp_path / f"{day}.json")
        syncs.append(summary["sync"]["daily_prices"])
        bot_rows = len(TICKERS) if any(c.written for c in clients) else 0
        expected.add(
            (summary["target_rows"]["daily_prices"] - bot_rows, summary["target_rows"]["portfolio_v1_performance"])
        )
        source = next_source
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    for client in clients:
        print(f"{client.name}: {client.statements} statements, longest {client.longest * 1000:.0f} ms")
    assert [c.errors for c in clients] == [[], [], [], []]
    assert all(c.statements > 10 for c in clients)
    # Each sync brings one new day for every ticker and one corrected older price.
    assert [(s["inserted"], s["updated"], s["deleted"]) for s in syncs] == [(12, 1, 0)] * len(SYNC_DAYS)
    auditor_seen = clients[2].seen
    assert auditor_seen <= expected, f"half-applied states seen: {auditor_seen - expected}"
    assert len(auditor_seen) >= 2  # the auditor did see syncs land
    con = psycopg2.connect(fresh_db.libpq())
    with con.cursor() as cur:
        cur.execute("select ticker, adj_close::float8 from daily_prices where date = %s", (BOT_DATE,))
        assert dict(cur.fetchall()) == clients[3].written
    con.close()
    assert max(c.longest for c in clients) < MAX_WAIT_SECONDS
