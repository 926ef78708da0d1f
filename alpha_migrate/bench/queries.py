"""The plan's read patterns, timed on the same rows in three places: the SQLite source, the partitioned
PostgreSQL table, and an unpartitioned PostgreSQL copy with the plan's primary key and index. One ticker's
history is also read as the client module offers it in floats: NUMERIC as float, and `client.history`."""

import json
import sqlite3
import statistics
import time
from pathlib import Path

import psycopg2

from alpha_migrate import client
from alpha_migrate.dsn import Target

FLAT = "bench_flat_prices"
HISTORY = "one ticker's history"
# How PostgreSQL's rows reach Python: psycopg2's fetchall (NUMERIC as Decimal), unless a query says.
FLOAT_CASTER, HISTORY_READER = "float caster", "client.history"


def query_texts(last_date: str, ticker: str, year: int) -> dict[str, dict[str, str]]:
    """name -> {'sqlite': ..., 'postgres': ..., optional 'read': how}; PostgreSQL's text names its table
    `{table}`."""
    month_back = f"(date '{last_date}' - 30)"
    history = {
        "sqlite": f"select date, adj_close from daily_prices where ticker = '{ticker}' order by date",
        "postgres": f"select date, adj_close from {{table}} where ticker = '{ticker}' order by date",
    }
    return {
        "last 30 days, max(date) subquery": {
            "sqlite": "select ticker, date, adj_close from daily_prices"
            " where date > date((select max(date) from daily_prices), '-30 days')",
            "postgres": "select ticker, date, adj_close from {table} where date > (select max(date) from {table}) - 30",
        },
        "last 30 days, literal date": {
            "sqlite": f"select ticker, date, adj_close from daily_prices where date > date('{last_date}', '-30 days')",
            "postgres": f"select ticker, date, adj_close from {{table}} where date > {month_back}",
        },
        HISTORY: history,
        f"{HISTORY}, NUMERIC as float": {**history, "read": FLOAT_CASTER},
        f"{HISTORY}, floats in one row (client.history)": {**history, "read": HISTORY_READER},
        "per-ticker yearly average adj_close": {
            "sqlite": "select ticker, substr(date, 1, 4), avg(adj_close) from daily_prices group by 1, 2",
            "postgres": "select ticker, extract(year from date), avg(adj_close) from {table} group by 1, 2",
        },
        "one year of LAG returns": {
            "sqlite": "select ticker, date, adj_close / lag(adj_close) over (partition by ticker order by date) - 1"
            f" from daily_prices where date >= '{year}-01-01' and date < '{year + 1}-01-01'",
            "postgres": "select ticker, date, adj_close / lag(adj_close) over (partition by ticker order by date) - 1"
            f" from {{table}} where date >= '{year}-01-01' and date < '{year + 1}-01-01'",
        },
    }


# A fast query gets more turns, as many as fit in this many seconds (at most MAX_TURNS): five turns of a
# few milliseconds each measured this machine's spells more than the query (SQLite's same history read
# took 5.7 ms and 9.8 ms in two rows of one run).
TURNS_SECONDS, MAX_TURNS = 1.0, 200


def medians_ms(runs: dict, repeats: int) -> dict[str, float]:
    """Each of `runs` timed in turns, so that a machine slower for a while slows all of them alike: at
    least `repeats` turns, more for fast queries (TURNS_SECONDS); its median in ms."""
    started = time.perf_counter()
    for run in runs.values():
        run()  # warm-up: caches, plans
    turn = time.perf_counter() - started
    turns = max(repeats, min(MAX_TURNS, int(TURNS_SECONDS / max(turn, 1e-6))))
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(turns):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: round(statistics.median(taken) * 1000, 1) for name, taken in times.items()}


def make_flat_copy(cur) -> None:
    cur.execute(f"drop table if exists {FLAT}")
    cur.execute(f"create table {FLAT} as select * from daily_prices")
    cur.execute("set maintenance_work_mem = '512MB'")
    cur.execute(f"alter table {FLAT} add primary key (ticker, date)")
    cur.execute(f"create index on {FLAT} (ticker, date desc)")
    cur.execute(f"vacuum analyze {FLAT}")
    cur.execute("vacuum analyze daily_prices")


def indexes_used(cur, sql: str) -> list[str]:
    """The table-level indexes a plan reads (a partition's index counts as its parent's)."""
    cur.execute("explain (format json) " + sql)
    names: set[str] = set()

    def walk(node):
        if "Index Name" in node:
            names.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    plan = cur.fetchone()[0]
    walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    used = set()
    for name in names:
        cur.execute(
            """select coalesce(parent.relname, child.relname) from pg_class child
               left join pg_inherits on pg_inherits.inhrelid = child.oid
               left join pg_class parent on parent.oid = pg_inherits.inhparent
               where child.relname = %s""",
            (name,),
        )
        used.add(cur.fetchone()[0])
    return sorted(used)


def measure(sqlite: Path, target: Target, repeats: int) -> dict:
    lite = sqlite3.connect(sqlite)
    last_date = lite.execute("select max(date) from daily_prices").fetchone()[0]
    ticker = lite.execute("select ticker from daily_prices where rowid = 1").fetchone()[0]
    texts = query_texts(last_date, ticker, int(last_date[:4]) - 1)
    con = psycopg2.connect(target.libpq())
    floats = client.as_float(psycopg2.connect(target.libpq()))
    con.autocommit = floats.autocommit = True
    results = {}
    try:
        with con.cursor() as cur, floats.cursor() as float_cur:
            make_flat_copy(cur)
            for name, text in texts.items():

                def on_postgres(table, text=text):
                    if text.get("read") == HISTORY_READER:
                        return client.history(con, ticker, table)
                    reader = float_cur if text.get("read") == FLOAT_CASTER else cur
                    reader.execute(text["postgres"].format(table=table))
                    return reader.fetchall()

                runs = {
                    "sqlite_ms": lambda sql=text["sqlite"]: lite.execute(sql).fetchall(),
                    "partitioned_ms": lambda: on_postgres("daily_prices"),
                    "unpartitioned_ms": lambda: on_postgres(FLAT),
                }
                results[name] = {
                    **medians_ms(runs, repeats),
                    "indexes_used": indexes_used(cur, text["postgres"].format(table="daily_prices")),
                }
            cur.execute(f"drop table {FLAT}")
    finally:
        con.close()
        floats.close()
        lite.close()
    return results
