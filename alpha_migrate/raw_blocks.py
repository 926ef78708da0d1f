"""Which parts of a source table changed since the last extract: per block of rowids, a digest.

SQLite keeps no change log, so each run reads the whole snapshot once (in DuckDB, cheap) and hashes it
in blocks of BLOCK_ROWS rowids. PostgreSQL keeps the digests of what the raw staging table holds
(`staging.sqlite_<table>_blocks`); only blocks whose digest differs are copied again. A daily sync,
which appends rows, changes the last block or two.

Every change is first recorded in `staging.raw_changes`, before the raw table is touched. The staging
models reclassify what is recorded there; the publish deletes it, in the publishing transaction: a run
killed anywhere in between leaves the record, and the next run reclassifies and publishes it.
"""

from dataclasses import dataclass

BLOCK_ROWS = 10_000
# Rows per recorded range of changed rowids (staging.raw_changes). The extract copies all ranges in one
# statement: DuckDB's sqlite scanner reads the whole table for any range.
CHUNK_ROWS = 250_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
CHANGES_TABLE = "staging.raw_changes"
CHANGES_DDL = f"""create table if not exists {CHANGES_TABLE} (
    seq bigserial primary key,
    run_id text not null,
    source_table text not null,
    -- true: the whole table was copied again, and every staging row must be reclassified
    full_copy boolean not null,
    -- the changed rowids, low to high inclusive
    low bigint,
    high bigint,
    recorded_at timestamptz not null default now()
)"""


def blocks_table(staged: str) -> str:
    return f"{staged}_blocks"


def blocks_ddl(staged: str) -> str:
    return (
        f"create table if not exists {blocks_table(staged)} "
        "(block bigint primary key, row_count bigint not null, digest text not null)"
    )


def block_of(identity: str) -> str:
    """DuckDB: the block of a rowid, rounding down (`//` truncates: -5 would share block 0 with 5)."""
    return f"({identity} // {BLOCK_ROWS} - CAST({identity} % {BLOCK_ROWS} < 0 AS BIGINT))"


def digest_sql(read_from: str, expressions: list[str], nul_columns: list[str]) -> str:
    """DuckDB: per block, its row count, the sum of its rows' hashes (order-free, so any scan order), and
    how many of its rows hold a NUL byte in `nul_columns` (text PostgreSQL cannot store)."""
    nul = " OR ".join(f"contains({column}, chr(0))" for column in nul_columns) or "false"
    return (
        f"SELECT {block_of(expressions[0])} AS block, count(*) AS row_count, "
        f"CAST(sum(hash({', '.join(expressions)})) AS VARCHAR) AS digest, count(*) FILTER (WHERE {nul}) AS nul_rows "
        f"FROM {read_from} GROUP BY ALL"
    )


def range_condition(column: str, low: int, high: int) -> str:
    """`column` within [low, high]; a bound at the end of the 64-bit range is left out (it holds anyway,
    and its literal would not be a BIGINT)."""
    bounds = ([f"{column} >= {low}"] if low > INT64_MIN else []) + ([f"{column} <= {high}"] if high < INT64_MAX else [])
    return "(" + (" and ".join(bounds) or "true") + ")"


@dataclass
class BlockPlan:
    full: bool
    changed: list[int]  # blocks to copy again (or to empty, if gone from the source)
    rows_to_copy: int
    source_rows: int
    block_rows: dict[int, int]  # every block the source or the raw table has, and its rows in the source

    def ranges(self, chunk_rows: int = CHUNK_ROWS) -> list[tuple[int, int]]:
        """The changed blocks as inclusive rowid ranges of at most about `chunk_rows` source rows each. A
        range spans no unchanged block, but may span rowids no block holds (sparse rowids cost no range)."""
        changed, ranges, rows = set(self.changed), [], 0
        current: list[int] | None = None
        for block in sorted(self.block_rows):
            if block not in changed:
                current = None
                continue
            n = self.block_rows[block]
            if current is None or (rows and rows + n > chunk_rows):
                current = [block, block]
                ranges.append(current)
                rows = 0
            current[1], rows = block, rows + n
        return [
            (max(low * BLOCK_ROWS, INT64_MIN), min(high * BLOCK_ROWS + BLOCK_ROWS - 1, INT64_MAX))
            for low, high in ranges
        ]


def plan(source: dict[int, tuple[int, str]], staged: dict[int, tuple[int, str]], staged_rows: int) -> BlockPlan:
    """`source`, `staged`: block -> (rows, digest). `staged_rows`: what the raw table holds now. The
    digests are trusted only while they account for exactly that table; else, and when most blocks
    changed, everything is copied again."""
    source_rows = sum(n for n, _ in source.values())
    block_rows = {block: source.get(block, (0, ""))[0] for block in source.keys() | staged.keys()}
    changed = sorted(b for b in block_rows if source.get(b) != staged.get(b))
    trusted = bool(staged) and sum(n for n, _ in staged.values()) == staged_rows
    if not trusted or len(changed) > max(len(source), 1) / 2:
        return BlockPlan(True, sorted(source), source_rows, source_rows, {b: source[b][0] for b in source})
    return BlockPlan(False, changed, sum(source[b][0] for b in changed if b in source), source_rows, block_rows)
