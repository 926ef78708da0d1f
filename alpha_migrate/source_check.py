"""Nothing lost, proven against the SQLite file: its own count, and a digest of every value read from it.

SQLite's own `count(*)` of each table is taken at the snapshot (source.py). The extract reads the
snapshot once, with DuckDB, and that one read both feeds the copy and hashes every row, identity and
raw-layout values, in blocks of rowids (raw_blocks.py); the blocks' hashes added up are the file's
digest. Before anything is published, DuckDB reads the raw staging table back from PostgreSQL and
hashes its rows as the same typed values (raw_layout.duckdb_typed), in a process of its own beside the
transform (ReadBack); a table written to meanwhile is read again. A row lost or a value changed on
the way into PostgreSQL, or in staging afterwards, shows as a count that is not SQLite's or a digest
that is not the file's, and stops the run. On a sync whose write log shows no write to staging but its
own extract's since the last check (raw_writes.py), only the copied blocks are read back; the other
blocks add the digests that check proved. Their rowids are in the hashed values, so equal sums of
all rows then meant equal rows block by block (but for a hash collision).

Until issue 13 a second reader, Python's sqlite3, digested the file in a process of its own: 40 s of
one core at 5 million rows, taken from PostgreSQL's work, and the whole cost of a daily sync's check.
What that reader alone could catch, a value DuckDB's scanner misread in both the copy and the digest,
is left to SQLite's count and to the dbt tests, which compare every loaded value with the source value
the staging models read.
"""

import duckdb

from alpha_migrate import apart, raw_writes
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError, first_line
from alpha_migrate.extract import ALL_CORES, connect_duckdb, logged_relations, sql_literal, staging_table
from alpha_migrate.raw_blocks import blocks_table, range_condition
from alpha_migrate.raw_layout import RAW_TABLES, duckdb_typed

# Beyond this many copied ranges the whole table is read back: one scan instead of many.
MAX_RANGES_READ = 20


def staged_digest_sql(table: str, ranges: list[tuple[int, int]] | None = None) -> str:
    """DuckDB: the count and digest of a raw staging table, read through the attached `pg`: all of it, or
    only `ranges` of sqlite_rowid (one scan each: DuckDB passes a single range on to PostgreSQL, not an OR
    of several)."""
    columns = duckdb_typed(table, [f'"{name}"' for name in RAW_TABLES[table]])
    hashed = f"SELECT hash({', '.join(columns)}) AS h FROM pg.{staging_table(table)}"
    if ranges is not None:
        hashed = " UNION ALL ".join(f"{hashed} WHERE {range_condition('sqlite_rowid', lo, hi)}" for lo, hi in ranges)
        hashed = hashed or "SELECT NULL::UBIGINT AS h WHERE false"
    return f"SELECT count(h), CAST(coalesce(sum(h), 0) AS VARCHAR) FROM ({hashed})"


def staged_digests(target: Target, reads: dict[str, list[tuple[int, int]] | None]) -> dict[str, tuple[int, int]]:
    """Per table, the count and digest of what `reads` names: the whole table (None) or its ranges."""
    con = connect_duckdb(threads=ALL_CORES)
    try:
        con.execute(f"ATTACH {sql_literal(target.libpq())} AS pg (TYPE postgres, READ_ONLY)")
        found = {}
        for table, ranges in reads.items():
            rows, digest = con.execute(staged_digest_sql(table, ranges)).fetchone()
            found[table] = (rows, int(digest))
        return found
    except duckdb.Error as exc:
        raise MigrationError(
            f"could not read the staging copy back to check it: {target.redact(first_line(exc))}"
        ) from exc
    finally:
        con.close()


def _unchanged_blocks(con, table: str, changed: list[int]) -> tuple[int, int]:
    """The rows and digest of the blocks this run did not copy, as the last check proved them."""
    with con.cursor() as cur:
        cur.execute(
            f"""select coalesce(sum(row_count), 0)::bigint, coalesce(sum(digest::numeric), 0)::text
                from {blocks_table(staging_table(table))} where not (block = any(%s))""",
            (changed,),
        )
        rows, digest = cur.fetchone()
        return rows, int(digest)


