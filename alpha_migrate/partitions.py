"""`invoke partitions`: the yearly partitions a target needs, made by the model's own macro, then listed."""

import json

from alpha_migrate import target_db
from alpha_migrate.dbt import run_dbt
from alpha_migrate.dsn import Target
from alpha_migrate.errors import MigrationError


def ensure_partitions(target: Target, ahead: int, echo=print, env=None) -> tuple[int, list[tuple]]:
    """Create what is missing (every year with data, this year, `ahead` more); returns (created, listing)."""
    if ahead < 0:
        raise MigrationError("--ahead must be 0 or more")
    with target_db.connect(target) as con:
        target_db.require_migrated(con, target)
        before = {row[0] for row in target_db.partitions(con)}
        operation = ["run-operation", "create_yearly_partitions", "--args", json.dumps({"ahead": ahead})]
        run_dbt(operation, target, echo, env)
        listing = target_db.partitions(con)
    return len({row[0] for row in listing} - before), listing


def render_listing(created: int, listing: list[tuple]) -> list[str]:
    lines = [f"created {created} partitions; daily_prices has {len(listing)}:"]
    for name, bound, rows, size in listing:
        lines.append(f"  {name:<20} {rows:>12,} rows {size / 1024 / 1024:>9.2f} MB  {bound}")
    return lines
