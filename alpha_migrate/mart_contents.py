"""The report's proof of what the target tables hold: rows per table and per partition, and checksums.

Taking them hashes every row (0.9-1.0 s at 5 million rows), while a daily sync writes one partition. So
each partition's rows, checksum and keys' digest are recorded (staging.mart_contents) with the file they
were read from and the write log's trigger then in force (macros/publish/write_log.sql), and a later run reads
again only the partitions the log names since, whose file changed (a TRUNCATE or a rewrite), or that
are new; all of them when the trigger is not in force, enabled ALWAYS, on the table and every partition.
The log entries a run read are consumed with the record of what it read after them, in one
transaction; an entry committed meanwhile stays for the next run. The portfolio table, 8,000 rows, is
read whole every time. Taken before the dbt tests: while nothing is written after it, the test
`reconciles_with_source` takes the mart's keys' digest from the record (alpha_mart_keys_digest) instead of
reading 5 million keys again.
"""

from alpha_migrate.target_db import KEY_HASH, PARTITIONED_TABLE, TARGET_TABLES, row_hash_sql

LOG_TABLE, RECORD_TABLE = "staging.mart_writes", "staging.mart_contents"
IN_FORCE_FUNCTION, STANDING_FUNCTION = "staging.alpha_mart_log_in_force", "staging.alpha_mart_records_standing"
TRIGGER = "alpha_log_mart_write"
PARENT = f"public.{PARTITIONED_TABLE}"

# Beyond this share of partitions to read, one parallel scan of the whole table is cheaper.
WHOLE_TABLE_SHARE = 0.5


def contents(con) -> dict[str, dict]:
    """`target_rows`, `partitions` (daily_prices' rows per partition, empty ones included) and
    `checksums`, an order-independent digest of each table (equal digests, equal contents, but for a
    hash collision); and `partitions_read`, those whose rows this run read."""
    found: dict[str, dict] = {"target_rows": {}, "partitions": {}, "checksums": {}}
    with con.cursor() as cur:
        partitions = _partitions(cur)  # qualified name -> (name, file, oid)
        trigger, standing, entries = _record_and_log(cur)
        kept = {relation: standing[relation] for relation in partitions if relation in standing}
        stale = [relation for relation in partitions if relation not in kept]
        counted = kept | _read(cur, stale, partitions)
        found["partitions"] = {name: counted[relation][0] for relation, (name, *_) in sorted(partitions.items())}
        found["target_rows"][PARTITIONED_TABLE] = sum(rows for rows, *_ in counted.values())
        found["checksums"][PARTITIONED_TABLE] = str(sum(int(digest) for _, digest, _ in counted.values()))
        found["partitions_read"] = sorted(partitions[relation][0] for relation in stale)
        for table in TARGET_TABLES:
            if table != PARTITIONED_TABLE:
                cur.execute(f"select count(*), coalesce(sum({_row_hash(cur, table)}), 0) from public.{table}")
                rows, digest = cur.fetchone()
                found["target_rows"][table], found["checksums"][table] = rows, str(digest)
        if trigger is not None:
            _record(cur, partitions, trigger, counted, entries)
    return found


def _partitions(cur) -> dict[str, tuple[str, int, int]]:
    """daily_prices' partitions: qualified name (as the log writes it) -> name, the file of its rows, oid."""
    cur.execute(
        f"""select quote_ident(nspname) || '.' || quote_ident(relname), relname, pg_relation_filenode(child.oid),
                   child.oid
            from pg_inherits join pg_class child on child.oid = inhrelid
            join pg_namespace on pg_namespace.oid = child.relnamespace
            where inhparent = '{PARENT}'::regclass"""
    )
    return {relation: (name, filenode, oid) for relation, name, filenode, oid in cur.fetchall()}


def _record_and_log(cur) -> tuple[int | None, dict[str, tuple], list[tuple[str, str]]]:
    """The log's trigger (None unless in force on the table and every partition), the partitions whose
    record stands (qualified name -> rows, checksum, keys' digest; the SQL function says which, for the
    dbt test too) and the log's entries (relation, txid). The entries are read first: one committed after
    them makes its partition read again, and stays for the next run. The log's functions are made with
    it (write_log.sql): without them, nothing is in force."""
    cur.execute(f"select to_regprocedure('{STANDING_FUNCTION}(regclass)') is not null")
    if not cur.fetchone()[0]:
        return None, {}, []
    cur.execute(f"select relation, txid::text from {LOG_TABLE}")
    entries = cur.fetchall()
    cur.execute(
        f"""select (select oid from pg_trigger where tgname = '{TRIGGER}' and tgrelid = '{PARENT}'::regclass),
                   {IN_FORCE_FUNCTION}('{PARENT}'::regclass)"""
    )
    trigger, in_force = cur.fetchone()
    if not in_force:
        return None, {}, entries
    cur.execute(
        f"""select relation, row_count, checksum, keys_digest from {RECORD_TABLE}
            where relation in (select {STANDING_FUNCTION}('{PARENT}'::regclass))"""
    )
    return trigger, {relation: tuple(rest) for relation, *rest in cur.fetchall()}, entries


def _row_hash(cur, table: str) -> str:
    cur.execute(
        """select attname, format_type(atttypid, null) from pg_attribute
           where attrelid = %s::regclass and attnum > 0 and not attisdropped order by attnum""",
        (f"public.{table}",),
    )
    return row_hash_sql(cur.fetchall())


def _read(cur, relations: list[str], partitions: dict) -> dict[str, tuple[int, int, int]]:
    """Rows, checksum and keys' digest of each of `relations`: one by one, or, for most of the
    partitions, from one parallel scan of the whole table."""
    if not relations:
        return {}
    sums = f"count(*), coalesce(sum({_row_hash(cur, PARTITIONED_TABLE)}), 0), coalesce(sum({KEY_HASH}), 0)"
    if len(relations) > WHOLE_TABLE_SHARE * len(partitions):
        cur.execute(f"select tableoid::oid, {sums} from {PARENT} group by 1")
        by_oid = {oid: tuple(read) for oid, *read in cur.fetchall()}
        return {relation: by_oid.get(partitions[relation][2], (0, 0, 0)) for relation in relations}
    read = {}
    for relation in relations:
        cur.execute(f"select {sums} from {relation}")
        read[relation] = cur.fetchone()
    return read


def _record(cur, partitions: dict, trigger: int, counted: dict, entries: list[tuple[str, str]]) -> None:
    """What was read, for the next run, and the log entries read before it, consumed: all or nothing."""
    cur.execute("begin")
    cur.execute(f"delete from {RECORD_TABLE}")
    cur.executemany(
        f"insert into {RECORD_TABLE} (relation, filenode, log_trigger, row_count, checksum, keys_digest)"
        " values (%s, %s, %s, %s, %s, %s)",
        [(relation, filenode, trigger, *counted[relation]) for relation, (_, filenode, _) in partitions.items()],
    )
    if entries:
        cur.execute(
            f"""delete from {LOG_TABLE}
                where (relation, txid::text) in (select * from unnest(%s::text[], %s::text[]))""",
            ([relation for relation, _ in entries], [txid for _, txid in entries]),
        )
    cur.execute("commit")
