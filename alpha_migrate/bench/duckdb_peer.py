"""A peer for comparison: the DuckDB one-liner a user could write instead of this project. ATTACH the
SQLite file and the PostgreSQL database, then one typed INSERT ... SELECT into a copy of the plan's
partitioned table with its keys in place; DuckDB's defaults (every core, its own memory limit), no
classification, quarantine or checks. Run as a child of `invoke bench`:

    python -m alpha_migrate.bench.duckdb_peer SQLITE POSTGRES_URI TABLE
"""

import sys

import duckdb

from alpha_migrate.dsn import Target
from alpha_migrate.extract import load_extensions, sql_literal
from alpha_migrate.paths import DUCKDB_EXTENSION_DIR


def main(sqlite_path: str, uri: str, table: str) -> None:
    con = duckdb.connect(config={"extension_directory": str(DUCKDB_EXTENSION_DIR)})
    load_extensions(con)
    con.execute(f"ATTACH {sql_literal(sqlite_path)} AS src (TYPE sqlite, READ_ONLY)")
    con.execute(f"ATTACH {sql_literal(Target.parse(uri).libpq())} AS pg (TYPE postgres)")
    written = con.execute(
        f"""INSERT INTO pg.public.{table}
            SELECT ticker, CAST(date AS DATE), CAST(raw_close AS DECIMAL(10, 4)), CAST(adj_close AS DECIMAL(10, 4)),
                   volume
            FROM src.daily_prices"""
    ).fetchone()[0]
    print(f"{written} rows written")


if __name__ == "__main__":
    main(*sys.argv[1:4])
