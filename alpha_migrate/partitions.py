"""`invoke partitions`: the yearly partitions a target needs, made by the model's own macro, then listed."""

import json

from alpha_migrate import target_db
from alpha_migrate.dbt import run_dbt
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError

LISTING = """
    select child.relname, pg_get_expr(child.relpartbound, child.oid), coalesce(counts.n, 0),
           pg_total_relation_size(child.oid)
    from pg_inherits
    join pg_class child on child.oid = pg_inherits.inhrelid
    left join (select tableoid, count(*) as n from public.daily_prices group by tableoid) counts
        on counts.tableoid = child.oid
    where pg_inherits.inhparent = 'public.daily_prices'::regclass
    order by child.relname
"""


def ensure_partitions(target: Target, ahead: int, echo=print) -> tuple[int, list[tuple]]:
    """Create what is missing (every year with data, this year, `ahead` more); returns (created, listing)."""
    if ahead < 0:
        raise MigrationError("--ahead must be 0 or more")
    with target_db.connect(target) as con:
        with con.cursor() as cur:
            cur.execute("select to_regclass('public.daily_prices') is not null")
            if not cur.fetchone()[0]:
                raise MigrationError(f"{target.masked} has no daily_prices table yet: run `invoke migrate` first")
        before = set(target_db.partition_rows(con))
        run_dbt(["run-operation", "create_yearly_partitions", "--args", json.dumps({"ahead": ahead})], target, echo)
        with con.cursor() as cur:
            cur.execute(LISTING)
            listing = cur.fetchall()
    return len({row[0] for row in listing} - before), listing


def render_listing(created: int, listing: list[tuple]) -> list[str]:
    lines = [f"created {created} partitions; daily_prices has {len(listing)}:"]
    for name, bound, rows, size in listing:
        lines.append(f"  {name:<20} {rows:>12,} rows {size / 1024 / 1024:>9.2f} MB  {bound}")
    return lines
