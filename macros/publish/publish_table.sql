{#-
  Publish `rows_sql` (the rows of the model `node`, typed by its contract) into `relation`, inside the
  caller's transaction, record what changed in staging.sync_runs, and return the load's response:
    - first load (the table, created with its primary key, is still empty): the table is locked, the
      key dropped, the rows go into the bare partitions with a plain INSERT in key order, then the
      primary key and the indexes named in `meta.indexes` are built once each, before the commit. No client
      ever sees the table without its key; a row the Bot wrote before the lock makes this a sync;
    - later runs: the rows that are new or differ are found with one join against the table, then
      upserted in key order: a Bot writing in the same order cannot deadlock with it; one writing in
      another order can, and PostgreSQL then usually aborts this publish (tests/integration/
      test_concurrent_writes.py).
      Unchanged rows are not written at all, so a daily sync touches only the partitions it changes.
      Inserted and updated are counted from the upsert's own RETURNING: a Bot write in between that
      makes a row equal to the source leaves it unwritten and uncounted. (A key new at the join and
      inserted by the Bot before the upsert counts as inserted.)
  On a sync `rows_sql` holds only the rows the run reclassified; `unchanged` counts against every loaded
  row of `meta.staging_model`.
  Every write to the table is logged by transaction and partition (macros/publish/write_log.sql), the
  publish's own included, but for a first load's bulk insert.
  Rows that exist only in the table (the Bot's) are kept, unless `--vars '{mirror: true}'`: then keys
  absent from `meta.staging_model` (every source key, quarantined or not) are deleted and counted.
-#}
{% macro publish_table(node, relation, rows_sql) %}
    {%- set keys, values = [], [] -%}
    {%- for name in node.columns -%}
        {%- do (keys if name in node.config.unique_key else values).append(adapter.quote(name)) -%}
    {%- endfor -%}
    {%- set columns = keys + values -%}
    {%- set matches = [] -%}
    {%- for key in keys -%}{%- do matches.append('incoming.' ~ key ~ ' = existing.' ~ key) -%}{%- endfor -%}
    {%- set meta = node.config.meta -%}
    {%- set first_load = alpha_is_empty(relation) -%}
    {%- if first_load -%}
        {%- do run_query('lock table ' ~ relation ~ ' in access exclusive mode') -%}
        {%- set first_load = alpha_is_empty(relation) -%}
    {%- endif -%}
    {%- set changes = 'alpha_changes_' ~ relation.identifier -%}

    {#- `invoke migrate` passes the count its reconciliation has just taken of the same rows, which its
        write lock has kept as they were: counted again, it took 0.9 s of a daily sync at 5 million rows.
        (In the environment: a --vars that changes at every run would make dbt parse the project again.) -#}
    {%- set loaded = fromjson(env_var('ALPHA_LOADED_ROWS', '{}')).get(node.name) -%}
    {%- if loaded is none -%}
        {%- set loaded = run_query(
            'select count(*) from ' ~ ref(meta.staging_model) ~ " where outcome = 'loaded'"
        ).rows[0][0] -%}
    {%- endif -%}
    {%- if first_load -%}
        {%- do drop_primary_key(relation, node.constraints) -%}
        {%- do drop_write_log(relation) -%}
        {% call statement('load_' ~ relation.identifier) -%}
            insert into {{ relation }} ({{ columns | join(', ') }})
            select {{ columns | join(', ') }} from ({{ rows_sql }}) as incoming
            {#- In key order: one ticker's rows then share a few pages of each partition, so its history
                reads 280 pages instead of 2,500 at 5 million rows, and the key's index builds from
                sorted rows (2.5 s against 4.0 s). The staging model's index on its loaded keys gives the
                order without a sort. #}
            order by {{ keys | join(', ') }}
        {%- endcall %}
        {%- set response = load_result('load_' ~ relation.identifier).response -%}
        {%- set inserted, updated = response.rows_affected, 0 -%}
    {%- else -%}
        {% call statement('find_changes_' ~ relation.identifier) -%}
            create temp table {{ changes }} on commit drop as
            select incoming.*, existing.{{ keys[0] }} is null as is_new
            from ({{ rows_sql }}) as incoming
            left join {{ relation }} as existing on {{ matches | join(' and ') }}
            where
                existing.{{ keys[0] }} is null
                or (incoming.{{ values | join(', incoming.') }})
                is distinct from (existing.{{ values | join(', existing.') }})
        {%- endcall %}
        {% call statement('load_' ~ relation.identifier, fetch_result=True) -%}
            with written as (
            insert into {{ relation }} as existing ({{ columns | join(', ') }})
            select {{ columns | join(', ') }} from {{ changes }}
            order by {{ keys | join(', ') }}
            on conflict ({{ keys | join(', ') }}) do update set
            {%- for column in values %}
                {{ column }} = excluded.{{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
            where (existing.{{ values | join(', existing.') }})
                is distinct from (excluded.{{ values | join(', excluded.') }})
            {#- Not xmax: PostgreSQL 16 cannot return system columns of a partitioned table. #}
            returning {{ keys | join(', ') }}
            )
            select count(*) filter (where changed.is_new), count(*) filter (where not changed.is_new)
            from written join {{ changes }} as changed using ({{ keys | join(', ') }})
        {%- endcall %}
        {%- set loaded_result = load_result('load_' ~ relation.identifier) -%}
        {%- set response, counted = loaded_result.response, loaded_result.table.rows[0] -%}
        {%- set inserted, updated = counted[0], counted[1] -%}
    {%- endif -%}
    {%- do ensure_primary_key(relation, node.constraints) -%}
    {%- for index in meta.get('indexes', []) -%}
        {%- do ensure_index(relation, index.name, index.columns) -%}
    {%- endfor -%}
    {#- After the writes: a log found out of force voids what it recorded, this publish's writes included. -#}
    {%- do ensure_write_log(relation) -%}

    {%- set deleted = 0 -%}
    {%- if var('mirror', false) -%}
        {% call statement('mirror_' ~ relation.identifier, fetch_result=False) -%}
            delete from {{ relation }} as existing
            where not exists (
                select from {{ ref(meta.staging_model) }} as incoming
                where {{ matches | join(' and ') }}
            )
        {%- endcall %}
        {%- set deleted = load_result('mirror_' ~ relation.identifier).response.rows_affected -%}
    {%- endif -%}

    {%- do alpha_consume_classification(ref(meta.staging_model)) -%}

    {% call statement('record_' ~ relation.identifier) -%}
        insert into {{ alpha_staging_schema() }}.sync_runs (run_id, table_name, first_load, loaded, inserted, updated, unchanged, deleted)
        values (
            '{{ alpha_run_id() }}', '{{ relation.identifier }}', {{ first_load }},
            {{ loaded }}, {{ inserted }}, {{ updated }}, {{ loaded - inserted - updated }}, {{ deleted }}
        )
    {%- endcall %}
    {{ return(response) }}
{% endmacro %}


{% macro alpha_is_empty(relation) %}
    {{ return(not run_query('select exists (select from ' ~ relation ~ ')').rows[0][0]) }}
{% endmacro %}


{% macro alpha_has_primary_key(relation) %}
    {%- set present_sql -%}
        select count(*) from pg_constraint where conrelid = '{{ relation }}'::regclass and contype = 'p'
    {%- endset -%}
    {{ return(run_query(present_sql).rows[0][0] > 0) }}
{% endmacro %}
