"""The SQLite source: a consistent snapshot (the file copied under a read lock, or SQLite's online backup API
for a WAL database), and its schema check."""

import hashlib
import sqlite3
import subprocess
import sys
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from alpha_migrate.errors import MigrationError
from alpha_migrate.raw_layout import DECLARED_TYPES, RowIdentity, declared_types, is_plan_typed, row_identity

# The columns of section 2 of the plan; extra tables and columns are reported and left behind.
REQUIRED_COLUMNS = {table: tuple(columns) for table, columns in DECLARED_TYPES.items()}
SNAPSHOTS_KEPT = 3
SNAPSHOT_IN_USE_SECONDS = 6 * 3600  # longer than any run
_COPY_FILE = "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])"


@dataclass
class Snapshot:
    source: Path
    path: Path
    # The file's SHA-256 for the report, hashed in a thread while the run goes on (0.5 s at 5 million rows,
    # on the daily sync's path otherwise).
    digest: Future
    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Per table: are its columns declared exactly as in the plan's section 2 (see raw_layout.py)?
    plan_typed: dict[str, bool] = field(default_factory=dict)
    # Per table: what identifies its rows (raw_layout.py): its rowid, or an ordinal where it has none.
    identity: dict[str, RowIdentity] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return self.digest.result()


def read_only_uri(path: Path) -> str:
    """An SQLite URI that opens `path` read-only, whatever characters its name holds."""
    return f"file:{quote(str(Path(path).resolve()))}?mode=ro"


def split_path(snapshot: Path) -> Path:
    """The side file beside a snapshot that holds its tables split by storage class (raw_layout.py)."""
    return snapshot.with_suffix(".split.db")


def take_snapshot(source: Path, snapshot_dir: Path) -> Snapshot:
    """Copy the source inside one read transaction, so a writer cannot tear what we read."""
    source = Path(source)
    if not source.is_file():
        raise MigrationError(
            f"source database {source} not found: create the demo with `invoke demo-db` or pass --sqlite PATH"
        )
    snapshot_dir.mkdir(parents=True, exist_ok=True)
    # Unique per run: two runs of files of one name may start within the same second.
    final = snapshot_dir / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}-{source.stem}.db"
    partial = final.with_suffix(".partial")
    try:
        src = sqlite3.connect(read_only_uri(source), uri=True, isolation_level=None)
        try:
            # One read transaction around the copy: from its first read on, no writer can change what it
            # sees (a hot journal left by a crashed writer is rolled back, or the read fails, as it begins).
            src.execute("begin")
            src.execute("select count(*) from sqlite_master").fetchone()
            if src.execute("pragma journal_mode").fetchone()[0] == "wal":
                _backup(src, partial)
            else:
                _copy_file(source, partial)
            src.execute("commit")
        finally:
            src.close()
    except sqlite3.DatabaseError as exc:
        partial.unlink(missing_ok=True)
        raise _unreadable(source, exc) from exc
    except BaseException:  # a failed copy, or Ctrl-C during it: no partial copy of the whole file stays
        partial.unlink(missing_ok=True)
        raise
    partial.replace(final)
    _prune(snapshot_dir, source.stem)
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot-sha256")
    snapshot = Snapshot(source, final, hashing.submit(_sha256, final))
    hashing.shutdown(wait=False)
    _inspect(snapshot)
    return snapshot


def _copy_file(source: Path, partial: Path) -> None:
    """The file as it is, copied by the kernel: in a rollback-journal database no writer can change the
    file while a read transaction is open. 0.15 s at 5 million rows, where the backup API took 0.55-1.0 s.
    A child process copies it: closing any descriptor of the file in this process would release the read
    lock SQLite holds on it (POSIX record locks belong to the process)."""
    copied = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _COPY_FILE, str(source), str(partial)],
        capture_output=True,
        text=True,
        check=False,
    )
    if copied.returncode != 0:
        reason = (copied.stderr.strip().splitlines() or [f"exit status {copied.returncode}"])[-1]
        raise MigrationError(f"could not copy {source} to its snapshot {partial}: {reason}")


