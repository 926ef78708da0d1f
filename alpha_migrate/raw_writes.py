"""Which writes the raw staging tables have had since a run last proved them equal to the SQLite file.

The reconciliation (source_check.py) proves each raw staging table equal to the file by its count and
digest. On a daily sync all of the table but the copied blocks is what the last check proved, and
reading it back again was most of a sync's reconciliation (2.5 s at 5 million rows, for 600 new rows).
So a statement-level trigger on each raw staging table and on its block digests logs every write to them
(INSERT and COPY, UPDATE, DELETE, TRUNCATE), with the writing session's application_name; the extract
writes as `alpha-extract-<run id>`. When the table's last check stands and every write logged since is
this run's extract's, the rows outside the copied blocks are the ones that check proved, and only the
copied blocks are read back; when nothing at all has been logged since, the extract takes the table's
row count from its block digests instead of counting it (0.7 s at 5 million rows). Anything else counts
and reads the whole table back, as every run did before: a write by anyone else (a person's UPDATE, the
extract of a run killed before its check), no check yet, a trigger found missing or disabled, a table
whose storage is not the one the last check read (a DDL rewrite such as ALTER COLUMN ... TYPE ... USING
fires no row trigger, but gives the table a new file), or one that has gained a child table (whose rows
a read of the parent includes).

Not seen: a write by a session that borrows this run's application name, or made while the owner had
dropped or disabled the trigger, or replaced its function, and restored it before the run, or one whose
log entry was deleted from the log itself. A first
load and `invoke migrate` after `delete from staging.raw_checked` read everything back.
"""

LOG_TABLE = "staging.raw_writes"
CHECKED_TABLE = "staging.raw_checked"
TRIGGER = "alpha_log_write"


def extract_application_name(run_id: str) -> str:
    return f"alpha-extract-{run_id}"


# The log, the record of each table's last check, and the trigger function: made once per extract.
LOG_DDL = f"""
    create table if not exists {LOG_TABLE} (
        seq bigserial primary key,
        table_name text not null,
        operation text not null,
        application_name text not null default current_setting('application_name'),
        written_by text not null default current_user,
        written_at timestamptz not null default clock_timestamp()
    );
    create table if not exists {CHECKED_TABLE} (
        source_table text primary key,
        run_id text not null,
        checked_at timestamptz not null default now()
    );
    alter table {CHECKED_TABLE} add column if not exists storage text;
    create or replace function staging.alpha_log_raw_write() returns trigger language plpgsql as $$
    begin
        insert into {LOG_TABLE} (table_name, operation) values (tg_table_name, tg_op);
        return null;
    end $$;
    -- The logged tables' storage: their files (a DDL rewrite gives a table a new one) and whether any has
    -- a child table.
    create or replace function staging.alpha_raw_storage(logged text[]) returns text
    language sql stable parallel restricted as $$
        select string_agg(pg_relation_filenode(to_regclass(relation))::text, ',' order by ordinality)
            || case when exists (select from pg_inherits
                where inhparent in (select to_regclass(relation) from unnest($1) as relation))
               then ',child' else '' end
        from unnest($1) with ordinality as logged_relation(relation, ordinality)
    $$;
    -- Whether a source table's last check stands and nothing at all has been written to its logged tables
    -- since, all of them present with their triggers enabled: they then hold what that check proved.
    -- (Parallel restricted: an unsafe function anywhere in a query, as in a dbt test's, keeps all of it from
    -- parallel workers.)
    create or replace function staging.alpha_raw_untouched(source_table text, logged text[]) returns boolean
    language sql stable parallel restricted as $$
        with relations as (select to_regclass(relation) as oid from unnest($2) as relation)
        select
            (select count(oid) from relations) = cardinality($2)
            and exists (select from {CHECKED_TABLE} as checked
                where checked.source_table = $1 and checked.storage = staging.alpha_raw_storage($2))
            and not exists (select from {LOG_TABLE} as logged_write where logged_write.table_name in
                (select relname from pg_class where oid in (select oid from relations)))
            and (select count(*) from pg_trigger where tgname = '{TRIGGER}' and tgenabled = 'A'
                and tgrelid in (select oid from relations)) = cardinality($2)
    $$"""


