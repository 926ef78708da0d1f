"""Project Alpha: move `sector_etfs.db` (SQLite) into partitioned PostgreSQL 16 through dbt."""
