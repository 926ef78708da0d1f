"""The floor of this project's own shape, measured beside the limit: what a load must do at the least
when, as the project is built, DuckDB stages the SQLite rows in PostgreSQL and SQL there casts them into
the plan's table. Three steps, each the cheapest form of one of `invoke migrate`'s:
  - DuckDB copies the source's raw rows into an unlogged staging table (the extract, without its block
    digests and its record of writes);
  - one `INSERT ... SELECT` with the pipeline's casts writes them in key order into the bare partitions
    (a first load's publish, without the classification before it);
  - the primary key and the indexes, as the limit builds them.
Nothing is classified, quarantined, reconciled or checked: a load that does any of it takes longer.
"""

import time
from pathlib import Path

from alpha_migrate import target_db
from alpha_migrate.bench import limit
from alpha_migrate.dsn import Target
from alpha_migrate.extract import connect_duckdb, sql_literal

RAW = "bench_floor_raw"
TABLE = "bench_floor_prices"


def measure(sqlite: Path, target: Target, years: range) -> dict:
    """Seconds of each step and their sum, and the rows the plan's table holds at the end."""
    result: dict = {}
    with target_db.connect(target) as con:
        with con.cursor() as cur:
            cur.execute(f"drop table if exists {RAW}")
            cur.execute(
                f"""create unlogged table {RAW} (sqlite_rowid bigint, ticker text, date text,
                    raw_close float8, adj_close float8, volume bigint)"""
            )
            limit.create_table(cur, years, with_keys=False, table=TABLE)
            result["raw_copy"] = _raw_copy(sqlite, target)
            cur.execute("set maintenance_work_mem = '512MB'")
            started = time.perf_counter()
            # The casts of models/staging/sqlite/stg_daily_prices.sql (alpha_to_numeric: through the
            # double's text), the order of macros/publish/publish_table.sql.
            cur.execute(
                f"""insert into {TABLE}
                    select ticker, date::date, raw_close::text::numeric(10, 4), adj_close::text::numeric(10, 4),
                           volume
                    from {RAW} order by ticker, date"""
            )
            result["typed_insert"] = time.perf_counter() - started
            result["keys"] = sum(limit.build_keys(cur, TABLE).values())
            result["seconds"] = result["raw_copy"] + result["typed_insert"] + result["keys"]
            cur.execute(f"select count(*) from {TABLE}")
            result["rows"] = cur.fetchone()[0]
            cur.execute(f"drop table {TABLE}")
            cur.execute(f"drop table {RAW}")
    return result


def _raw_copy(sqlite: Path, target: Target) -> float:
    duck = connect_duckdb()
    try:
        duck.execute(f"ATTACH {sql_literal(str(sqlite))} AS src (TYPE sqlite, READ_ONLY)")
        duck.execute(f"ATTACH {sql_literal(target.libpq())} AS pg (TYPE postgres)")
        started = time.perf_counter()
        duck.execute(
            f"""INSERT INTO pg.public.{RAW}
                SELECT rowid, ticker, date, raw_close, adj_close, volume FROM src.daily_prices"""
        )
        return time.perf_counter() - started
    finally:
        duck.close()
