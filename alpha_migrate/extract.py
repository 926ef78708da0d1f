"""Extract: DuckDB reads the SQLite snapshot and bulk-writes raw staging tables into PostgreSQL.

Raw means every source row as stored, dates still text, plus its SQLite rowid; dbt's staging models do
the typing. DuckDB's postgres extension writes with binary COPY. Rows go in rowid ranges so the operator
sees progress; the sqlite scanner pushes the rowid range down, so each chunk reads only its own pages.
"""

from pathlib import Path

import duckdb

from alpha_migrate.console import Console
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError
from alpha_migrate.paths import DUCKDB_EXTENSION_DIR

STAGING_SCHEMA = "staging"
CHUNK_ROWS = 250_000
# Staging table per source table: its columns as PostgreSQL types and the source expression feeding each.
STAGING_TABLES = {
    "daily_prices": {
        "sqlite_rowid": ("bigint", "rowid"),
        "ticker": ("text", "ticker"),
        "date": ("text", "date"),
        "raw_close": ("double precision", "raw_close"),
        "adj_close": ("double precision", "adj_close"),
        "volume": ("bigint", "volume"),
    },
    "portfolio_v1_performance": {
        "sqlite_rowid": ("bigint", "rowid"),
        "date": ("text", "date"),
        "total_portfolio_value": ("double precision", "total_portfolio_value"),
        "daily_return_vs_spy": ("double precision", "daily_return_vs_spy"),
        "cumulative_alpha": ("double precision", "cumulative_alpha"),
    },
}


def staging_table(source_table: str) -> str:
    return f"sqlite_{source_table}"


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _extension_path(package: str) -> Path:
    """The .duckdb_extension file shipped inside a PyPI wheel: installed offline, never downloaded."""
    module = __import__(package)
    found = sorted(Path(module.__file__).parent.glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
    if not found:
        raise MigrationError(f"{package} carries no extension for duckdb {duckdb.__version__}: reinstall the project")
    return found[0]


def connect_duckdb() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": 1, "extension_directory": str(DUCKDB_EXTENSION_DIR)})
    for package, name in (
        ("duckdb_extension_sqlite_scanner", "sqlite_scanner"),
        ("duckdb_extension_postgres_scanner", "postgres_scanner"),
    ):
        con.execute(f"INSTALL {sql_literal(str(_extension_path(package)))}")
        con.execute(f"LOAD {name}")
    return con


def extract(snapshot: Path, target: Target, console: Console) -> dict[str, int]:
    """Replace the raw staging tables with the snapshot's rows; returns rows staged per source table."""
    con = connect_duckdb()
    try:
        con.execute(f"ATTACH {sql_literal(str(snapshot))} AS src (TYPE sqlite, READ_ONLY)")
        con.execute(f"ATTACH {sql_literal(target.libpq())} AS pg (TYPE postgres)")
        con.execute("CALL postgres_execute('pg', ?)", [f"create schema if not exists {STAGING_SCHEMA}"])
        return {table: _copy_table(con, table, columns, console) for table, columns in STAGING_TABLES.items()}
    except duckdb.Error as exc:
        raise MigrationError(f"extract failed: {target.redact(str(exc)).splitlines()[0]}") from exc
    finally:
        con.close()


def _copy_table(con: duckdb.DuckDBPyConnection, table: str, columns: dict, console: Console) -> int:
    staged = f"{STAGING_SCHEMA}.{staging_table(table)}"
    ddl = ", ".join(f'"{name}" {pg_type}' for name, (pg_type, _) in columns.items())
    # Truncate rather than drop: dbt's staging views depend on these tables.
    con.execute(
        "CALL postgres_execute('pg', ?)",
        [f"create table if not exists {staged} ({ddl}); truncate {staged}"],
    )
    low, high, total = con.execute(f'select min(rowid), max(rowid), count(*) from src."{table}"').fetchone()
    names = ", ".join(f'"{name}"' for name in columns)
    expressions = ", ".join(expr for _, expr in columns.values())
    copied = 0
    console.progress(staged, copied, total)
    start = low or 0
    # Rowids left sparse by deletes would make many empty ranges: then copy in one go.
    chunk = CHUNK_ROWS if total and high - low < 4 * total else (high or 0) - start + 1
    while total and start <= high:
        end = start + chunk
        copied += con.execute(
            f'INSERT INTO pg.{staged} ({names}) SELECT {expressions} FROM src."{table}" '
            f"WHERE rowid >= {start} AND rowid < {end}"
        ).fetchone()[0]
        console.progress(staged, copied, total)
        start = end
    return copied
