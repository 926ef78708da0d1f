"""The raw staging layout: every SQLite value as stored, whatever its storage class.

SQLite keeps any value in any column. A value of the declared class lands in the typed column; any other
(text in a REAL column, a fractional REAL in the INTEGER volume, a blob) lands, as SQLite's text form, in
the `_text` column beside it, with the typed column NULL. dbt's staging models decide what each is worth.
"""

# column -> (PostgreSQL type, SQLite expression over the source table's own column)
PRICE_TABLE = {
    "sqlite_rowid": ("bigint", "rowid"),
    "ticker": ("text", "CAST(ticker AS TEXT)"),
    "date": ("text", "CAST(date AS TEXT)"),
    "raw_close": ("double precision", "CASE WHEN typeof(raw_close) IN ('real', 'integer') THEN raw_close END"),
    "raw_close_text": ("text", "CASE WHEN typeof(raw_close) IN ('text', 'blob') THEN CAST(raw_close AS TEXT) END"),
    "adj_close": ("double precision", "CASE WHEN typeof(adj_close) IN ('real', 'integer') THEN adj_close END"),
    "adj_close_text": ("text", "CASE WHEN typeof(adj_close) IN ('text', 'blob') THEN CAST(adj_close AS TEXT) END"),
    "volume": ("bigint", "CASE WHEN typeof(volume) = 'integer' THEN volume END"),
    "volume_real": ("double precision", "CASE WHEN typeof(volume) = 'real' THEN volume END"),
    "volume_text": ("text", "CASE WHEN typeof(volume) IN ('text', 'blob') THEN CAST(volume AS TEXT) END"),
}
PORTFOLIO_TABLE = {
    "sqlite_rowid": ("bigint", "rowid"),
    "date": ("text", "CAST(date AS TEXT)"),
    **{
        name + suffix: (pg_type, expression.replace("{c}", name))
        for name in ("total_portfolio_value", "daily_return_vs_spy", "cumulative_alpha")
        for suffix, pg_type, expression in (
            ("", "double precision", "CASE WHEN typeof({c}) IN ('real', 'integer') THEN {c} END"),
            ("_text", "text", "CASE WHEN typeof({c}) IN ('text', 'blob') THEN CAST({c} AS TEXT) END"),
        )
    },
}
RAW_TABLES = {"daily_prices": PRICE_TABLE, "portfolio_v1_performance": PORTFOLIO_TABLE}

# The declared types of section 2 of the plan. Only a source declared exactly so can be read typed
# directly; DuckDB then refuses (rather than converts) any value of another storage class.
DECLARED_TYPES = {
    "daily_prices": {"ticker": "TEXT", "date": "TEXT", "raw_close": "REAL", "adj_close": "REAL", "volume": "INTEGER"},
    "portfolio_v1_performance": {
        "date": "TEXT",
        "total_portfolio_value": "REAL",
        "daily_return_vs_spy": "REAL",
        "cumulative_alpha": "REAL",
    },
}


def direct_select(table: str) -> list[str]:
    """DuckDB expressions reading a plan-typed source as the raw layout; non-conforming columns are NULL."""
    expressions = []
    for column, (pg_type, _) in RAW_TABLES[table].items():
        if column == "sqlite_rowid":
            expressions.append("rowid")
        elif column.endswith(("_text", "_real")):
            expressions.append(f"CAST(NULL AS {'VARCHAR' if pg_type == 'text' else 'DOUBLE'})")
        elif pg_type == "text":
            expressions.append(f'CAST("{column}" AS VARCHAR)')
        else:
            expressions.append(f'"{column}"')
    return expressions


def split_table_name(table: str) -> str:
    return f"alpha_raw_{table}"


def split_table_sql(table: str) -> list[str]:
    """SQLite statements that write the raw layout of `table` into the snapshot itself (our own copy)."""
    columns = RAW_TABLES[table]
    declared = {"bigint": "INTEGER", "text": "TEXT", "double precision": "REAL"}
    ddl = ", ".join(
        f'"{name}" {"INTEGER PRIMARY KEY" if name == "sqlite_rowid" else declared[pg_type]}'
        for name, (pg_type, _) in columns.items()
    )
    select = ", ".join(expression for _, expression in columns.values())
    target = split_table_name(table)
    return [
        f'DROP TABLE IF EXISTS "{target}"',
        f'CREATE TABLE "{target}" ({ddl})',
        f'INSERT INTO "{target}" SELECT {select} FROM "{table}"',
    ]


def is_plan_typed(declared: dict[str, str], table: str) -> bool:
    """`declared` maps a source table's columns to their declared types (pragma table_info)."""
    return all(declared.get(column) == kind for column, kind in DECLARED_TYPES[table].items())
