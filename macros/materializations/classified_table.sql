{#-
  The staging models' materialization. The first run (and any run after a full copy of the raw table,
  a crash that emptied this unlogged table, or --full-refresh) classifies every raw row into a new table,
  as dbt's `table` would. Later runs reclassify only what the extract recorded in staging.raw_changes
  (alpha_migrate/raw_blocks.py): the rows in changed rowid ranges, plus every row sharing a key with one
  of them, old key or new, since whether a row is loaded, merged or in conflict depends on the other rows
  of its key. The model's SQL runs twice on that scope: once to learn the changed rows' new keys, once
  on the scope those keys widen.
  The reclassified rows also accumulate in `<model>_to_publish` (logged: it must survive a crash). The
  publish consumes it and the recorded changes in its own transaction (macros/publish/publish_table.sql),
  so a run that dies before publishing leaves both for the next run.
-#}
{% materialization classified_table, adapter='postgres' %}
    {%- set source_table = config.require('source_table') -%}
    {%- set keys = config.require('key_columns') | join(', ') -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set incremental = alpha_classifies_incrementally() -%}
    {%- set to_publish = alpha_to_publish_relation(target_relation) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {#- Explicit: dbt's connection may commit each statement on its own (checked with now()). -#}
    {% do run_query('begin') %}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {#- No record table before the first extract: an analyst's dbt build on raw tables made otherwise. A
        sandbox classifies in full and leaves production's recorded changes to production. -#}
    {%- set changes_recorded = not alpha_is_sandbox()
        and adapter.get_relation(this.database, 'staging', 'raw_changes') is not none -%}
    {%- set changes_through = run_query(
        "select coalesce(max(seq), 0) from staging.raw_changes where source_table = '" ~ source_table ~ "'"
    ).rows[0][0] if changes_recorded else 0 -%}

    {#- A sync compares its rows by key; a full classification, only if a valid key repeats (below). -#}
    {%- set by_key = incremental -%}
    {%- if incremental -%}
        {%- set ranges = run_query(
            "select low, high from staging.raw_changes where source_table = '" ~ source_table ~ "' and seq <= " ~ changes_through
        ).rows -%}
        {%- set in_ranges -%}
            (false{% for range in ranges %} or (sqlite_rowid between {{ range[0] }} and {{ range[1] }}){% endfor %})
        {%- endset -%}
        {% call statement('scope') -%}
            create temp table alpha_reclassify_scope on commit drop as
            select sqlite_rowid from {{ source('sqlite', source_table) }} where {{ in_ranges }}
            union
            select sqlite_rowid from {{ target_relation }} where {{ in_ranges }};
            -- Its size, for the planner: a few rows, found through the primary keys.
            analyze alpha_reclassify_scope;
            create temp table alpha_first_pass on commit drop as {{ sql }};
            create temp table alpha_scope_keys on commit drop as
            select {{ keys }} from alpha_first_pass
            union
            select {{ keys }} from {{ target_relation }}
            where sqlite_rowid in (select sqlite_rowid from alpha_reclassify_scope);
            analyze alpha_scope_keys;
            {#- The rows of those keys, loaded or not, each through its partial index (every row has an
                outcome): one condition on both read every row (1.6 s at 5 million rows, 0.01 s so). #}
            insert into alpha_reclassify_scope
            select sqlite_rowid from {{ target_relation }}
            where outcome = 'loaded' and ({{ keys }}) in (select {{ keys }} from alpha_scope_keys)
            union
            select sqlite_rowid from {{ target_relation }}
            where outcome <> 'loaded' and ({{ keys }}) in (select {{ keys }} from alpha_scope_keys)
            except
            select sqlite_rowid from alpha_reclassify_scope
        {%- endcall %}
        {% call statement('main') -%}
            analyze alpha_reclassify_scope;
            create temp table alpha_reclassified on commit drop as {{ sql }};
            delete from {{ target_relation }} where sqlite_rowid in (select sqlite_rowid from alpha_reclassify_scope);
            insert into {{ target_relation }} select * from alpha_reclassified;
            delete from {{ to_publish }} where sqlite_rowid in (select sqlite_rowid from alpha_reclassify_scope);
            insert into {{ to_publish }} select * from alpha_reclassified
        {%- endcall %}
    {%- else -%}
        {%- set intermediate = make_intermediate_relation(target_relation) -%}
        {#-
          Two unique indexes, built once after the rows are in, so that the uniqueness tests read
          them from the catalog (macros/tests/has_unique_index.sql): the primary key on sqlite_rowid,
          which a sync's reclassification deletes by, and the loaded rows' keys, which a sync's tests
          look up; and the rows not loaded (alpha_classify_into). They are named for the model: the
          intermediate's names are free again once it is renamed.
        -#}
        {%- set loaded_keys_index = intermediate.identifier ~ '_loaded_keys' -%}
        {#- First on the assumption that no valid key has a second row, which a clean file bears out: the rows
            are classified one by one, in parallel workers, with no window. The unique index on the loaded
            keys is the proof; if a key repeats, the rows are classified again with the window. -#}
        {%- do model.update({'alpha_keys_assumed_unique': true}) -%}
        {%- set per_row_sql = render(model.raw_code) -%}
        {%- do model.pop('alpha_keys_assumed_unique') -%}
        {% call statement('main') -%}
            {{ alpha_classify_into(intermediate, per_row_sql, keys, loaded_keys_index, keys_may_repeat=true) }}
        {%- endcall %}
        {%- set by_key = run_query("select to_regclass('" ~ intermediate.schema ~ "." ~ loaded_keys_index ~ "') is null").rows[0][0] -%}
        {%- if by_key -%}
            {% call statement('classify_key_copies') -%}
                {{ alpha_classify_into(intermediate, sql, keys, loaded_keys_index) }}
            {%- endcall %}
        {%- endif -%}
        {%- if existing_relation is not none -%}
            {% do adapter.drop_relation(existing_relation) %}
        {%- endif -%}
        {% do adapter.rename_relation(intermediate, target_relation) %}
        {% call statement('name_indexes') -%}
            alter index {{ target_relation.schema }}.{{ intermediate.identifier }}_pkey
            rename to {{ target_relation.identifier }}_pkey;
            alter index {{ target_relation.schema }}.{{ intermediate.identifier }}_loaded_keys
            rename to {{ target_relation.identifier }}_loaded_keys;
            alter index {{ target_relation.schema }}.{{ intermediate.identifier }}_exceptions
            rename to {{ target_relation.identifier }}_exceptions
        {%- endcall %}
        {#- A full classification is published in full: nothing accumulated before matters. -#}
        {% call statement('reset_to_publish') -%}
            drop table if exists {{ to_publish }} cascade;
            create table {{ to_publish }} (like {{ target_relation }})
        {%- endcall %}
    {%- endif -%}

    {% call statement('record_classification') -%}
        insert into {{ alpha_staging_schema() }}.classified_runs (run_id, model, source_table, incremental, reclassified, changes_through, by_key)
        select
            '{{ alpha_run_id() }}', '{{ this.identifier }}', '{{ source_table }}', {{ incremental }}, count(*),
            {{ changes_through }}, {{ by_key }}
        from {{ 'alpha_reclassified' if incremental else target_relation }}
        on conflict (run_id, model) do update set
            incremental = excluded.incremental,
            reclassified = excluded.reclassified,
            changes_through = excluded.changes_through,
            by_key = excluded.by_key,
            classified_at = now()
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do run_query('commit') %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#-
  `sql`'s rows into a new unlogged `relation`, then its primary key on sqlite_rowid and the unique index
  `index` on the loaded rows' `keys`; with `keys_may_repeat`, a repeated key leaves that index unbuilt
  instead of failing. Not vacuumed for its inserts, as the raw staging tables (alpha_migrate/extract.py
  says why).
-#}
{% macro alpha_classify_into(relation, sql, keys, index, keys_may_repeat=false) -%}
    drop table if exists {{ relation }};
    create unlogged table {{ relation }} with (autovacuum_vacuum_insert_threshold = -1) as {{ sql }};
    set local maintenance_work_mem = '512MB';
    alter table {{ relation }} add primary key (sqlite_rowid);
    {#- The few rows not loaded: the quarantine, the reject gate and the outcome counts find them here
        instead of reading every row (0.3-0.5 s to build at 5 million rows; each read 0.4-0.7 s saved). #}
    create index {{ relation.identifier }}_exceptions on {{ relation }} (sqlite_rowid) where outcome <> 'loaded';
    {%- set create_index = 'create unique index ' ~ index ~ ' on ' ~ relation ~ ' (' ~ keys ~ ") where outcome = 'loaded'" %}
    {%- if keys_may_repeat %}
    do $alpha$ begin
        {{ create_index }};
    exception when unique_violation then
        null;
    end $alpha$
    {%- else %}
    {{ create_index }}
    {%- endif %}
{%- endmacro %}
