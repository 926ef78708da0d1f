"""What a run loaded, merged and quarantined, read back from dbt's staging models and the quarantine."""

from alpha_migrate.target_db import TARGET_TABLES

GATE_TEST = "rejects_within_limit"


def classify(con, source: dict[str, int], loaded: dict[str, int] | None = None) -> dict:
    """Per table: outcome counts and reject reasons, and whether `source` (SQLite's own count of the
    snapshot's rows) = loaded + merged + quarantined. `loaded`: tables whose loaded rows the caller has
    counted already. The rows not loaded are found through the staging models' partial index on them."""
    result = {"rejected": {}, "merged": {}, "reconciliation": {}}
    loaded = dict(loaded or {})
    with con.cursor() as cur:
        for table in TARGET_TABLES:
            source_rows = source[table]
            cur.execute(
                f"""select outcome, reject_reason, count(*) from staging.stg_{table}
                    where outcome <> 'loaded' group by 1, 2 order by 1, 2"""
            )
            counts = cur.fetchall()
            if table not in loaded:
                cur.execute(f"select count(*) from staging.stg_{table} where outcome = 'loaded'")
                loaded[table] = cur.fetchone()[0]
            reasons = {reason: n for outcome, reason, n in counts if outcome == "rejected"}
            merged = sum(n for outcome, _, n in counts if outcome == "merged")
            quarantined = sum(reasons.values())
            result["rejected"][table] = reasons
            result["merged"][table] = merged
            result["reconciliation"][table] = {
                "source": source_rows,
                "loaded": loaded[table],
                "merged": merged,
                "quarantined": quarantined,
                "balanced": source_rows == loaded[table] + merged + quarantined,
            }
    return result


def gate_failed(checks) -> bool:
    """Did the reject gate stop the load? Read from the run's own results, not target/run_results.json,
    which another dbt run in the same project folder may have written since."""
    return any(check.name.startswith(f"{GATE_TEST}(") and check.failures is not None for check in checks)


def list_rejects(con, run_id: str | None, limit: int) -> tuple[str | None, list[tuple]]:
    """The quarantined rows of a run (default: the latest run that quarantined any)."""
    with con.cursor() as cur:
        cur.execute("select to_regclass('staging.rejected_rows') is not null")
        if not cur.fetchone()[0]:
            return run_id, []
        if run_id is None:
            cur.execute("select run_id from staging.rejected_rows order by quarantined_at desc limit 1")
            row = cur.fetchone()
            if row is None:
                return None, []
            run_id = row[0]
        cur.execute(
            """select source_table, sqlite_rowid, reason, raw_values from staging.rejected_rows
               where run_id = %s order by source_table, sqlite_rowid limit %s""",
            (run_id, limit),
        )
        return run_id, cur.fetchall()


def prune_rejects(con, keep_runs: int) -> tuple[int, int]:
    """Delete the quarantine of every run but the latest `keep_runs` that quarantined rows (each run
    quarantines every reject still in the file, so the latest holds all current ones); returns (runs,
    rows) deleted."""
    with con.cursor() as cur:
        cur.execute("select to_regclass('staging.rejected_rows') is not null")
        if not cur.fetchone()[0]:
            return 0, 0
        cur.execute(
            """with runs as (
                   select run_id, max(quarantined_at) as at from staging.rejected_rows group by run_id
               ), pruned as (
                   delete from staging.rejected_rows
                   where run_id in (select run_id from runs order by at desc offset %s)
                   returning run_id
               )
               select count(distinct run_id), count(*) from pruned""",
            (keep_runs,),
        )
        return cur.fetchone()
