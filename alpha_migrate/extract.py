"""Extract: DuckDB reads the SQLite snapshot and bulk-writes raw staging tables into PostgreSQL.

Raw means every source row as stored, dates still text, plus its identity (raw_layout.py). DuckDB's
postgres extension writes with binary COPY. Only blocks of rowids that changed since the last run are
copied (raw_blocks.py): everything on the first run, the last block or two on a daily sync.

A source declared as the plan's section 2, with a rowid, is read typed, directly. DuckDB refuses any
value of another storage class (and the digest pass finds text with a NUL byte); then, and for any source
declared otherwise or without a rowid, SQLite itself first splits the table into the raw layout, in a
side file beside the snapshot, and that split table is read instead.
"""

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg2

from alpha_migrate import raw_blocks, raw_writes
from alpha_migrate.console import Console
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError, first_line
from alpha_migrate.paths import DUCKDB_EXTENSION_DIR, DUCKDB_SPILL_DIR
from alpha_migrate.raw_blocks import CHANGES_DDL, CHANGES_TABLE, blocks_ddl, blocks_table, digest_sql, range_condition
from alpha_migrate.raw_layout import (
    DECLARED_TYPES,
    RAW_TABLES,
    RowIdentity,
    declared_types,
    direct_select,
    direct_text_columns,
    duckdb_typed,
    is_plan_typed,
    register,
    row_identity,
    split_table_name,
    split_table_sql,
)
from alpha_migrate.source import Snapshot, read_only_uri, split_path

STAGING_SCHEMA = "staging"


