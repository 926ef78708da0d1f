"""The raw staging layout: every SQLite value as stored, whatever its storage class, and every row's identity.

SQLite keeps any value in any column. A value of the declared class lands in the typed column; any other
(text in a REAL column, a fractional REAL in the INTEGER volume, a blob) lands, as SQLite's text form, in
the `_text` column beside it, with the typed column NULL. Text that PostgreSQL cannot store (a NUL byte,
bytes that are not UTF-8) lands nowhere typed: its bytes, as hex, go into the row's `unstorable` JSON
object under the column's name. dbt's staging models decide what each is worth.

A row's identity (`sqlite_rowid`) is its rowid, whatever its value (negative, sparse, near 2^63). A table
without one (`WITHOUT ROWID`, or every alias of it taken by a column) is numbered instead, in the order of
its primary key (else of its columns): stable while rows are only appended at the end of that order.
"""

import sqlite3
from dataclasses import dataclass

# column -> (PostgreSQL type, SQLite expression over the source table's own column, given the column's
# unstorable bytes as "alpha_hex_<column>")
_TEXT = "CASE WHEN {h} IS NULL THEN CAST({c} AS TEXT) END"
_OTHER_TEXT = "CASE WHEN typeof({c}) IN ('text', 'blob') AND {h} IS NULL THEN CAST({c} AS TEXT) END"
_NUMBER = "CASE WHEN typeof({c}) IN ('real', 'integer') THEN {c} END"


def _columns(*specs: tuple[str, str, str, str]) -> dict[str, tuple[str, str]]:
    return {
        name: (pg_type, expression.replace("{c}", f'"{source}"').replace("{h}", f'"alpha_hex_{source}"'))
        for name, pg_type, source, expression in specs
    }


PRICE_TABLE = _columns(
    ("sqlite_rowid", "bigint", "", "alpha_identity"),
    ("ticker", "text", "ticker", _TEXT),
    ("date", "text", "date", _TEXT),
    ("raw_close", "double precision", "raw_close", _NUMBER),
    ("raw_close_text", "text", "raw_close", _OTHER_TEXT),
    ("adj_close", "double precision", "adj_close", _NUMBER),
    ("adj_close_text", "text", "adj_close", _OTHER_TEXT),
    ("volume", "bigint", "volume", "CASE WHEN typeof({c}) = 'integer' THEN {c} END"),
    ("volume_real", "double precision", "volume", "CASE WHEN typeof({c}) = 'real' THEN {c} END"),
    ("volume_text", "text", "volume", _OTHER_TEXT),
    ("unstorable", "text", "", "alpha_unstorable"),
)
PORTFOLIO_TABLE = _columns(
    ("sqlite_rowid", "bigint", "", "alpha_identity"),
    ("date", "text", "date", _TEXT),
    *(
        spec
        for name in ("total_portfolio_value", "daily_return_vs_spy", "cumulative_alpha")
        for spec in ((name, "double precision", name, _NUMBER), (f"{name}_text", "text", name, _OTHER_TEXT))
    ),
    ("unstorable", "text", "", "alpha_unstorable"),
)
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


def value_columns(table: str) -> dict[str, list[str]]:
    """Per source column, the raw columns that may hold its value (one of them at most, or `unstorable`)."""
    return {
        source: [name for name in RAW_TABLES[table] if name == source or name in (f"{source}_text", f"{source}_real")]
        for source in DECLARED_TYPES[table]
    }


@dataclass(frozen=True)
class RowIdentity:
    sql: str  # a SQLite expression over the source table
    description: str

    @property
    def is_rowid(self) -> bool:
        """A plain `rowid`, which DuckDB's sqlite scanner reads (and filters on) itself."""
        return self.sql == "rowid"


ROWID_ALIASES = ("rowid", "_rowid_", "oid")


def row_identity(con: sqlite3.Connection, table: str) -> RowIdentity:
    info = list(con.execute(f'pragma table_info("{table}")'))
    names = {row[1].lower() for row in info}
    (kind,) = con.execute("select type from sqlite_master where name = ? collate nocase", (table,)).fetchone()
    # A view's rowid reads as NULL on every row: it is numbered, as a WITHOUT ROWID table is.
    for alias in ROWID_ALIASES if kind == "table" else ():
        if alias in names:
            continue  # a column of that name hides the rowid behind it
        try:
            con.execute(f'select {alias} from "{table}" limit 0')
        except sqlite3.OperationalError:
            break  # WITHOUT ROWID: no alias works
        return RowIdentity(alias, "rowid")
    primary_key = [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5] > 0]
    order = primary_key or [row[1] for row in info]
    quoted = ", ".join(f'"{name}"' for name in order)
    return RowIdentity(f"row_number() over (order by {quoted})", f"ordinal by ({', '.join(order)})")


