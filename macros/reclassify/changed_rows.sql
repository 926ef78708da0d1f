{#-
  What a staging model reclassified (macros/materializations/classified_table.sql), for the marts, the
  partition pre-hook, the publish and the sync-scoped tests.
-#}

{#-
  True when this staging model can reclassify only the recorded changes: it exists and holds rows (a
  crash empties an unlogged table), its `_to_publish` table exists, no full copy of its raw table is
  pending, and no --full-refresh asks otherwise. Decided at compile time (the model's SQL reads the
  scope only then) and again, identically, by the materialization.
-#}
{% macro alpha_classifies_incrementally() %}
    {#- No `this` in a dbt unit test: it classifies its given rows in full. -#}
    {%- if not execute or this is none or should_full_refresh() or load_cached_relation(this) is none
        or alpha_is_sandbox() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set incremental_sql -%}
        select
            to_regclass('staging.raw_changes') is not null
            and to_regclass('{{ alpha_to_publish_relation(this) }}') is not null
            and exists (select from {{ this }})
    {%- endset -%}
    {%- if not run_query(incremental_sql).rows[0][0] -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set full_pending_sql -%}
        select exists (
            select from staging.raw_changes where source_table = '{{ config.require("source_table") }}' and full_copy
        )
    {%- endset -%}
    {{ return(not run_query(full_pending_sql).rows[0][0]) }}
{% endmacro %}


{#- In the staging model's SQL: read only the rows in scope when reclassifying incrementally. -#}
{% macro alpha_only_rows_in_scope() %}
    {%- if alpha_classifies_incrementally() -%}
        where sqlite_rowid in (select alpha_reclassify_scope.sqlite_rowid from alpha_reclassify_scope)
    {%- endif -%}
{% endmacro %}


{% macro alpha_to_publish_relation(staging_relation) %}
    {{ return(staging_relation.incorporate(path={'identifier': staging_relation.identifier ~ '_to_publish'})) }}
{% endmacro %}


{% macro alpha_published_relation(staging_relation) %}
    {{ return(staging_relation.incorporate(path={'identifier': staging_relation.identifier ~ '_published'})) }}
{% endmacro %}


{#- This run's classification of `staging_relation` (a row of staging.classified_runs), or none. -#}
{% macro alpha_classification(staging_relation) %}
    {#- Not at parse time; nor before any run made the table (sqlfluff compiles against any database). -#}
    {%- if not execute or adapter.get_relation(staging_relation.database, alpha_staging_schema(), 'classified_runs') is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set classification_sql -%}
        select incremental, changes_through, source_table from {{ alpha_staging_schema() }}.classified_runs
        where run_id = '{{ alpha_run_id() }}' and model = '{{ staging_relation.identifier }}'
    {%- endset -%}
    {%- set rows = run_query(classification_sql).rows -%}
    {{ return(rows[0] if rows else none) }}
{% endmacro %}


{#-
  The rows of `staging_relation` to publish from: those reclassified since the last publish, when this
  run classified it incrementally; else all of it.
-#}
{% macro alpha_changed_rows(staging_relation) %}
    {%- set classification = alpha_classification(staging_relation) -%}
    {%- if classification is not none and classification[0] -%}
        {{ return(alpha_to_publish_relation(staging_relation)) }}
    {%- endif -%}
    {{ return(staging_relation) }}
{% endmacro %}


{#-
  After a mart is published from `staging_relation`, inside the publishing transaction: the changes
  this run classified are consumed, and what was published is kept as `<model>_published`, the scope of
  the tests that follow (macros/tests/get_where_subquery.sql).
-#}
{% macro alpha_consume_classification(staging_relation) %}
    {%- set classification = alpha_classification(staging_relation) -%}
    {%- if classification is none -%}{{ return('') }}{%- endif -%}
    {%- set to_publish = alpha_to_publish_relation(staging_relation) -%}
    {%- set published = alpha_published_relation(staging_relation) -%}
    {% call statement('consume_' ~ staging_relation.identifier) -%}
        {%- if classification[1] > 0 %}
        delete from staging.raw_changes where source_table = '{{ classification[2] }}' and seq <= {{ classification[1] }};
        {%- endif %}
        drop table if exists {{ published }} cascade;
        alter table {{ to_publish }} rename to {{ published.identifier }};
        create table {{ to_publish }} (like {{ published }})
    {%- endcall %}
{% endmacro %}
