"""Run dbt against a target, with the connection passed through profiles.example.yml's variables."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError
from alpha_migrate.paths import DBT_PROFILES_DIR, PROFILES_EXAMPLE, PROJECT_DIR


def dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


# dbt's sessions classify, join and sort millions of rows: in memory that is 30% faster than spilling at
# the 4 MB default. Index builds set their own maintenance_work_mem (macros/indexes).
SESSION_OPTIONS = "-c work_mem=256MB"


def dbt_environment(target: Target) -> dict[str, str]:
    options = f"{SESSION_OPTIONS} {os.environ.get('PGOPTIONS', '')}".strip()
    return {**os.environ, **target.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PGOPTIONS": options}


def ensure_profiles() -> Path:
    """The pipeline and sqlfluff use the very profile analysts copy, so all connect the same way."""
    DBT_PROFILES_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROFILES_EXAMPLE, DBT_PROFILES_DIR / "profiles.yml")
    return DBT_PROFILES_DIR


def run_dbt(args: list[str], target: Target, echo=print, env: dict[str, str] | None = None) -> None:
    """Run `dbt ARGS` (with `env` added to its environment), streaming its lines indented; raise
    MigrationError when it fails."""
    ensure_profiles()
    command = [
        dbt_executable(),
        "--no-use-colors",
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROFILES_DIR),
    ]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env={**dbt_environment(target), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        echo("      " + target.redact(line.rstrip()))
    if process.wait() != 0:
        raise MigrationError(f"dbt {args[0]} failed (exit {process.returncode}): see its output above")
