"""Nothing lost, proven against the SQLite file: its own count, and a digest of every value read from it.

SQLite's own `count(*)` of each table is taken at the snapshot (source.py). The extract reads the
snapshot once, with DuckDB, and that one read both feeds the copy and hashes every row, identity and
raw-layout values, in blocks of rowids (raw_blocks.py); the blocks' hashes added up are the file's
digest. Before anything is published, DuckDB reads the raw staging table back from PostgreSQL and
hashes its rows as the same typed values (raw_layout.duckdb_typed). A row lost or a value changed on
the way into PostgreSQL, or in staging afterwards, shows as a count that is not SQLite's or a digest
that is not the file's, and stops the run.

Until issue 13 a second reader, Python's sqlite3, digested the file in a process of its own: 40 s of
one core at 5 million rows, taken from PostgreSQL's work, and the whole cost of a daily sync's check.
What that reader alone could catch, a value DuckDB's scanner misread in both the copy and the digest,
is left to SQLite's count and to the dbt tests, which compare every loaded value with the source value
the staging models read.
"""

import duckdb

from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError, first_line
from alpha_migrate.extract import ALL_CORES, connect_duckdb, sql_literal, staging_table
from alpha_migrate.raw_layout import RAW_TABLES, duckdb_typed


def staged_digest_sql(table: str) -> str:
    """DuckDB: the count and digest of a raw staging table, read through the attached `pg`."""
    columns = duckdb_typed(table, [f'"{name}"' for name in RAW_TABLES[table]])
    return (
        f"SELECT count(*), CAST(coalesce(sum(hash({', '.join(columns)})), 0) AS VARCHAR) FROM pg.{staging_table(table)}"
    )


def staged_digests(target: Target, tables: list[str]) -> dict[str, tuple[int, str]]:
    con = connect_duckdb(threads=ALL_CORES)
    try:
        con.execute(f"ATTACH {sql_literal(target.libpq())} AS pg (TYPE postgres, READ_ONLY)")
        return {table: con.execute(staged_digest_sql(table)).fetchone() for table in tables}
    except duckdb.Error as exc:
        raise MigrationError(
            f"could not read the staging copy back to check it: {target.redact(first_line(exc))}"
        ) from exc
    finally:
        con.close()


def check_staging_copy(target: Target, sqlite_rows: dict[str, int], file_digests: dict[str, str]) -> dict[str, dict]:
    """Compare each raw staging table with SQLite's own count and the file's digest; stop on a difference."""
    result = {}
    for table, (staged_rows, staged_digest) in staged_digests(target, list(file_digests)).items():
        source_rows = sqlite_rows[table]
        result[table] = {"sqlite_rows": source_rows, "staged_rows": staged_rows, "digests_match": True}
        if (staged_rows, staged_digest) != (source_rows, file_digests[table]):
            what = "rows" if staged_rows != source_rows else "values (same row count, different digest)"
            raise MigrationError(
                f"the staging copy of {table} differs from the SQLite file in its {what}: SQLite counts "
                f"{source_rows:,} rows, staging holds {staged_rows:,}; nothing was published, the target "
                "tables are unchanged"
            )
    return result
