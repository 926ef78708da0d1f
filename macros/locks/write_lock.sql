{#-
  The write lock of alpha_migrate/write_lock.py, from dbt. `invoke migrate`, `invoke partitions` and
  `invoke roles` hold it for their whole run; an analyst's `dbt build` or `dbt run` on the production
  target takes it at its start (on-run-start) and again in every transaction that writes (the
  materializations and publish_marts), where it is held until that transaction commits. A writer that
  cannot have it within ALPHA_LOCK_WAIT_SECONDS stops with the holder's name.
  Not taken: by the dbt runs of a command that holds it (ALPHA_WRITE_LOCK_HELD), on a sandbox target
  (it writes the analyst's own schemas only), by commands that do not write (test, compile, docs).
-#}
{% macro alpha_write_lock_needed() %}
    {{ return(
        execute
        and env_var('ALPHA_WRITE_LOCK_HELD', '') != '1'
        and not alpha_is_sandbox()
        and flags.WHICH in ['build', 'run', 'seed', 'snapshot', 'run-operation']
    ) }}
{% endmacro %}

{#- As SQL for a hook; empty when not needed. -#}
{% macro take_write_lock() %}
    {%- if alpha_write_lock_needed() -%}
        {%- set wait_text = env_var('ALPHA_LOCK_WAIT_SECONDS', '60') -%}
        {%- if not wait_text.isdigit() -%}
            {{ exceptions.raise_compiler_error("ALPHA_LOCK_WAIT_SECONDS must be a whole number of seconds, not '" ~ wait_text ~ "'") }}
        {%- endif -%}
        {%- set wait = wait_text | int -%}
        do $alpha_lock$
        declare
            previous text := current_setting('lock_timeout');
            holder text;
        begin
            -- 0 would mean no limit to PostgreSQL: it means "do not wait" here.
            perform set_config('lock_timeout', '{{ [wait * 1000, 1] | max }}ms', true);
            perform pg_advisory_xact_lock(x'414C504841'::bigint);
            perform set_config('lock_timeout', previous, true);
        exception when lock_not_available then
            select format('%s (user %s, pid %s, since %s)', coalesce(nullif(a.application_name, ''), 'a client'),
                          a.usename, a.pid, to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS TZ'))
            into holder
            from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.granted
              and l.database = (select oid from pg_database where datname = current_database())
              and (l.classid::bigint << 32 | l.objid::bigint) = x'414C504841'::bigint
            limit 1;
            raise exception 'another writer holds the write lock of %: %; waited {{ wait }} s (ALPHA_LOCK_WAIT_SECONDS)',
                current_database(), coalesce(holder, 'a writer that has just finished');
        end
        $alpha_lock$
    {%- endif -%}
{% endmacro %}

{#- For macros that run their own transaction (publish_marts). -#}
{% macro run_write_lock() %}
    {%- set lock_sql = take_write_lock() -%}
    {%- if lock_sql | trim -%}
        {%- do run_query(lock_sql) -%}
    {%- endif -%}
{% endmacro %}
