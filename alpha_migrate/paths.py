"""Where the project keeps its files; everything under STATE_DIR and REPORTS_DIR is git-ignored."""

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = PROJECT_DIR / ".alpha"
# ALPHA_PGDATA moves the embedded server elsewhere (the tests give it a scratch folder).
PGDATA_DIR = Path(os.environ.get("ALPHA_PGDATA", STATE_DIR / "pgdata"))
SNAPSHOT_DIR = STATE_DIR / "snapshots"
DBT_PROFILES_DIR = STATE_DIR / "dbt"
DUCKDB_EXTENSION_DIR = STATE_DIR / "duckdb_extensions"
DUCKDB_SPILL_DIR = STATE_DIR / "duckdb_spill"
REPORTS_DIR = PROJECT_DIR / "reports"
PROFILES_EXAMPLE = PROJECT_DIR / "profiles.example.yml"
DEFAULT_SQLITE = Path("sector_etfs.db")
