"""Tools that write SQLite sources of the plan's section 2 schema (demo, real CSVs)."""
