{#-
  Fails with one row per key value that occurs more than once, among the rows whose `outcome` is
  `only_outcome` when given (a staging model's loaded rows). A table with a unique index on exactly
  these columns over exactly those rows cannot hold such a value while the index stands: PostgreSQL
  enforces it on every write, so the test reads the catalog instead of grouping every row (9-10 s at
  5 million rows). Without one, or on a subquery (a sync's scope), the rows are grouped as ever.
-#}
{% test unique_combination(model, columns, only_outcome=none) %}
{%- set predicate = none if only_outcome is none else "(outcome = '" ~ only_outcome ~ "'::text)" -%}
{%- set indexed = execute and model is not string and alpha_has_unique_index(model, columns, predicate) -%}
select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
where
    {{ 'true' if only_outcome is none else "outcome = '" ~ only_outcome ~ "'" }}
    {%- if indexed %}
    -- {{ model }} has a unique index on exactly ({{ columns | join(', ') }}) over these rows
    and false
    {%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
