{#- Fails when the model holds a different number of rows than the relation it was loaded from. -#}
{% test row_count_matches(model, compare_to) %}
with counts as (
    select
        (select count(*) from {{ model }}) as model_rows,
        (select count(*) from {{ compare_to }}) as source_rows
)

select
    model_rows,
    source_rows
from counts
where model_rows != source_rows
{% endtest %}
