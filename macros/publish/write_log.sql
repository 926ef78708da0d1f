{#-
  The published tables' write log: a row trigger on each logs, once per transaction, the qualified name of
  every table or partition that transaction wrote (<staging>.mart_writes), so that the report's checksums
  (alpha_migrate/mart_contents.py) take again only the partitions written since they were last
  taken, and `reconciles_with_source` takes the keys' digest from their record while nothing was
  written since (alpha_mart_keys_digest). PostgreSQL clones a partitioned table's row trigger onto
  every partition, present, created or attached later, and fires it for writes made through a
  partition directly too; a TRUNCATE or a rewrite gives the partition a new file, which the checksums'
  record also holds. Enabled ALWAYS, it fires under session_replication_role = replica as well;
  security definer, so the Bot's writes log without rights on the log. A trigger found missing or
  disabled voids the recorded checksums first: writes may have gone unlogged. Not seen, as with the raw
  copy's log: a table owner who disables the trigger, writes, and enables it again before the next run.
-#}
{% macro ensure_write_log(relation) %}
    {%- set schema = alpha_staging_schema() -%}
    {#- The log's functions are made in the block below, with the log: while they are missing (a database
        set up by an older version), the block runs again and voids the record, whose shape may be older
        too. -#}
    {%- set functions_made = run_query(
        "select to_regprocedure('" ~ schema ~ ".alpha_mart_records_standing(regclass)') is not null"
    ).rows[0][0] -%}
    {%- set in_force = functions_made and run_query(
        "select " ~ schema ~ ".alpha_mart_log_in_force('" ~ relation ~ "'::regclass)"
    ).rows[0][0] -%}
    {%- if not in_force -%}
        {%- call statement('write_log_' ~ relation.identifier) -%}
            create table if not exists {{ schema }}.mart_writes (
                relation text not null,
                txid xid8 not null default pg_current_xact_id(),
                primary key (relation, txid)
            );
            create table if not exists {{ schema }}.mart_contents (
                relation text primary key,
                filenode oid not null,
                log_trigger oid not null,
                row_count bigint not null,
                checksum numeric not null,
                keys_digest numeric not null
            );
            delete from {{ schema }}.mart_contents;
            alter table {{ schema }}.mart_contents add column if not exists keys_digest numeric not null;
            do $alpha$ begin
                {% call alpha_function_once(schema, 'alpha_log_mart_write', [], 'trigger', 'plpgsql') -%}
                    begin
                        insert into {{ schema }}.mart_writes (relation) values (format('%I.%I', tg_table_schema, tg_table_name))
                        on conflict do nothing;
                        return null;
                    end
                {%- endcall %}
                -- Is the trigger enabled ALWAYS on the table and every partition?
                {% call alpha_function_once(schema, 'alpha_mart_log_in_force', [('parent', 'regclass')], 'boolean') -%}
                    with logged as (
                        select parent as relid
                        union all
                        select inhrelid from pg_inherits where inhparent = parent
                    )
                    select (select count(*) from pg_trigger
                        where tgname = 'alpha_log_mart_write' and tgenabled = 'A' and tgrelid in (select relid from logged))
                        = (select count(*) from logged)
                {%- endcall %}
                -- The partitions whose recorded rows, checksum and keys' digest still stand: the trigger in
                -- force, no write logged to the partition since, and the file and trigger it was recorded
                -- with (alpha_migrate/mart_contents.py reads the rest again).
                {% call alpha_function_once(schema, 'alpha_mart_records_standing', [('parent', 'regclass')], 'setof text') -%}
                    select recorded.relation
                    from pg_inherits
                    inner join pg_class on pg_class.oid = inhrelid
                    inner join pg_namespace on pg_namespace.oid = relnamespace
                    inner join {{ schema }}.mart_contents as recorded
                        on recorded.relation = format('%I.%I', nspname, relname)
                    where inhparent = parent
                        and recorded.filenode = pg_relation_filenode(pg_class.oid)
                        and recorded.log_trigger = (
                            select oid from pg_trigger where tgname = 'alpha_log_mart_write' and tgrelid = parent
                        )
                        and not exists (
                            select from {{ schema }}.mart_writes as logged where logged.relation = recorded.relation
                        )
                        and {{ schema }}.alpha_mart_log_in_force(parent)
                {%- endcall %}
                -- The keys' digest of a partitioned table, as alpha_rows_digest takes it, from the record
                -- when every partition's stands and it records no other. NULL otherwise: the caller reads
                -- the table.
                {% call alpha_function_once(schema, 'alpha_mart_keys_digest', [('parent', 'regclass')], 'text') -%}
                    with standing as (
                        select recorded.row_count, recorded.keys_digest
                        from {{ schema }}.mart_contents as recorded
                        where recorded.relation in (select {{ schema }}.alpha_mart_records_standing(parent))
                    )
                    select sum(row_count)::text || ':' || coalesce(sum(keys_digest), 0)::text
                    from standing
                    where (select count(*) from standing) = (select count(*) from pg_inherits where inhparent = parent)
                        and (select count(*) from standing) = (select count(*) from {{ schema }}.mart_contents)
                {%- endcall %}
            end $alpha$;
            create or replace trigger alpha_log_mart_write after insert or update or delete on {{ relation }}
            for each row execute function {{ schema }}.alpha_log_mart_write();
            alter table {{ relation }} enable always trigger alpha_log_mart_write
        {%- endcall -%}
    {%- endif -%}
{% endmacro %}


{#-
  Inside a DO block: `create function <schema>.<name>(<arguments>) returns <returns>` with the caller's
  body, unless a function of that name and argument types exists; `arguments`: (name, type) pairs.
  Made once: a later run's role may not own it, and need not. Security definer, so that a role without
  rights on the log may write it or read its record through the function; the search_path fixed, as a
  security definer function needs.
  An `sql` function is stable and parallel restricted: it reads the catalog and the log, writes nothing.
-#}
{% macro alpha_function_once(schema, name, arguments, returns, language='sql') -%}
    if to_regprocedure('{{ schema }}.{{ name }}({{ arguments | map(attribute=1) | join(', ') }})') is null then
        create function {{ schema }}.{{ name }}(
            {%- for argument, type in arguments %}{{ argument }} {{ type }}{{ ', ' if not loop.last }}{% endfor -%}
        ) returns {{ returns }}
        language {{ language }}{{ ' stable parallel restricted' if language == 'sql' }} security definer
        set search_path = pg_catalog, pg_temp as $fn$
        {{ caller() }}
        $fn$;
    end if;
{%- endmacro %}


{#- Before a first bulk load, under its exclusive lock: five million trigger calls would cost more than
    the load, and every partition's checksum is taken anew after it anyway. -#}
{% macro drop_write_log(relation) %}
    {%- call statement('drop_write_log_' ~ relation.identifier) -%}
        drop trigger if exists alpha_log_mart_write on {{ relation }}
    {%- endcall -%}
{% endmacro %}