def triggers_sql(table: str, logged: list[str]) -> str:
    """PostgreSQL: the log's trigger on each of `logged` (the raw table of source table `table` and its
    block digests). A trigger not found enabled on all of them voids the table's last check first: writes
    may have gone unlogged. ENABLE ALWAYS fires it under session_replication_role=replica."""
    names = ", ".join(f"'{relation}'::regclass" for relation in logged)
    triggers = "\n".join(
        f"""create or replace trigger {TRIGGER} after insert or update or delete or truncate on {relation}
                for each statement execute function staging.alpha_log_raw_write();
            alter table {relation} enable always trigger {TRIGGER};"""
        for relation in logged
    )
    return f"""
        do $$ begin
            if (select count(*) from pg_trigger
                where tgname = '{TRIGGER}' and tgenabled = 'A' and tgrelid in ({names})) < {len(logged)} then
                delete from {CHECKED_TABLE} where source_table = '{table}';
            end if;
        end $$;
        {triggers}
    """


def since_last_check(con, table: str, logged: list[str], run_id: str) -> tuple[bool, list[int]]:
    """Whether `table`'s last check still stands for all but this run's extract's writes, and the log
    entries read (to be consumed once this run's check passes)."""
    with con.cursor() as cur:
        cur.execute(f"select to_regclass('{LOG_TABLE}') is not null and to_regclass('{CHECKED_TABLE}') is not null")
        if not cur.fetchone()[0]:
            return False, []
        cur.execute(
            f"""select exists (select from {CHECKED_TABLE}
                where source_table = %(table)s and storage = staging.alpha_raw_storage(%(logged)s))""",
            {"table": table, "logged": logged},
        )
        checked = cur.fetchone()[0]
        cur.execute(
            f"select seq, application_name from {LOG_TABLE} where table_name = any(%s) order by seq",
            (_log_names(logged),),
        )
        entries = cur.fetchall()
    own = extract_application_name(run_id)
    return checked and all(name == own for _, name in entries), [seq for seq, _ in entries]


def _log_names(logged: list[str]) -> list[str]:
    """The log's table_name of each qualified relation of `logged`."""
    return [relation.split(".")[-1] for relation in logged]


def storage(con, logged: list[str]) -> str:
    """The files of `logged` as they are now, and whether any has a child table (alpha_raw_storage)."""
    with con.cursor() as cur:
        cur.execute("select staging.alpha_raw_storage(%s)", (logged,))
        return cur.fetchone()[0]


def written_since(con, logged: list[str], seen: list[int], storage_then: str) -> bool:
    """Whether `logged` had a write logged that is not one of `seen`, or has other storage than
    `storage_then`, since both were read."""
    with con.cursor() as cur:
        cur.execute(
            f"""select exists (select from {LOG_TABLE} where table_name = any(%s) and not (seq = any(%s)))
                or staging.alpha_raw_storage(%s) is distinct from %s""",
            (_log_names(logged), seen, logged, storage_then),
        )
        return cur.fetchone()[0]


def untouched_sql(table: str, logged: list[str]) -> str:
    """PostgreSQL: whether `table`'s last check stands and nothing at all has been written to it since: the
    raw table then holds what that check proved, as many rows as its block digests count (the dbt test
    reconciles_with_source asks the same function)."""
    names = ", ".join(f"'{relation}'" for relation in logged)
    return f"select staging.alpha_raw_untouched('{table}', array[{names}])"


def mark_checked(con, table: str, logged: list[str], run_id: str, seen: list[int]) -> None:
    """This run's check of `table` passed: it stands for every write read from the log, which goes, and
    for the tables' storage as it is now (one statement, so all or nothing)."""
    with con.cursor() as cur:
        cur.execute(
            f"""with consumed as (delete from {LOG_TABLE} where seq = any(%(seen)s))
                insert into {CHECKED_TABLE} (source_table, run_id, storage)
                values (%(table)s, %(run_id)s, staging.alpha_raw_storage(%(logged)s))
                on conflict (source_table) do update
                set run_id = excluded.run_id, storage = excluded.storage, checked_at = now()""",
            {"seen": seen, "table": table, "run_id": run_id, "logged": logged},
        )
