{#-
  The quarantine: every source row a run did not load and did not merge, with its reason, its raw values
  and the run that saw it. Written by the marts' pre-hooks: in the transaction of their load under a
  plain `dbt build`; in step 4's build, before the publish, under `invoke migrate` (its publish is
  deferred), so a run stopped between the two leaves its quarantine and unchanged tables. Also by
  `quarantine_all` when the rejects exceed --max-rejects and no load happens at all.
-#}
{#-
  The run's id: `invoke migrate` passes its own in ALPHA_RUN_ID; plain dbt runs use dbt's invocation id.
  An environment variable, not a --vars entry: a var that differs on every run would make dbt re-parse
  the whole project at each of the run's three dbt calls (5 s each).
-#}
{% macro alpha_run_id() -%}
    {{ return(env_var('ALPHA_RUN_ID', invocation_id)) }}
{%- endmacro %}


{#-
  The quarantine's table, staging.rejected_rows: made here (ensure_run_tables), written by the marts'
  pre-hooks, read by the reconciles_with_source test and `invoke rejects`. Neither a model nor a source
  (it is written by this project, not loaded from outside); documented in macros/quarantine/_quarantine.yml.
-#}
{% macro alpha_quarantine_relation() %}
    {{ return(api.Relation.create(database=target.database, schema=alpha_staging_schema(), identifier='rejected_rows', type='table')) }}
{% endmacro %}


{#-
  The run's bookkeeping tables, made once before any model (on-run-start): two marts creating them at
  once would collide. sync_runs: what each publish changed, per table (macros/publish/publish_table.sql);
  classified_runs: how each staging model was classified (macros/materializations/classified_table.sql).
-#}
{% macro ensure_run_tables() %}
    {%- if not execute %}{{ return('') }}{% endif -%}
    {%- call statement('ensure_run_tables') -%}
        create schema if not exists {{ alpha_staging_schema() }};
        create table if not exists {{ alpha_quarantine_relation() }} (
            run_id text not null,
            source_table text not null,
            sqlite_rowid bigint not null,
            reason text not null,
            raw_values text not null,
            quarantined_at timestamptz not null default now(),
            primary key (run_id, source_table, sqlite_rowid)
        );
        create table if not exists {{ alpha_staging_schema() }}.sync_runs (
            run_id text not null,
            table_name text not null,
            first_load boolean not null,
            loaded bigint not null,
            inserted bigint not null,
            updated bigint not null,
            unchanged bigint not null,
            deleted bigint not null,
            published_at timestamptz not null default now(),
            primary key (run_id, table_name)
        );
        create table if not exists {{ alpha_staging_schema() }}.classified_runs (
            run_id text not null,
            model text not null,
            source_table text not null,
            incremental boolean not null,
            reclassified bigint not null,
            -- staging.raw_changes up to this seq were reclassified; the publish deletes them
            changes_through bigint not null,
            classified_at timestamptz not null default now(),
            primary key (run_id, model)
        );
        -- whether rows were compared by key (a sync, or a key with two valid rows), or one by one
        alter table {{ alpha_staging_schema() }}.classified_runs add column if not exists by_key boolean
    {%- endcall -%}
    {#- Committed here, on the connection that made them: dbt may run each hook on its own. -#}
    {%- do adapter.commit() -%}
{% endmacro %}


{% macro quarantine_rejects(staging_model, source_table) %}
    {%- if not execute %}{{ return('') }}{% endif -%}
    {%- call statement('quarantine_' ~ source_table) -%}
        delete from {{ alpha_quarantine_relation() }}
        where run_id = '{{ alpha_run_id() }}' and source_table = '{{ source_table }}';
        insert into {{ alpha_quarantine_relation() }} (run_id, source_table, sqlite_rowid, reason, raw_values)
        select '{{ alpha_run_id() }}', '{{ source_table }}', sqlite_rowid, reject_reason, raw_values
        from {{ staging_model }}
        where outcome = 'rejected'
    {%- endcall -%}
{% endmacro %}


{% macro quarantine_all() %}
    {% do run_write_lock() %}
    {% do ensure_run_tables() %}
    {% do quarantine_rejects(ref('stg_daily_prices'), 'daily_prices') %}
    {% do quarantine_rejects(ref('stg_portfolio_v1_performance'), 'portfolio_v1_performance') %}
    {% do adapter.commit() %}
{% endmacro %}
