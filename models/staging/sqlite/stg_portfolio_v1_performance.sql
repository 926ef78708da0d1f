-- Every raw portfolio row, classified like stg_daily_prices: loaded, merged or rejected with a reason.
{{ config(source_table='portfolio_v1_performance', key_columns=['date']) }}

with raw as (
    select * from {{ source('sqlite', 'portfolio_v1_performance') }}
    {{ alpha_only_rows_in_scope() }}
)

{#- Nested subqueries with fences, as in stg_daily_prices (which says why). #}
select
    sqlite_rowid,
    outcome,
    reject_reason,
    -- The key whenever it is valid, even on a rejected row: `--mirror` keeps such keys in the target.
    (case when key_reason is null then date_clean end)::date as date,
    {{ alpha_to_numeric("case when outcome != 'rejected' then total_portfolio_value_number end", 12, 2) }}
        as total_portfolio_value,
    {{ alpha_to_numeric("case when outcome != 'rejected' then daily_return_vs_spy_number end", 8, 6) }}
        as daily_return_vs_spy,
    {{ alpha_to_numeric("case when outcome != 'rejected' then cumulative_alpha_number end", 8, 6) }}
        as cumulative_alpha,
    -- The source's own values as numbers, for the dbt tests that compare the loaded values against them.
    case when outcome != 'rejected' then total_portfolio_value_number end as source_total_portfolio_value,
    case when outcome != 'rejected' then daily_return_vs_spy_number end as source_daily_return_vs_spy,
    case when outcome != 'rejected' then cumulative_alpha_number end as source_cumulative_alpha,
    case when outcome = 'rejected' then json_build_object(
        'date', date,
        'total_portfolio_value', coalesce(total_portfolio_value_text, total_portfolio_value::text),
        'daily_return_vs_spy', coalesce(daily_return_vs_spy_text, daily_return_vs_spy::text),
        'cumulative_alpha', coalesce(cumulative_alpha_text, cumulative_alpha::text),
        -- the bytes, as hex, of each value PostgreSQL cannot store as text
        'unstorable_hex', unstorable::json
    )::text end as raw_values
from (
    {% call classify_by_key(
        ['date_clean'], ['total_portfolio_value_number', 'daily_return_vs_spy_number', 'cumulative_alpha_number']
    ) %}
    select
        *,
        {{ alpha_fence('checked') }},
        coalesce(key_reason, case
            when
                total_portfolio_value_text is not null and total_portfolio_value_number is null
                or daily_return_vs_spy_text is not null and daily_return_vs_spy_number is null
                or cumulative_alpha_text is not null and cumulative_alpha_number is null
                then 'value_not_numeric'
            when
                {{ is_not_finite('total_portfolio_value_number') }}
                or {{ is_not_finite('daily_return_vs_spy_number') }}
                or {{ is_not_finite('cumulative_alpha_number') }}
                then 'value_not_finite'
            when {{ overflows_numeric('total_portfolio_value_number', 12, 2) }} then 'value_out_of_range'
            when {{ overflows_numeric('daily_return_vs_spy_number', 8, 6) }} then 'return_out_of_range'
            when {{ overflows_numeric('cumulative_alpha_number', 8, 6) }} then 'alpha_out_of_range'
        end) as invalid_reason
    from (
        select
            *,
            {{ alpha_fence('keys_checked') }},
            case
                -- First: the text PostgreSQL could not store is NULL in its column, not missing.
                when unstorable is not null then 'text_unstorable'
                {{ market_date_reasons('date_shape', 'date_clean') }}
            end as key_reason
        from (
            select
                *,
                {{ alpha_fence('dated') }},
                {{ market_date('date', 'date_shape') }} as date_clean
            from (
                select
                    *,
                    {{ alpha_fence('shaped') }},
                    {{ market_date_shape('date') }} as date_shape,
                    {{ source_number('total_portfolio_value') }} as total_portfolio_value_number,
                    {{ source_number('daily_return_vs_spy') }} as daily_return_vs_spy_number,
                    {{ source_number('cumulative_alpha') }} as cumulative_alpha_number
                from raw
            ) as shaped
        ) as dated
    ) as keys_checked
    {% endcall %}
) as classified
