{#-
  The published tables' write log: a row trigger on each logs, once per transaction, the qualified name of
  every table or partition that transaction wrote (<staging>.mart_writes), so that the report's checksums
  (alpha_migrate/mart_contents.py) take again only the partitions written since they were last
  taken. PostgreSQL clones a partitioned table's row trigger onto every partition, present, created or
  attached later, and fires it for writes made through a partition directly too; a TRUNCATE or a rewrite
  gives the partition a new file, which the checksums' record also holds. Enabled ALWAYS, it fires under
  session_replication_role = replica as well; security definer, so the Bot's writes log without rights
  on the log. A trigger found missing or disabled voids the recorded checksums first: writes may have
  gone unlogged. Not seen, as with the raw copy's log: a table owner who disables the trigger, writes,
  and enables it again before the next run.
-#}
{% macro ensure_write_log(relation) %}
    {%- set schema = alpha_staging_schema() -%}
    {%- set in_force_sql -%}
        with logged as (
            select '{{ relation }}'::regclass as relid
            union all
            select inhrelid from pg_inherits where inhparent = '{{ relation }}'::regclass
        )
        select (select count(*) from pg_trigger
            where tgname = 'alpha_log_mart_write' and tgenabled = 'A' and tgrelid in (select relid from logged))
            = (select count(*) from logged)
    {%- endset -%}
    {%- if not run_query(in_force_sql).rows[0][0] -%}
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
                checksum numeric not null
            );
            delete from {{ schema }}.mart_contents;
            do $alpha$ begin
                -- Made once: a later run's role may not own it, and need not.
                if to_regprocedure('{{ schema }}.alpha_log_mart_write()') is null then
                    create function {{ schema }}.alpha_log_mart_write() returns trigger
                    language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
                    begin
                        insert into {{ schema }}.mart_writes (relation) values (format('%I.%I', tg_table_schema, tg_table_name))
                        on conflict do nothing;
                        return null;
                    end $fn$;
                end if;
            end $alpha$;
            create or replace trigger alpha_log_mart_write after insert or update or delete on {{ relation }}
            for each row execute function {{ schema }}.alpha_log_mart_write();
            alter table {{ relation }} enable always trigger alpha_log_mart_write
        {%- endcall -%}
    {%- endif -%}
{% endmacro %}


{#- Before a first bulk load, under its exclusive lock: five million trigger calls would cost more than
    the load, and every partition's checksum is taken anew after it anyway. -#}
{% macro drop_write_log(relation) %}
    {%- call statement('drop_write_log_' ~ relation.identifier) -%}
        drop trigger if exists alpha_log_mart_write on {{ relation }}
    {%- endcall -%}
{% endmacro %}
