"""Nothing lost, proven against the SQLite file itself: its own count and a digest of every value.

The extract copies with DuckDB's sqlite scanner; this reads the snapshot with another reader, Python's
sqlite3 (SQLite's own engine), so that whatever the copy missed or altered shows. Both sides reduce each
row to one canonical text, hash it with MD5 and add the hashes up (order-free):

    identity   'i' || the row's identity (rowid, or its ordinal: raw_layout.py)
    a number   'r' || the 8 bytes of its IEEE double, as hex (an INTEGER is compared as the double it
               converts to, as the raw staging table holds most of them)
    text/blob  't' || length || ':' || the text, when PostgreSQL can store it; else
               'x' || length || ':' || its bytes as hex (the raw table's `unstorable`)
    NULL       'n'

A number in a TEXT-declared column (a ticker 5, an epoch date) is compared as SQLite's text of it, which
is what the copy reads. The PostgreSQL side (`staged_digest_sql`) reads the raw staging table.
"""

import hashlib
import json
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

from alpha_migrate.errors import MigrationError
from alpha_migrate.raw_layout import DECLARED_TYPES, RAW_TABLES, RowIdentity, unstorable_hex, value_columns
from alpha_migrate.source import read_only_uri


def _piece(value) -> str:
    if value is None:
        return "n"
    if isinstance(value, bytes):
        hexed = unstorable_hex(value)
        if hexed is None:
            text = value.decode("utf-8")
            return f"t{len(text)}:{text}"
        return f"x{len(hexed)}:{hexed}"
    return "r" + struct.pack(">d", float(value)).hex()


def row_hash(identity: int, values: tuple) -> int:
    canonical = f"i{identity}" + "".join(_piece(value) for value in values)
    return int(hashlib.md5(canonical.encode("utf-8"), usedforsecurity=False).hexdigest()[:15], 16)


def source_digest(snapshot: Path, table: str, identity: RowIdentity) -> tuple[int, str]:
    """SQLite's own count(*) of `table` and the digest of its rows."""
    con = sqlite3.connect(read_only_uri(snapshot), uri=True)
    con.text_factory = bytes  # text as stored: bytes that are not UTF-8 must not fail the read
    try:
        count = con.execute(f'select count(*) from "{table}"').fetchone()[0]
        columns = ", ".join(
            f"""case when typeof("{c}") in ('integer', 'real') then cast("{c}" as text) else "{c}" end"""
            if kind == "TEXT"
            else f'"{c}"'
            for c, kind in DECLARED_TYPES[table].items()
        )
        total = 0
        for row in con.execute(f'select {identity.sql}, {columns} from "{table}"'):
            total += row_hash(row[0], row[1:])
        return count, str(total)
    finally:
        con.close()


def _staged_piece(table: str, source_column: str) -> str:
    whens = []
    for name in value_columns(table)[source_column]:
        if RAW_TABLES[table][name][0] == "text":
            whens.append(f"when {name} is not null then 't' || length({name}) || ':' || {name}")
        else:
            whens.append(f"when {name} is not null then 'r' || encode(float8send({name}::float8), 'hex')")
    hexed = f"(unstorable::jsonb ->> '{source_column}')"
    whens.append(f"when {hexed} is not null then 'x' || length({hexed}) || ':' || {hexed}")
    return f"case {' '.join(whens)} else 'n' end"


def staged_digest_sql(table: str, relation: str) -> str:
    """PostgreSQL: the count and digest of a raw staging table, comparable with `source_digest`."""
    canonical = " || ".join(["'i' || sqlite_rowid"] + [_staged_piece(table, c) for c in DECLARED_TYPES[table]])
    return (
        f"select count(*), coalesce(sum(('x' || left(md5({canonical}), 15))::bit(60)::bigint), 0)::text from {relation}"
    )


class SourceDigests:
    """The digests of a snapshot, computed by another process on the other core while the extract and
    dbt work: `python -m alpha_migrate.source_check SNAPSHOT IDENTITIES` prints them as JSON."""

    def __init__(self, snapshot: Path, identities: dict[str, RowIdentity]) -> None:
        arguments = json.dumps({table: [i.sql, i.description] for table, i in identities.items()})
        self._process = subprocess.Popen(
            [sys.executable, "-m", "alpha_migrate.source_check", str(snapshot), arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> dict[str, tuple[int, str]]:
        out, err = self._process.communicate()
        if self._process.returncode != 0:
            detail = (err.strip().splitlines() or ["no output"])[-1]
            raise MigrationError(f"could not count and digest the SQLite snapshot: {detail}")
        return {table: (rows, digest) for table, (rows, digest) in json.loads(out).items()}

    def stop(self) -> None:
        """A run that fails before it needs the digests does not leave the process working."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.communicate()


def check_staging_copy(con, source: dict[str, tuple[int, str]]) -> dict[str, dict]:
    """Compare each raw staging table with the SQLite file's own count and digest; stop on a difference."""
    result = {}
    with con.cursor() as cur:
        for table, (source_rows, source_sum) in source.items():
            cur.execute(staged_digest_sql(table, f"staging.sqlite_{table}"))
            staged_rows, staged_sum = cur.fetchone()
            result[table] = {"sqlite_rows": source_rows, "staged_rows": staged_rows, "digests_match": True}
            if (staged_rows, staged_sum) != (source_rows, source_sum):
                what = "rows" if staged_rows != source_rows else "values (same row count, different digest)"
                raise MigrationError(
                    f"the staging copy of {table} differs from the SQLite file in its {what}: SQLite counts "
                    f"{source_rows:,} rows, staging holds {staged_rows:,}; nothing was published, the target "
                    "tables are unchanged"
                )
    return result


if __name__ == "__main__":
    snapshot_path, identities = Path(sys.argv[1]), json.loads(sys.argv[2])
    digests = {t: source_digest(snapshot_path, t, RowIdentity(*i)) for t, i in identities.items()}
    print(json.dumps(digests))
