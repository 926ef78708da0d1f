{#-
  dbt wraps every test's `model` in this macro. A test configured with `where: __published_this_run__`
  checks, on an incremental sync, only the rows that run published and the `sync_test_lookback_days`
  before each (so that a return or a gap has its previous row), found by the primary key index. On any
  other run, and for any other `where`, dbt's own behaviour. No alias (PostgreSQL 16 needs none): the
  tests give `model` their own.
  The scope is the table's own rows whose key is in that set, each row once however many published rows
  reach it, so a duplicate key among them is two rows for `unique_combination` to count. Rows with a NULL
  key column, which no key matches, are always in it, for `not_null` to see.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') or '' -%}
    {%- if '__classified_this_run__' in where -%}
        {{ return(alpha_classified_this_run(relation, where)) }}
    {%- endif -%}
    {%- if where != '__published_this_run__' -%}
        {{ return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) }}
    {%- endif -%}
    {%- set mart = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('alias', 'equalto', relation.identifier)
        | first -%}
    {%- set staging = graph.nodes['model.' ~ project_name ~ '.' ~ mart.config.meta.staging_model] -%}
    {%- set staging_relation = api.Relation.create(
        database=staging.database, schema=staging.schema, identifier=staging.alias
    ) -%}
    {%- set classification = alpha_classification(staging_relation) -%}
    {%- if classification is none or not classification[0] -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set lookback = mart.config.meta.sync_test_lookback_days | int -%}
    {%- set scoped_keys, published_keys, null_keys = [], [], [] -%}
    {%- for key in mart.config.unique_key -%}
        {%- do scoped_keys.append('scoped.' ~ key) -%}
        {%- do published_keys.append('published.date - lookback.days' if key == 'date' else 'published.' ~ key) -%}
        {%- do null_keys.append('scoped.' ~ key ~ ' is null') -%}
    {%- endfor -%}
    {#-
      Every key in scope as an equal key, the published rows' and the days before each: a semi-join on
      them neither repeats a row nor folds two rows of one key into one (distinct on the key did, so a
      duplicate could never fail the unique test). A range join on the dates could hash on the ticker
      only: seconds per test on a sync of thousands of rows. The NULL-key branch costs nothing while the
      key columns are NOT NULL: the planner excludes every partition.
      A daily sync's few keys are looked up one by one (`offset 0` keeps the lookup a subquery of its
      own, as a semi-join it was flattened): the planner, which cannot estimate how many rows keys
      computed from dates reach, guessed half the table and at times hashed all of it instead, 2.6 s
      against 0.2 s a test at 5 million rows. Beyond `sync_test_probe_limit` keys, where one lookup per
      key costs more than one scan of the table, the semi-join lets it choose.
    -#}
    {%- set keys_in_scope -%}
        select {% for key in published_keys %}{{ key }} as key_{{ loop.index }}{{ ', ' if not loop.last }}{% endfor %}
        from {{ alpha_published_relation(staging_relation) }} as published
        cross join generate_series(0, {{ lookback }}) as lookback (days)
        where published.outcome = 'loaded'
    {%- endset -%}
    {#- What the publish kept: this run's rows, and those of runs that stopped before publishing. -#}
    {%- set published_rows = run_query(
        'select count(*) from ' ~ alpha_published_relation(staging_relation) ~ " where outcome = 'loaded'"
    ).rows[0][0] -%}
    {%- if published_rows * (lookback + 1) <= var('sync_test_probe_limit', 100000) -%}
        {%- set key_matches = [] -%}
        {%- for key in mart.config.unique_key -%}
            {%- do key_matches.append('scoped.' ~ key ~ ' = keys.key_' ~ loop.index) -%}
        {%- endfor -%}
        {%- set in_scope -%}
            select scoped.* from (select distinct * from ({{ keys_in_scope }}) as in_scope) as keys
            cross join lateral (
                select * from {{ relation }} as scoped where {{ key_matches | join(' and ') }} offset 0
            ) as scoped
        {%- endset -%}
    {%- else -%}
        {%- set in_scope -%}
            select scoped.* from {{ relation }} as scoped
            where ({{ scoped_keys | join(', ') }}) in ({{ keys_in_scope }})
        {%- endset -%}
    {%- endif -%}
    {%- set scoped -%}
        (
            ({{ in_scope }})
            union all
            (
                select scoped.* from {{ relation }} as scoped
                where {{ null_keys | join(' or ') }}
            )
        )
    {%- endset -%}
    {{ return(scoped) }}
{%- endmacro %}


{#-
  In a test that compares `model` with its staging model: the staging rows of the keys in `model`, when
  `model` is scoped to a sync (a subquery, above); the whole staging model otherwise.
-#}
{% macro alpha_in_scope_of(model, staging_model, key_columns) %}
    {%- if model is string -%}
        {{ return('(select * from ' ~ staging_model ~ ' where (' ~ key_columns | join(', ') ~ ') in (select '
            ~ key_columns | join(', ') ~ ' from ' ~ model ~ ' as scoped))') }}
    {%- endif -%}
    {{ return(staging_model) }}
{% endmacro %}


{#-
  A staging model's test whose `where` names `__classified_this_run__` (alone, or with a condition, as in
  `__classified_this_run__ and outcome != 'rejected'`) checks, on an incremental sync, only the rows
  reclassified since the last publish (`<model>_to_publish`, which the tests read before the publish
  consumes it): the other rows were checked when they were classified, and only a classification writes
  the staging model. On a full classification, the whole model. The rest of the condition applies as
  dbt's own `where` does.
-#}
{% macro alpha_classified_this_run(relation, where) -%}
    {%- set condition = where | replace('__classified_this_run__', 'true') -%}
    {{ return('(select * from ' ~ alpha_changed_rows(relation) ~ ' where ' ~ condition ~ ') dbt_subquery') }}
{%- endmacro %}
