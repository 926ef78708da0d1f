{#-
  The gate before any load: more quarantined rows in this run, over all staging models, than --max-rejects
  (dbt var max_rejects, default 0). Both marts depend on every staging model it reads, so `dbt build`
  skips them when it fails, and the target tables stay exactly as they were.
-#}
{% test rejects_within_limit(model, staging_models) %}
with rejected as (
    {% for staging_model in staging_models -%}
        select count(*) as n from {{ staging_model }} where outcome = 'rejected'
        {{ 'union all' if not loop.last }}
    {% endfor %}
)

select
    sum(n) as rejected_rows,
    {{ var('max_rejects', 0) }} as max_rejects
from rejected
having sum(n) > {{ var('max_rejects', 0) }}
{% endtest %}
