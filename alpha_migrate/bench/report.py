"""`invoke bench` figures as Markdown: each method as a multiple of the limit, phases, indexes, queries."""

PHASES = ("connect", "snapshot", "extract", "transform", "reconcile", "publish", "test", "verify")


def fmt(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render_markdown(result: dict) -> str:
    sizes = list(result["sizes"])
    headers = [f"{int(s):,} rows" for s in sizes]
    m = result["machine"]
    lines = [
        f"# invoke bench, {result['when']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; PostgreSQL {m['postgres']}"
        f" (client and server on the same cores); Python {m['python']}.",
        "",
        "## Loading: wall seconds (x the limit) and the client's peak memory",
        "",
        "Memory: the largest process's resident set, then (together) the PSS of all the client's processes"
        " at once, sampled every 0.1 s.",
        "",
        "| method | " + " | ".join(headers) + " | client peak memory, per size |",
        "|---|" + "---|" * len(sizes) + "---|",
    ]

    def row(name, seconds_of, memory_of=None):
        cells, memory = [], []
        for s in sizes:
            size = result["sizes"][s]
            seconds = seconds_of(size)
            limit = size["limit"]["limit"]
            cells.append("-" if seconds is None else f"{seconds:,.1f} ({seconds / limit:.1f}x)")
            measured = memory_of(size) if memory_of else None
            if measured and measured.get("peak_rss_mb") is not None:
                together = measured.get("peak_tree_pss_mb")
                suffix = f" ({together:,.0f} together)" if together else ""
                memory.append(f"{measured['peak_rss_mb']:,.0f} MB{suffix}")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {' / '.join(memory) or 'server side'} |")

    row("COPY into bare partitions, then primary key + indexes (the limit)", lambda z: z["limit"]["limit"])
    row("COPY into the table with primary key + indexes in place", lambda z: z["limit"]["copy_with_keys"])
    row(
        "the project's shape alone, nothing classified or checked: DuckDB's raw copy into staging, one typed"
        " `INSERT ... SELECT` in key order into the bare partitions, then the keys (its floor)",
        lambda z: z.get("floor", {}).get("seconds"),
    )
    for name, run, seconds in (
        (
            "`invoke migrate`: snapshot to published tables (snapshot, extract, transform, publish)",
            "migrate",
            "load_seconds",
        ),
        ("`invoke migrate`, whole (with dbt tests and verification)", "migrate", "seconds"),
        ("`invoke migrate`, daily sync of one new day for every ticker", "daily_sync", "seconds"),
    ):
        row(name, lambda z, run=run, seconds=seconds: z[run][seconds], lambda z, run=run: z[run])
    row(
        "DuckDB, ATTACH both and one typed `INSERT ... SELECT` into the table with its keys (a peer)",
        lambda z: z.get("duckdb", {}).get("seconds"),
        lambda z: z.get("duckdb"),
    )
    row(
        "pandas `read_sql` + `to_sql` (default method)",
        lambda z: z.get("pandas", {}).get("seconds"),
        lambda z: z.get("pandas"),
    )

    runs = [(s, run) for s in sizes for run in ("migrate", "daily_sync")]
    lines += ["", "## `invoke migrate` by phase (seconds): first migration, then a daily sync", ""]
    lines.append("| phase | " + " | ".join(f"{int(s):,} {run.replace('_', ' ')}" for s, run in runs) + " |")
    lines.append("|---|" + "---|" * len(runs))
    for phase in PHASES:
        lines.append(
            f"| {phase} | " + " | ".join(fmt(result["sizes"][s][run]["phases"].get(phase), 2) for s, run in runs) + " |"
        )
    lines.append(
        "| rows inserted / updated | "
        + " | ".join(
            f"{result['sizes'][s][run]['sync']['inserted']:,} / {result['sizes'][s][run]['sync']['updated']:,}"
            for s, run in runs
        )
        + " |"
    )
    for s in sizes:
        share = result["sizes"][s]["daily_sync"]["seconds"] / result["sizes"][s]["migrate"]["seconds"]
        lines.append(f"\nAt {int(s):,} rows the daily sync takes {share:.0%} of the first migration's time.")
        syncs = result["sizes"][s].get("daily_syncs")
        if syncs:
            days = ", ".join(f"{run['seconds']:.1f} s" for run in syncs)
            lines.append(f"Its {len(syncs)} consecutive days took {days}; the tables show the median day.")
    if len(sizes) >= 2 and all("daily_syncs" in result["sizes"][s] for s in sizes):
        ratio = result["sizes"][sizes[-1]]["daily_sync"]["seconds"] / result["sizes"][sizes[0]]["daily_sync"]["seconds"]
        lines.append(
            f"\nThe median daily sync at {int(sizes[-1]):,} rows takes {ratio:.2f}x its time at {int(sizes[0]):,}."
        )
    if len(sizes) >= 2:
        (small, big), totals = (
            (int(sizes[0]), int(sizes[-1])),
            [result["sizes"][s]["migrate"]["seconds"] for s in (sizes[0], sizes[-1])],
        )
        per_million = (totals[1] - totals[0]) / ((big - small) / 1e6)
        fixed = totals[0] - per_million * small / 1e6
        lines += [
            "",
            f"Whole run, fitted on the two sizes: {fixed:.1f} s fixed + {per_million:.1f} s per million rows.",
        ]

    lines += ["", "## Index costs (built after COPY into bare partitions)", ""]
    lines += ["| index | " + " | ".join(f"build s / MB at {h}" for h in headers) + " |", "|---|" + "---|" * len(sizes)]
    for name in result["sizes"][sizes[0]]["limit"]["index_build"]:
        costs = [result["sizes"][s]["limit"] for s in sizes]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{c['index_build'][name]:.1f} / {c['index_mb'][name]:,.0f}" for c in costs)
            + " |"
        )
    lines.append(
        "| (table data) | " + " | ".join(f"- / {result['sizes'][s]['limit']['table_mb']:,.0f}" for s in sizes) + " |"
    )

    if all("floor" in result["sizes"][s] for s in sizes):
        lines += ["", "## The floor of the project's shape, by step (seconds)", ""]
        lines += ["| step | " + " | ".join(headers) + " |", "|---|" + "---|" * len(sizes)]
        for name, key in (
            ("DuckDB's copy of the raw rows into an unlogged staging table", "raw_copy"),
            ("one typed `INSERT ... SELECT` in key order into the bare partitions", "typed_insert"),
            ("primary key + indexes", "keys"),
        ):
            lines.append(f"| {name} | " + " | ".join(fmt(result["sizes"][s]["floor"][key], 2) for s in sizes) + " |")

    for s, header in zip(sizes, headers, strict=True):
        lines += ["", f"## Queries at {header} (median ms after a warm-up)", ""]
        lines += ["| query | SQLite | partitioned PG | unpartitioned PG | SQLite / partitioned | indexes read |"]
        lines.append("|---|---|---|---|---|---|")
        for name, q in result["sizes"][s]["queries"].items():
            ratio = q["sqlite_ms"] / q["partitioned_ms"] if q["partitioned_ms"] else None
            lines.append(
                f"| {name} | {fmt(q['sqlite_ms'])} | {fmt(q['partitioned_ms'])} | {fmt(q['unpartitioned_ms'])} | "
                f"{fmt(ratio)}x | {', '.join(q['indexes_used']) or 'none (sequential scans)'} |"
            )
    lines += [
        "",
        "PostgreSQL's rows reach Python through psycopg2's `fetchall`, NUMERIC as Decimal, except in two rows"
        " that read one ticker's history as floats with `alpha_migrate/client.py`: with NUMERIC cast to float on"
        " the connection (`connect(numeric_as_float=True)`), and with `history()` (a statement prepared once, its"
        " day numbers and its float8 prices each packed in one binary string, unpacked at once).",
    ]
    return "\n".join(lines) + "\n"
