"""Where the project keeps its files; everything under STATE_DIR and REPORTS_DIR is git-ignored."""

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = PROJECT_DIR / ".alpha"
# ALPHA_PGDATA moves the embedded server elsewhere (the tests give it a scratch folder).
PGDATA_DIR = Path(os.environ.get("ALPHA_PGDATA", STATE_DIR / "pgdata"))
SNAPSHOT_DIR = STATE_DIR / "snapshots"
DBT_PROFILES_DIR = STATE_DIR / "dbt"
# dbt's artefacts from our own dbt calls, apart from an analyst's target/: neither overwrites the other's
# run results, and our calls, alike in their variables, reuse each other's partial parse (2 s a call).
DBT_TARGET_DIR = DBT_PROFILES_DIR / "target"
DUCKDB_EXTENSION_DIR = STATE_DIR / "duckdb_extensions"
DUCKDB_SPILL_DIR = STATE_DIR / "duckdb_spill"
REPORTS_DIR = PROJECT_DIR / "reports"
PROFILES_EXAMPLE = PROJECT_DIR / "profiles.example.yml"
DEFAULT_SQLITE = Path("sector_etfs.db")