class ReadBack:
    """The read-back of each raw staging table, begun as soon as the extract has written them, beside the
    transform, which only reads them: DuckDB's read (1.7-2 s alone at 5 million rows) fills what the
    transform leaves of the two cores, and a first load's transform and reconciliation took 1.2-1.8 s
    less in two pairs of runs. In a process of its own, not a thread: when dbt ran in the migrating process
    it set the process's environment around each call, and a connection opened in a second thread
    meanwhile once crashed the process (docs/performance.md); dbt has a process of its own now
    (dbt_worker.py), and a thread was not tried since. `copied`, per table from the extract: the file's
    digest, whether all was copied, the changed blocks and their ranges. Reads back only those ranges when the write log
    allows (raw_writes.py). A context manager: leaving it before found() stops the read."""

    def __init__(self, target: Target, con, run_id: str, copied: dict[str, dict]):
        self.target = target
        self.reads: dict[str, list[tuple[int, int]] | None] = {}
        self.seen: dict[str, list[int]] = {}
        self.storage: dict[str, str] = {}
        for table, copy in copied.items():
            stands, self.seen[table] = raw_writes.since_last_check(con, table, logged_relations(table), run_id)
            self.storage[table] = raw_writes.storage(con, logged_relations(table))
            partial = stands and not copy["full_copy"] and len(copy["ranges"]) <= MAX_RANGES_READ
            self.reads[table] = copy["ranges"] if partial else None
        self._result: dict[str, tuple[int, int]] | None = None
        self._process = apart.start("alpha_migrate.source_check", self.reads, target)

    def found(self, con) -> dict[str, tuple[int, int]]:
        """Each table's count and digest. A table written to since the read began (a write logged, or new
        storage) may have reached the transform otherwise than the read: it is read again, whole."""
        found = dict(self._child_found())
        again = [
            table
            for table in found
            if raw_writes.written_since(con, logged_relations(table), self.seen[table], self.storage[table])
        ]
        if again:
            self.reads.update(dict.fromkeys(again))
            found.update(staged_digests(self.target, dict.fromkeys(again)))
        return found

    def _child_found(self) -> dict[str, tuple[int, int]]:
        if self._result is None:
            result = apart.answer(self._process, self.target, "the read-back of the staging copy")
            self._result = {table: (rows, int(digest)) for table, (rows, digest) in result.items()}
        return self._result

    def __enter__(self) -> "ReadBack":
        return self

    def __exit__(self, *exc_info) -> None:
        apart.stop(self._process)


def check_staging_copy(con, run_id: str, sqlite_rows: dict[str, int], copied: dict[str, dict], read_back: ReadBack):
    """Compare each raw staging table, as `read_back` found it, with SQLite's own count and the file's
    digest; stop on a difference."""
    result = {}
    for table, (staged_rows, staged_digest) in read_back.found(con).items():
        ranges = read_back.reads[table]
        if ranges is not None:
            kept_rows, kept_digest = _unchanged_blocks(con, table, copied[table]["changed_blocks"])
            staged_rows, staged_digest = staged_rows + kept_rows, staged_digest + kept_digest
        source_rows = sqlite_rows[table]
        result[table] = {
            "sqlite_rows": source_rows,
            "staged_rows": staged_rows,
            "digests_match": True,
            "read_back": "whole table" if ranges is None else f"{len(ranges)} copied ranges",
        }
        if (staged_rows, staged_digest) != (source_rows, int(copied[table]["source_digest"])):
            what = "rows" if staged_rows != source_rows else "values (same row count, different digest)"
            raise MigrationError(
                f"the staging copy of {table} differs from the SQLite file in its {what}: SQLite counts "
                f"{source_rows:,} rows, staging holds {staged_rows:,}; nothing was published, the target "
                "tables are unchanged"
            )
        raw_writes.mark_checked(con, table, logged_relations(table), run_id, read_back.seen[table])
    return result


def _read_back_in_child(target: Target, reads: dict) -> dict:
    ranges = {table: None if spans is None else [tuple(span) for span in spans] for table, spans in reads.items()}
    # The digest as text: a JSON reader may take a large integer for a float.
    return {table: [rows, str(digest)] for table, (rows, digest) in staged_digests(target, ranges).items()}


if __name__ == "__main__":
    apart.serve(_read_back_in_child)
