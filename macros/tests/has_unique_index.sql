{#-
  True when `relation` has a valid unique index (a primary key's, a unique constraint's, or its own) on
  exactly `columns`, in any order, over the rows `predicate` selects: none for every row, else the
  index predicate as PostgreSQL prints it, e.g. "(outcome = 'loaded'::text)". PostgreSQL enforces such
  an index on every write, so the uniqueness tests read it here instead of grouping every row.
-#}
{% macro alpha_has_unique_index(relation, columns, predicate=none) %}
    {%- set index_sql -%}
        select exists (
            select
            from pg_index as i
            where
                i.indrelid = to_regclass('{{ relation }}')
                and i.indisunique
                and i.indisvalid
                and i.indnkeyatts = {{ columns | length }}
                and {% if predicate is none -%}
                    i.indpred is null
                {%- else -%}
                    pg_get_expr(i.indpred, i.indrelid) = {{ "'" ~ predicate | replace("'", "''") ~ "'" }}
                {%- endif %}
                and (
                    select array_agg(a.attname::text order by a.attname)
                    from pg_attribute as a
                    where a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                ) = array[{% for column in columns | sort %}'{{ column }}'{{ ', ' if not loop.last }}{% endfor %}]
        )
    {%- endset -%}
    {{ return(run_query(index_sql).rows[0][0]) }}
{% endmacro %}