def staging_table(source_table: str) -> str:
    return f"{STAGING_SCHEMA}.sqlite_{source_table}"


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _extension_path(package: str) -> Path:
    """The .duckdb_extension file shipped inside a PyPI wheel: installed offline, never downloaded."""
    module = __import__(package)
    found = sorted(Path(module.__file__).parent.glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
    if not found:
        raise MigrationError(f"{package} carries no extension for duckdb {duckdb.__version__}: reinstall the project")
    return found[0]


DUCKDB_MEMORY_LIMIT = "100MB"
# One thread beside the PostgreSQL backend that takes the COPY: DuckDB's default two fight it for this
# machine's two cores.
COPY_THREADS = 1
# Every core, for the reads during which PostgreSQL waits (the block hashing, the reconciliation's
# read-back, the parity).
ALL_CORES = os.cpu_count() or 1


def connect_duckdb(threads: int = COPY_THREADS, memory_limit: str = DUCKDB_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    # A memory limit, spilling to disk beyond it: the parity over 5 million rows peaked at 760 MB without,
    # 260 MB with.
    con = duckdb.connect(
        config={
            "threads": threads,
            "extension_directory": str(DUCKDB_EXTENSION_DIR),
            "memory_limit": memory_limit,
            "temp_directory": str(DUCKDB_SPILL_DIR),
        }
    )
    load_extensions(con)
    return con


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """The SQLite and PostgreSQL scanners, from the wheels (DuckDB cannot download them here)."""
    for package, name in (
        ("duckdb_extension_sqlite_scanner", "sqlite_scanner"),
        ("duckdb_extension_postgres_scanner", "postgres_scanner"),
    ):
        con.execute(f"INSTALL {sql_literal(str(_extension_path(package)))}")
        con.execute(f"LOAD {name}")


def extract(snapshot: Snapshot, target: Target, run_id: str, console: Console) -> dict:
    """Bring the raw staging tables up to the snapshot, copying only changed blocks of rowids
    (raw_blocks.py). Per source table: rows staged, whether all were copied, blocks and rows copied, and
    the row identity used."""
    con = connect_duckdb()
    # Its writes to the raw staging tables are logged under this name (raw_writes.py).
    writer = Target({**target.params, "application_name": raw_writes.extract_application_name(run_id)})
    try:
        con.execute(f"ATTACH {sql_literal(writer.libpq())} AS pg (TYPE postgres)")
        _pg(con, f"create schema if not exists {STAGING_SCHEMA}; {CHANGES_DDL}; {raw_writes.LOG_DDL}")
        staged = {}
        for table in RAW_TABLES:
            _create_staging(con, table)
            identity = snapshot.identity[table]
            if snapshot.plan_typed[table] and identity.is_rowid:
                try:
                    read = (f'src."{table}"', direct_select(table), direct_text_columns(table))
                    staged[table] = _stage(con, snapshot.path, table, read, run_id, console, target)
                    staged[table]["row_identity"] = identity.description
                    continue
                # DuckDB refuses bytes that are not UTF-8 with a message Python cannot decode: UnicodeError
                except (duckdb.Error, UnicodeError, _Unstorable) as exc:
                    console.detail(f"      {table}: {first_line(exc)}; splitting values by storage class")
            _split(snapshot.path, table, identity)
            columns = [f'"{name}"' for name in RAW_TABLES[table]]
            read = (f'raw."{split_table_name(table)}"', duckdb_typed(table, columns), [])
            staged[table] = _stage(con, snapshot.path, table, read, run_id, console, target)
            staged[table]["row_identity"] = identity.description
        return staged
    except duckdb.Error as exc:
        raise MigrationError(f"extract failed: {target.redact(first_line(exc))}") from exc
    finally:
        con.close()


PROGRESS_SQL = "select coalesce(sum(tuples_processed), 0)::bigint from pg_stat_progress_copy where relid = %s::regclass"


@contextmanager
def copy_progress(target: Target, table: str, advance, every: float = 0.5) -> Iterator[Callable[[int], None]]:
    """While the block COPYs into `table`, advance by the rows PostgreSQL reports it has taken
    (pg_stat_progress_copy, read on a connection of its own). Yields `finished(rows)`, which advances
    the rest once the copy has ended."""
    done, moved = threading.Event(), 0

    def watch() -> None:
        nonlocal moved
        try:
            con = psycopg2.connect(target.libpq())
        except psycopg2.Error:
            return  # the copy goes on; the bar moves when it ends
        con.autocommit = True
        try:
            with con.cursor() as cur:
                while not done.wait(every):
                    cur.execute(PROGRESS_SQL, (table,))
                    now = cur.fetchone()[0]
                    if now > moved:
                        advance(now - moved)
                        moved = now
        except psycopg2.Error:
            pass
        finally:
            con.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def finished(rows: int) -> None:
        done.set()
        watcher.join()
        if rows > moved:
            advance(rows - moved)

    try:
        yield finished
    finally:
        done.set()
        watcher.join()


class _Unstorable(Exception):
    """A direct read found text PostgreSQL cannot store: the split quarantines it row by row instead."""


def _pg(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    con.execute("CALL postgres_execute('pg', ?)", [sql])


def _pg_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    """A query run by PostgreSQL itself: scanning through the attached catalog would ship every row."""
    return con.execute(f"SELECT * FROM postgres_query('pg', {sql_literal(sql)})").fetchall()


def _create_staging(con: duckdb.DuckDBPyConnection, table: str) -> None:
    staged = staging_table(table)
    ddl = ", ".join(f'"{name}" {pg_type}' for name, (pg_type, _) in RAW_TABLES[table].items())
    # A layout change replaces the table (dbt's staging views are rebuilt by the same run). Not vacuumed
    # for its inserts: after a full copy that vacuum read and wrote the whole table while the run's tests
    # and parity ran (autoanalyze still keeps its statistics; deletes still bring a vacuum).
    _pg(
        con,
        f"""do $$ begin
                if exists (select from information_schema.tables
                           where table_schema = '{STAGING_SCHEMA}' and table_name = 'sqlite_{table}')
                   and (select string_agg(column_name, ',' order by ordinal_position) from information_schema.columns
                        where table_schema = '{STAGING_SCHEMA}' and table_name = 'sqlite_{table}')
                       <> '{",".join(RAW_TABLES[table])}'
                then drop table {staged} cascade;
                     drop table if exists {blocks_table(staged)};
                end if;
            end $$;
            create table if not exists {staged} ({ddl});
            alter table {staged} set (autovacuum_vacuum_insert_threshold = -1);
            {blocks_ddl(staged)};
            {raw_writes.triggers_sql(table, logged_relations(table))}""",
    )
    # DuckDB caches PostgreSQL's catalog: make it see the table as it is now.
    con.execute("CALL pg_clear_cache()")


def logged_relations(table: str) -> list[str]:
    """What the extract writes for `table`, and what the write log watches (raw_writes.py)."""
    staged = staging_table(table)
    return [staged, blocks_table(staged)]


def _staged_rows(con: duckdb.DuckDBPyConnection, table: str, kept: dict[int, tuple[int, str]]) -> int:
    """The rows the raw staging table holds: its blocks' counts when nothing has written to it since the
    last run proved it equal to the file (raw_writes.py), else counted (0.7 s at 5 million rows)."""
    if _pg_rows(con, raw_writes.untouched_sql(table, logged_relations(table)))[0][0]:
        return sum(rows for rows, _ in kept.values())
    return _pg_rows(con, f"select count(*) from {staging_table(table)}")[0][0]


def _key(table: str) -> str:
    return f"sqlite_{table}_pkey"


def _ensure_key(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The raw staging table's primary key on sqlite_rowid: a sync deletes and reclassifies by it, and the
    source's `unique` test reads it from the catalog (macros/tests/test_unique.sql)."""
    staged = staging_table(table)
    _pg(
        con,
        f"""do $$ begin
                if not exists (select from pg_constraint where conname = '{_key(table)}'
                               and conrelid = '{staged}'::regclass) then
                    set local maintenance_work_mem = '512MB';
                    alter table {staged} add constraint {_key(table)} primary key (sqlite_rowid);
                end if;
            end $$""",
    )


@contextmanager
def _side_file(snapshot: Path, table: str) -> Iterator[sqlite3.Connection]:
    """SQLite on the side file beside the snapshot, the snapshot attached read-only as `src`, in one
    transaction; a read it cannot do stops the run with one line."""
    con = sqlite3.connect(split_path(snapshot))
    try:
        # A URI in ATTACH needs URI names enabled on the connection; Python's sqlite3 build has them.
        con.execute(f"ATTACH {sql_literal(read_only_uri(snapshot))} AS src")
        with con:
            yield con
    except sqlite3.DatabaseError as exc:
        raise MigrationError(f"cannot read {table} from the snapshot ({exc})") from exc
    finally:
        con.close()


def _split(snapshot: Path, table: str, identity: RowIdentity) -> None:
    """SQLite splits `table` of the snapshot into the raw layout, in the side file (raw_layout.py)."""
    with _side_file(snapshot, table) as con:
        register(con)
        for statement in split_table_sql(table, identity, "src"):
            con.execute(statement)


def _changed_rows(snapshot: Path, table: str, ranges: list[tuple[int, int]]) -> str:
    """SQLite copies the rows of `ranges` of a directly read table into the side file, rowids kept,
    columns declared as the source's: the same values of the same storage classes, which DuckDB then
    reads as it would the table itself. SQLite finds them by rowid; DuckDB's scanner would read the whole
    table for them (2 s of a daily sync's extract at 5 million rows, for 600 rows). Returns the relation."""
    name = f"alpha_changed_{table}"
    columns = ", ".join(f'"{column}"' for column in DECLARED_TYPES[table])
    declared = ", ".join(f'"{column}" {kind}' for column, kind in DECLARED_TYPES[table].items())
    where = " or ".join(range_condition("rowid", low, high) for low, high in ranges)
    with _side_file(snapshot, table) as con:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        con.execute(f'CREATE TABLE "{name}" ({declared})')
        con.execute(f'INSERT INTO "{name}" (rowid, {columns}) SELECT rowid, {columns} FROM src."{table}" WHERE {where}')
    return f'raw."{name}"'


def _attach_source(con: duckdb.DuckDBPyConnection, snapshot: Path) -> None:
    """The snapshot as `src`, its side file of split tables as `raw` (when there is one), both as now."""
    for name in ("src", "raw"):
        con.execute(f"DETACH DATABASE IF EXISTS {name}")
    con.execute(f"ATTACH {sql_literal(str(snapshot))} AS src (TYPE sqlite, READ_ONLY)")
    if split_path(snapshot).exists():
        con.execute(f"ATTACH {sql_literal(str(split_path(snapshot)))} AS raw (TYPE sqlite, READ_ONLY)")


def source_relations(con: duckdb.DuckDBPyConnection, snapshot: Path) -> dict[str, tuple[str, str]]:
    """Attach the snapshot (`src`) and its split tables (`raw`); per source table, the DuckDB relation to
    read its raw rows from and the column that holds their identity: the table itself when the extract
    read it directly, else its split by storage class (made here if the extract did not)."""
    relations = {}
    for table, columns in RAW_TABLES.items():
        sqlite = sqlite3.connect(read_only_uri(snapshot), uri=True)
        try:
            declared = declared_types(sqlite, table)
            identity = row_identity(sqlite, table)
        finally:
            sqlite.close()
        _attach_source(con, snapshot)
        split_made = bool(
            split_path(snapshot).exists()
            and con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'raw' AND table_name = ?",
                [split_table_name(table)],
            ).fetchone()[0]
        )
        if not split_made and is_plan_typed(declared, table) and identity.is_rowid:
            reads = ", ".join(f'count("{name}")' for name in columns if name in declared)
            try:
                con.execute(f'select {reads} from src."{table}"').fetchall()
                relations[table] = (f'src."{table}"', "rowid")
                continue
            except duckdb.Error:
                pass
        if not split_made:
            _split(snapshot, table, identity)
        relations[table] = (f'raw."{split_table_name(table)}"', "sqlite_rowid")
    _attach_source(con, snapshot)
    return relations


def _stage(
    con, snapshot: Path, table: str, read: tuple[str, list[str], list[str]], run_id: str, console, target: Target
) -> dict:
    """Copy the changed blocks of `read` (relation, its raw-layout expressions, text columns to check
    for NUL bytes) into the raw staging table."""
    read_from, expressions, nul_columns = read
    _attach_source(con, snapshot)
    staged = staging_table(table)
    blocks = blocks_table(staged)
    # Read in full before anything is written: a direct read that DuckDB refuses fails here, harmlessly.
    # On every core: PostgreSQL waits meanwhile (at 5 million rows, 3-4 s on one thread, 1.3 s on two).
    con.execute(f"SET threads = {ALL_CORES}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE source_blocks AS {digest_sql(read_from, expressions, nul_columns)}")
    nul_rows = con.execute("SELECT coalesce(sum(nul_rows), 0) FROM source_blocks").fetchone()[0]
    if nul_rows:
        raise _Unstorable(f"{nul_rows} rows hold text with a NUL byte")
    # The whole file's digest, for the reconciliation (source_check.py): its blocks' added up.
    source_digest = con.execute(
        "SELECT CAST(coalesce(sum(CAST(digest AS HUGEINT)), 0) AS VARCHAR) FROM source_blocks"
    ).fetchone()[0]
    source = {b: (n, d) for b, n, d in con.execute("SELECT block, row_count, digest FROM source_blocks").fetchall()}
    kept = {b: (n, d) for b, n, d in _pg_rows(con, f"select block, row_count, digest from {blocks}")}
    plan = raw_blocks.plan(source, kept, _staged_rows(con, table, kept))
    ranges = plan.ranges()
    # Recorded first, so that a run killed below still leaves these rows to be reclassified.
    if plan.full:
        _pg(con, f"insert into {CHANGES_TABLE} (run_id, source_table, full_copy) values ('{run_id}', '{table}', true)")
        # The key is built again once the rows are in: one sort, not an index kept up row by row.
        _pg(con, f"truncate {blocks}; truncate {staged}; alter table {staged} drop constraint if exists {_key(table)}")
    elif ranges:
        values = ", ".join(f"('{run_id}', '{table}', false, {low}, {high})" for low, high in ranges)
        _pg(con, f"insert into {CHANGES_TABLE} (run_id, source_table, full_copy, low, high) values {values}")
        _pg(con, f"delete from {blocks} where block in ({', '.join(map(str, plan.changed))})")
        where = " or ".join(range_condition("sqlite_rowid", low, high) for low, high in ranges)
        _pg(con, f"delete from {staged} where {where}")
    if ranges and not plan.full and read_from == f'src."{table}"':
        read_from = _changed_rows(snapshot, table, ranges)
        _attach_source(con, snapshot)
    names = ", ".join(f'"{name}"' for name in RAW_TABLES[table])
    select = f"SELECT {', '.join(expressions)} FROM {read_from}"
    copied = 0
    # A full copy keeps PostgreSQL's backend busy: one thread beside it. A few ranges keep it idle while
    # DuckDB reads them (from a split table, the whole table: no rowid pushdown, below): every core.
    con.execute(f"SET threads = {COPY_THREADS if plan.full else ALL_CORES}")
    if ranges:
        # One statement for all ranges: DuckDB's sqlite scanner does not push a rowid range down, so each
        # statement reads the whole table (at 5 million rows, 20 ranges took 64 s, one statement 5 s).
        # The split's sqlite_rowid is its rowid, as is the changed rows' copy's.
        where = "" if plan.full else " WHERE " + " OR ".join(range_condition("rowid", lo, hi) for lo, hi in ranges)
        with console.progress(staged, plan.rows_to_copy) as advance, copy_progress(target, staged, advance) as finished:
            copied = con.execute(f"INSERT INTO pg.{staged} ({names}) {select}{where}").fetchone()[0]
            finished(copied)
    _ensure_key(con, table)
    if plan.changed:
        changed = ", ".join(map(str, plan.changed))
        con.execute(
            f"INSERT INTO pg.{blocks} SELECT block, row_count, digest FROM source_blocks WHERE block IN ({changed})"
        )
    return {
        "rows": plan.source_rows,
        "full_copy": plan.full,
        "blocks_copied": len(plan.changed),
        "rows_copied": copied,
        "source_digest": source_digest,
        # For the reconciliation's read-back (source_check.py): what this run wrote.
        "changed_blocks": plan.changed,
        "ranges": ranges,
    }