def _backup(src: sqlite3.Connection, partial: Path) -> None:
    """A WAL database's file lacks the transactions not yet checkpointed, and a checkpoint may write to it
    while a reader reads: SQLite's backup API copies the pages as the open read transaction sees them."""
    dst = sqlite3.connect(partial)
    try:
        # The copy is read by this run alone (no run reads another's snapshot), so it need not survive a
        # crash of the machine, which ends the run anyway: without its journal and fsync, the copy of a
        # 5-million-row file took 0.5 s instead of 0.8.
        dst.execute("pragma journal_mode = off")
        dst.execute("pragma synchronous = off")
        src.backup(dst)
    finally:
        dst.close()


def _sha256(path: Path) -> str:
    # hashlib lets the run's other threads go on while it hashes a block.
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prune(snapshot_dir: Path, stem: str) -> None:
    """Beyond the latest SNAPSHOTS_KEPT, delete those no run can still be reading: another migration of a
    file of the same name, running now, reads its own snapshot until its verify step ends."""
    in_use_after = time.time() - SNAPSHOT_IN_USE_SECONDS
    for old in sorted(snapshot_dir.glob(f"*-{stem}.db"))[:-SNAPSHOTS_KEPT]:
        if old.stat().st_mtime < in_use_after:
            old.unlink(missing_ok=True)
            split_path(old).unlink(missing_ok=True)


def _inspect(snapshot: Snapshot) -> None:
    con = sqlite3.connect(read_only_uri(snapshot.path), uri=True)
    try:
        # SQLite's names are case-insensitive (DAILY_PRICES is daily_prices, "Ticker" is ticker), and so are
        # DuckDB's: only these comparisons need them in one case.
        listed = con.execute("select name from sqlite_master where type in ('table', 'view')")
        tables = {name.lower() for (name,) in listed}
        for table, required in REQUIRED_COLUMNS.items():
            if table not in tables:
                raise MigrationError(f"{snapshot.source} has no table {table}: is it Project Alpha's sector_etfs.db?")
            declared = declared_types(con, table)
            columns = list(declared)
            missing = [c for c in required if c not in columns]
            if missing:
                raise MigrationError(f"{snapshot.source}: table {table} lacks column(s) {', '.join(missing)}")
            extra = [c for c in columns if c not in required]
            if extra:
                snapshot.warnings.append(f"ignored extra column(s) in {table}: {', '.join(extra)}")
            snapshot.plan_typed[table] = is_plan_typed(declared, table)
            snapshot.identity[table] = row_identity(con, table)
            # Not through an index: SQLite counts by the smallest one, which may sort by a collation the
            # application that wrote the file defined and this process cannot load.
            snapshot.rows[table] = con.execute(f'select count(*) from "{table}" not indexed').fetchone()[0]
        extra_tables = sorted(t for t in tables - REQUIRED_COLUMNS.keys() if not t.startswith("sqlite_"))
        if extra_tables:
            snapshot.warnings.append(f"ignored extra table(s): {', '.join(extra_tables)}")
    except sqlite3.DatabaseError as exc:
        raise _unreadable(snapshot.source, exc) from exc
    finally:
        con.close()


def _unreadable(source: Path, exc: sqlite3.DatabaseError) -> MigrationError:
    missing_collation = "no such collation sequence: "
    if str(exc).startswith(missing_collation):
        # Defined by the application that wrote the file, in its own code: no other program can load it.
        name = str(exc).removeprefix(missing_collation)
        return MigrationError(
            f"{source}: reading it needs the collation {name}, which the application that wrote it defines; "
            f"migrate a copy in which the views and indexes that use {name} are dropped"
        )
    return MigrationError(f"{source} is not a readable SQLite database ({exc})")
