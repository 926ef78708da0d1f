{#-
  Create the yearly partitions <table>_YYYY that `relation` (range-partitioned by date) needs: one per
  year from the earliest of (data, existing partitions, this year) through `ahead` years after the later
  of (data, this year), with no gap. Existing partitions are never touched, and nothing is issued when
  none is missing, so a re-run takes no lock that could stall readers or the Bot.
  `from_relation` holds the rows about to arrive (default: the table itself).
-#}
{% macro ensure_yearly_partitions(relation, from_relation=none, date_column='date', ahead=1) %}
    {#- Hooks are rendered at parse time too, when the catalog cannot be read. -#}
    {%- if not execute %}{{ return('') }}{% endif -%}
    {%- set years_sql -%}
        with data_years as (
            select
                extract(year from min({{ adapter.quote(date_column) }}))::int as first_year,
                extract(year from max({{ adapter.quote(date_column) }}))::int as last_year
            from {{ from_relation or relation }}
        ),

        partition_years as (
            select min(substring(child.relname from '_(\d{4})$')::int) as first_year
            from pg_inherits
            inner join pg_class as child on pg_inherits.inhrelid = child.oid
            where pg_inherits.inhparent = '{{ relation }}'::regclass
        )

        select
            least(data_years.first_year, partition_years.first_year, extract(year from current_date)::int),
            greatest(data_years.last_year, extract(year from current_date)::int) + {{ ahead | int }}
        from data_years cross join partition_years
    {%- endset -%}
    {%- set bounds = run_query(years_sql).rows[0] -%}
    {%- set existing = alpha_partition_names(relation) -%}
    {%- for year in range(bounds[0], bounds[1] + 1) -%}
        {%- set name = relation.identifier ~ '_' ~ year -%}
        {%- if name not in existing -%}
            {%- do log('creating partition ' ~ relation.schema ~ '.' ~ name, info=true) -%}
            {#-
              CREATE TABLE ... PARTITION OF would take an ACCESS EXCLUSIVE lock on the parent, queueing
              every reader behind it; creating the table apart and attaching it takes SHARE UPDATE
              EXCLUSIVE, which readers pass (and the attach of an empty table scans nothing).
            -#}
            {%- call statement('create_partition_' ~ year) -%}
                create table {{ adapter.quote(relation.schema) }}.{{ adapter.quote(name) }}
                    (like {{ relation }} including all);
                alter table {{ relation }} attach partition {{ adapter.quote(relation.schema) }}.{{ adapter.quote(name) }}
                    for values from ('{{ year }}-01-01') to ('{{ year + 1 }}-01-01')
            {%- endcall -%}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}


{% macro alpha_partition_names(relation) %}
    {%- set names_sql -%}
        select child.relname
        from pg_inherits
        inner join pg_class as child on pg_inherits.inhrelid = child.oid
        where pg_inherits.inhparent = '{{ relation }}'::regclass
    {%- endset -%}
    {{ return(run_query(names_sql).columns[0].values() | list) }}
{% endmacro %}


{#- `invoke partitions` (dbt run-operation): the same macro the model's pre-hook runs, on the live table. -#}
{% macro create_yearly_partitions(ahead=1) %}
    {#- Run by hand, it takes the write lock for its transaction (`invoke partitions` holds it already). -#}
    {% do run_query('begin') %}
    {% do run_write_lock() %}
    {% do ensure_yearly_partitions(ref('daily_prices'), ahead=ahead) %}
    {#- A plain COMMIT: dbt's adapter.commit() knows nothing of the transaction opened above. -#}
    {% do run_query('commit') %}
{% endmacro %}
