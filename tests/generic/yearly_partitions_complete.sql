{#-
  Partitions as the plan needs them: every row in the yearly partition of its date, no DEFAULT partition
  for rows to hide in, and next year's partition ready before the Bot writes on New Year's first trading day.
  Fails with one row per problem.
-#}
{% test yearly_partitions_complete(model, column_name) %}
with partitions as (
    select
        child.relname::text as name,
        pg_get_expr(child.relpartbound, child.oid) as bound
    from pg_inherits
    inner join pg_class as child on pg_inherits.inhrelid = child.oid
    where pg_inherits.inhparent = '{{ model }}'::regclass
),

-- PostgreSQL keeps every row within its partition's bounds: only a partition whose bounds are not
-- exactly its name's year can hold a row of another year, so only then are the rows read (a scan of
-- every row took 5 s at 5 million).
loose_partitions as (
    select partitions.name
    from partitions
    where
        partitions.name !~ '_\d{4}$'
        or partitions.bound is distinct from format(
            'FOR VALUES FROM (%L) TO (%L)',
            right(partitions.name, 4) || '-01-01',
            (right(partitions.name, 4)::int + 1)::text || '-01-01'
        )
),

misplaced as (
    select
        'row outside its yearly partition' as problem,
        tableoid::regclass::text as detail
    from {{ model }}
    where
        exists (select from loose_partitions)
        and right(tableoid::regclass::text, 4)::int != extract(year from {{ column_name }})::int
),

default_partitions as (
    select
        'DEFAULT partition' as problem,
        partitions.name as detail
    from partitions
    where partitions.bound = 'DEFAULT'
),

next_year as (
    select
        'no partition for next year' as problem,
        (extract(year from current_date)::int + 1)::text as detail
    where not exists (
        select 1
        from partitions
        where partitions.name = '{{ model.identifier }}_' || (extract(year from current_date)::int + 1)
    )
)

select * from misplaced
union all
select * from default_partitions
union all
select * from next_year
{% endtest %}
