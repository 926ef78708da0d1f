{#- True when `relation` has a valid primary key or unique constraint on exactly `columns`, in any order. -#}
{% macro alpha_has_unique_constraint(relation, columns) %}
    {%- set constraint_sql -%}
        select exists (
            select
            from pg_constraint as c
            inner join pg_index as i on i.indexrelid = c.conindid
            where
                c.conrelid = to_regclass('{{ relation }}')
                and c.contype in ('p', 'u')
                and i.indisvalid
                and (
                    select array_agg(a.attname::text order by a.attname)
                    from pg_attribute as a
                    where a.attrelid = c.conrelid and a.attnum = any(c.conkey)
                ) = array[{% for column in columns | sort %}'{{ column }}'{{ ', ' if not loop.last }}{% endfor %}]
        )
    {%- endset -%}
    {{ return(run_query(constraint_sql).rows[0][0]) }}
{% endmacro %}