# The DuckDB type of each column type of the raw layout. The extract hashes each source row as these
# types, and the reconciliation hashes the staging copy read back from PostgreSQL as the same
# (source_check.py): equal rows, equal hashes, whichever way a value was read.
DUCKDB_TYPES = {"bigint": "BIGINT", "text": "VARCHAR", "double precision": "DOUBLE"}


def duckdb_typed(table: str, expressions: list[str]) -> list[str]:
    """`expressions`, one per raw-layout column of `table` in order, cast to the column's DuckDB type."""
    return [
        f"CAST({expression} AS {DUCKDB_TYPES[pg_type]})"
        for expression, (pg_type, _) in zip(expressions, RAW_TABLES[table].values(), strict=True)
    ]


def direct_select(table: str) -> list[str]:
    """DuckDB expressions reading a plan-typed source as the raw layout, typed as duckdb_typed types it;
    the columns for values of another storage class are NULL."""
    expressions = []
    for column in RAW_TABLES[table]:
        if column == "sqlite_rowid":
            expressions.append("rowid")
        elif column.endswith(("_text", "_real")) or column == "unstorable":
            expressions.append("NULL")
        else:
            expressions.append(f'"{column}"')
    return duckdb_typed(table, expressions)


def direct_text_columns(table: str) -> list[str]:
    """The columns a direct read passes on as text: DuckDB reads a NUL byte in them, PostgreSQL refuses it."""
    return [column for column in DECLARED_TYPES[table] if DECLARED_TYPES[table][column] == "TEXT"]


def split_table_name(table: str) -> str:
    return f"alpha_raw_{table}"


def split_table_sql(table: str, identity: RowIdentity, source_schema: str) -> list[str]:
    """SQLite statements that write the raw layout of `source_schema`.`table` into `alpha_raw_<table>` of
    the main database (a side file beside the snapshot, which stays as taken). Need `register`'s function."""
    columns = RAW_TABLES[table]
    declared = {"bigint": "INTEGER", "text": "TEXT", "double precision": "REAL"}
    ddl = ", ".join(
        f'"{name}" {"INTEGER PRIMARY KEY" if name == "sqlite_rowid" else declared[pg_type]}'
        for name, (pg_type, _) in columns.items()
    )
    sources = list(DECLARED_TYPES[table])
    hexes = ", ".join(
        f"CASE WHEN typeof(\"{c}\") IN ('text', 'blob') THEN alpha_unstorable_hex(CAST(\"{c}\" AS BLOB)) END "
        f'AS "alpha_hex_{c}"'
        for c in sources
    )
    pairs = ", ".join(f"'{c}', \"alpha_hex_{c}\"" for c in sources)
    any_hex = ", ".join(f'"alpha_hex_{c}"' for c in sources)
    # json_patch drops the keys whose value is NULL: only the unstorable columns remain.
    unstorable = f"CASE WHEN coalesce({any_hex}) IS NOT NULL THEN json_patch('{{}}', json_object({pairs})) END"
    select = ", ".join(
        unstorable if expression == "alpha_unstorable" else expression for _, expression in columns.values()
    )
    target = f'"{split_table_name(table)}"'
    source = f'SELECT *, {identity.sql} AS alpha_identity, {hexes} FROM {source_schema}."{table}"'
    return [
        f"DROP TABLE IF EXISTS {target}",
        f"CREATE TABLE {target} ({ddl})",
        f"INSERT INTO {target} SELECT {select} FROM ({source})",
    ]


def unstorable_hex(value: bytes | None) -> str | None:
    """The bytes as hex when PostgreSQL cannot store them as text (a NUL byte, or not UTF-8); else None."""
    if value is None:
        return None
    if b"\x00" not in value:
        try:
            value.decode("utf-8")
            return None
        except UnicodeDecodeError:
            pass
    return value.hex()


def register(con: sqlite3.Connection) -> None:
    con.create_function("alpha_unstorable_hex", 1, unstorable_hex, deterministic=True)


def declared_types(con: sqlite3.Connection, table: str) -> dict[str, str]:
    """A source table's columns, in lower case as the plan names them, and their declared types, upper case."""
    return {row[1].lower(): row[2].upper() for row in con.execute(f'pragma table_info("{table}")')}


def is_plan_typed(declared: dict[str, str], table: str) -> bool:
    """`declared` maps a source table's columns to their declared types (declared_types)."""
    return all(declared.get(column) == kind for column, kind in DECLARED_TYPES[table].items())
