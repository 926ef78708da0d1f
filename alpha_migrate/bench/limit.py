"""The bulk-load limit on this server: COPY of rows already in CSV into the plan's partitioned table.

Two ways, timed apart from preparing the CSV: into bare partitions and then the primary key and each
index (what a first migration does), and into the table with its keys already in place.
"""

import time
from pathlib import Path

from alpha_migrate import target_db
from alpha_migrate.dsn import Target
from alpha_migrate.extract import connect_duckdb, sql_literal

TABLE = "bench_limit_prices"
INDEXES = {
    "primary key": f"alter table {TABLE} add primary key (ticker, date)",
    "idx ticker, date desc": f"create index on {TABLE} (ticker, date desc)",
    "idx date (extension)": f"create index on {TABLE} (date)",
}


def export_csv(sqlite: Path, csv: Path) -> int:
    """The source's price rows, typed as the target holds them, as CSV (not timed)."""
    duck = connect_duckdb()
    try:
        duck.execute(f"ATTACH {sql_literal(str(sqlite))} AS src (TYPE sqlite, READ_ONLY)")
        duck.execute(
            f"""COPY (SELECT ticker, date::DATE, round(raw_close, 4), round(adj_close, 4), volume
                      FROM src.daily_prices) TO {sql_literal(str(csv))} (HEADER false)"""
        )
        return duck.execute(f"SELECT count(*) FROM read_csv({sql_literal(str(csv))}, header=false)").fetchone()[0]
    finally:
        duck.close()


def create_table(cur, years: range, with_keys: bool, table: str = TABLE) -> None:
    """The plan's partitioned daily_prices, under another name, with or without its keys."""
    cur.execute(f"drop table if exists {table}")
    cur.execute(
        f"""create table {table} (ticker varchar(10) not null, date date not null, raw_close numeric(10, 4),
            adj_close numeric(10, 4), volume bigint) partition by range (date)"""
    )
    for year in years:
        cur.execute(
            f"create table {table}_{year} partition of {table} for values from ('{year}-01-01') to ('{year + 1}-01-01')"
        )
    if with_keys:
        build_keys(cur, table)


def build_keys(cur, table: str = TABLE) -> dict[str, float]:
    """The primary key and each index of INDEXES on `table`, one after the other: seconds of each."""
    seconds = {}
    for name, statement in INDEXES.items():
        started = time.perf_counter()
        cur.execute(statement.replace(TABLE, table))
        seconds[name] = time.perf_counter() - started
    return seconds


def copy_csv(cur, csv: Path) -> float:
    started = time.perf_counter()
    with csv.open() as rows:
        cur.copy_expert(f"copy {TABLE} from stdin (format csv)", rows)
    return time.perf_counter() - started


def measure(target: Target, csv: Path, years: range) -> dict:
    """Seconds for: COPY into bare partitions, each key built after it, and COPY with keys in place."""
    result: dict = {}
    with target_db.connect(target) as con:
        with con.cursor() as cur:
            cur.execute("set maintenance_work_mem = '512MB'")
            create_table(cur, years, with_keys=False)
            result["copy_bare"] = copy_csv(cur, csv)
            result["index_build"] = build_keys(cur)
            result["index_mb"] = index_sizes(cur)
            cur.execute(
                f"select sum(pg_relation_size(inhrelid)) / 1e6 from pg_inherits where inhparent = '{TABLE}'::regclass"
            )
            result["table_mb"] = round(float(cur.fetchone()[0]), 1)
            result["limit"] = result["copy_bare"] + sum(result["index_build"].values())
            create_table(cur, years, with_keys=True)
            result["copy_with_keys"] = copy_csv(cur, csv)
            cur.execute(f"drop table {TABLE}")
    return result


def index_sizes(cur) -> dict:
    """MB of each index over all partitions, by the parent index's position in INDEXES."""
    cur.execute(
        f"""select parent.indexrelid::regclass::text, sum(pg_relation_size(child.indexrelid)) / 1e6
            from pg_index parent
            join pg_inherits on pg_inherits.inhparent = parent.indexrelid
            join pg_index child on child.indexrelid = pg_inherits.inhrelid
            where parent.indrelid = '{TABLE}'::regclass group by 1 order by min(parent.indexrelid)"""
    )
    return {name: round(float(mb), 1) for name, (_, mb) in zip(INDEXES, cur.fetchall(), strict=True)}
