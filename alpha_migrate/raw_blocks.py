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
CHANGES_TABLE = "staging.raw_changes"
CHANGES_DDL = f"""create table if not exists {CHANGES_TABLE} (
    seq bigserial primary key,
    run_id text not null,
    source_table text not null,
    -- true: the whole table was copied again, and every staging row must be reclassified
    full_copy boolean not null,
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


def digest_sql(read_from: str, expressions: list[str]) -> str:
    """DuckDB: per block, its row count and the sum of its rows' hashes (order-free, so any scan order)."""
    return (
        f"SELECT rowid // {BLOCK_ROWS} AS block, count(*) AS row_count, "
        f"CAST(sum(hash({', '.join(expressions)})) AS VARCHAR) AS digest "
        f'FROM src."{read_from}" GROUP BY ALL'
    )


@dataclass
class BlockPlan:
    full: bool
    changed: list[int]  # blocks to copy again (or to empty, if gone from the source)
    rows_to_copy: int
    source_rows: int

    def ranges(self) -> list[tuple[int, int]]:
        """The changed blocks as half-open rowid ranges, neighbours merged."""
        merged: list[list[int]] = []
        for block in self.changed:
            if merged and merged[-1][1] == block:
                merged[-1][1] = block + 1
            else:
                merged.append([block, block + 1])
        return [(low * BLOCK_ROWS, high * BLOCK_ROWS) for low, high in merged]


def plan(source: dict[int, tuple[int, str]], staged: dict[int, tuple[int, str]], staged_rows: int) -> BlockPlan:
    """`source`, `staged`: block -> (rows, digest). `staged_rows`: what the raw table holds now. The
    digests are trusted only while they account for exactly that table; else, and when most blocks
    changed, everything is copied again."""
    source_rows = sum(n for n, _ in source.values())
    changed = sorted(b for b in source.keys() | staged.keys() if source.get(b) != staged.get(b))
    trusted = bool(staged) and sum(n for n, _ in staged.values()) == staged_rows
    if not trusted or len(changed) > max(len(source), 1) / 2:
        return BlockPlan(True, sorted(source), source_rows, source_rows)
    return BlockPlan(False, changed, sum(source[b][0] for b in changed if b in source), source_rows)
