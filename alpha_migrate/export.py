"""`invoke export`: PostgreSQL's two tables back into a new SQLite file with the plan's section 2 schema.

The way back after the cut-over: the Dashboard, Bot and Backtester open the file as they opened
sector_etfs.db, with every row PostgreSQL holds, those written there only (the Bot's days since the
cut-over) included. Both tables are read in one snapshot, and the file gets its name only once it is
complete and its row counts equal PostgreSQL's.
"""

import os
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alpha_migrate import target_db
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError
from scripts.sqlite_schema import SQLITE_DDL

# Rows per FETCH of the server-side cursor: the export's memory stays flat at any table size.
FETCH_ROWS = 10_000


@dataclass(frozen=True)
class TableExport:
    name: str
    select: str  # the values already in the form the SQLite file stores: ISO date text, REAL, INTEGER
    columns: int

    @property
    def insert(self) -> str:
        return f"insert into {self.name} values ({', '.join('?' * self.columns)})"


# date::timestamp before to_char: a DATE would otherwise pass through timestamptz and the session's zone.
# Ordered by key: SQLite then appends to its primary-key index, and the same contents give the same file.
TABLES = (
    TableExport(
        "daily_prices",
        """select ticker, to_char(date::timestamp, 'YYYY-MM-DD'), raw_close::float8, adj_close::float8, volume
           from public.daily_prices order by ticker, date""",
        5,
    ),
    TableExport(
        "portfolio_v1_performance",
        """select to_char(date::timestamp, 'YYYY-MM-DD'), total_portfolio_value::float8,
                  daily_return_vs_spy::float8, cumulative_alpha::float8
           from public.portfolio_v1_performance order by date""",
        4,
    ),
)


def export(target: Target, out: Path, echo: Callable[[str], None] = print) -> dict[str, int]:
    """Write `out` (which must not exist) from `target`; returns the rows written per table."""
    started = time.perf_counter()
    out = Path(out)
    refuse_existing(out)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    echo(f"export {target.masked} (one REPEATABLE READ snapshot) into {out}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        rows = write_snapshot(target, partial)
        check_counts(partial, rows)
        make_durable(partial)
        move_into_place(partial, out)
    except (OSError, sqlite3.Error) as exc:
        # A full disk, a folder that is a file, no permission: the file's side, said in one line.
        raise MigrationError(f"cannot write {out}: {exc}; nothing was written") from exc
    finally:
        if partial.exists():  # False, not an error, where the folder could not be made
            partial.unlink()
    for table, count in rows.items():
        echo(f"  {table}: {count:,} rows")
    megabytes = out.stat().st_size / 1024 / 1024
    echo(
        f"wrote {out} ({megabytes:.1f} MB) in {time.perf_counter() - started:.1f} s; "
        "its row counts (sqlite3) equal PostgreSQL's"
    )
    return rows


def refuse_existing(out: Path) -> None:
    if out.exists():
        raise already_exists(out)


def already_exists(out: Path) -> MigrationError:
    return MigrationError(f"{out} already exists: export writes a new file only; give another --sqlite or move it")


def write_snapshot(target: Target, partial: Path) -> dict[str, int]:
    """Both tables from one read-only snapshot into `partial`; returns PostgreSQL's row counts in it."""
    with target_db.connect(target, autocommit=False) as con:
        con.set_session(isolation_level="REPEATABLE READ", readonly=True)
        require_tables(con, target)  # the transaction's first statement takes its snapshot
        counts = target_db.table_rows(con, "public", [table.name for table in TABLES])
        lite = sqlite3.connect(partial)
        try:
            # No journal, no syncs while loading: a failed export deletes the file; make_durable syncs it once.
            lite.execute("pragma journal_mode = off")
            lite.execute("pragma synchronous = off")
            lite.executescript(SQLITE_DDL)
            for table in TABLES:
                copy_table(con, lite, table)
            lite.commit()
        finally:
            lite.close()
    return counts


def require_tables(con, target: Target) -> None:
    with con.cursor() as cur:
        for table in TABLES:
            cur.execute("select to_regclass(%s) is not null", (f"public.{table.name}",))
            if not cur.fetchone()[0]:
                raise MigrationError(f"{target.masked} has no {table.name} table: nothing to export")


def copy_table(con, lite: sqlite3.Connection, table: TableExport) -> None:
    with con.cursor(name=f"export_{table.name}") as rows:
        rows.itersize = FETCH_ROWS
        rows.execute(table.select)
        lite.executemany(table.insert, rows)


def check_counts(partial: Path, expected: dict[str, int]) -> None:
    """Counted by a fresh sqlite3 connection, as a client would open the file."""
    lite = sqlite3.connect(f"{partial.resolve().as_uri()}?mode=ro", uri=True)
    try:
        for table, rows in expected.items():
            written = lite.execute(f"select count(*) from {table}").fetchone()[0]
            if written != rows:
                raise MigrationError(
                    f"export incomplete: {table} has {written:,} rows in the new file, {rows:,} in PostgreSQL; "
                    "nothing was written, run it again"
                )
    finally:
        lite.close()


def make_durable(partial: Path) -> None:
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def move_into_place(partial: Path, out: Path) -> None:
    """A hard link never replaces a file: one that appeared at `out` during the export is kept."""
    try:
        os.link(partial, out)
    except FileExistsError:
        raise already_exists(out) from None
    except OSError:
        # A filesystem without hard links: the check at the start has to do.
        refuse_existing(out)
        os.replace(partial, out)
    directory = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
