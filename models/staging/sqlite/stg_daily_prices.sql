-- Every raw source row, classified: `loaded` (typed, ready for the mart), `merged` (an identical copy of a
-- loaded row's key and values) or `rejected` (with the first reason that applies: the key's, then the
-- values', in the order below).
{{ config(source_table='daily_prices', key_columns=['ticker', 'date']) }}

with raw as (
    select * from {{ source('sqlite', 'daily_prices') }}
    {{ alpha_only_rows_in_scope() }}
)

{#- The per-row steps are nested subqueries, not CTEs: each level's `alpha_fence` makes PostgreSQL compute
    its columns once per row, and, unlike a CTE or `offset 0`, lets it spread the scan over parallel
    workers (docs/performance.md). #}
select
    sqlite_rowid,
    outcome,
    reject_reason,
    -- The key whenever it is valid, even on a rejected row: `--mirror` keeps such keys in the target.
    (case when key_reason is null then ticker_clean end)::varchar(10) as ticker,
    (case when key_reason is null then date_clean end)::date as date,
    {{ alpha_to_numeric("case when outcome != 'rejected' then raw_close_number end", 10, 4) }} as raw_close,
    {{ alpha_to_numeric("case when outcome != 'rejected' then adj_close_number end", 10, 4) }} as adj_close,
    (case when outcome != 'rejected' then volume_clean end)::bigint as volume,
    -- The source's own values as numbers, for the dbt tests that compare the loaded values against them.
    case when outcome != 'rejected' then raw_close_number end as source_raw_close,
    case when outcome != 'rejected' then adj_close_number end as source_adj_close,
    case when outcome != 'rejected' then volume_clean end as source_volume,
    case when outcome = 'rejected' then json_build_object(
        'ticker', ticker,
        'date', date,
        'raw_close', coalesce(raw_close_text, raw_close::text),
        'adj_close', coalesce(adj_close_text, adj_close::text),
        'volume', coalesce(volume_text, volume::text, volume_real::text),
        -- the bytes, as hex, of each value PostgreSQL cannot store as text
        'unstorable_hex', unstorable::json
    )::text end as raw_values
from (
    {% call classify_by_key(['ticker_clean', 'date_clean'], ['raw_close_number', 'adj_close_number', 'volume_clean']) %}
    select
        *,
        {{ alpha_fence('checked') }},
        coalesce(key_reason, case
            when raw_close_text is not null and raw_close_number is null then 'price_not_numeric'
            when adj_close_text is not null and adj_close_number is null then 'price_not_numeric'
            when {{ is_not_finite('raw_close_number') }} or {{ is_not_finite('adj_close_number') }}
                then 'price_not_finite'
            when raw_close_number < 0 or adj_close_number < 0 then 'price_negative'
            when {{ overflows_numeric('raw_close_number', 10, 4) }} or {{ overflows_numeric('adj_close_number', 10, 4) }}
                then 'price_out_of_range'
            when volume_text is not null and volume_text_number is null then 'volume_not_numeric'
            when (volume_real is not null or volume_text is not null) and volume_clean is null then 'volume_fractional'
            when volume_clean < 0 then 'volume_negative'
        end) as invalid_reason
    from (
        select
            *,
            {{ alpha_fence('keys_checked') }},
            case
                -- First: the text PostgreSQL could not store is NULL in its column, not missing.
                when unstorable is not null then 'text_unstorable'
                when ticker_clean is null or ticker_clean = '' then 'ticker_missing'
                when length(ticker_clean) > 10 then 'ticker_too_long'
                {{ market_date_reasons('date_shape', 'date_clean') }}
            end as key_reason
        from (
            select
                *,
                {{ alpha_fence('dated') }},
                {{ market_date('date', 'date_shape') }} as date_clean,
                coalesce(
                    volume,
                    case
                        when volume_real = trunc(volume_real) and abs(volume_real) < 9e18 then volume_real::bigint
                    end,
                    case
                        when volume_text_number = trunc(volume_text_number) and abs(volume_text_number) < 9e18
                            then volume_text_number::bigint
                    end
                ) as volume_clean
            from (
                select
                    *,
                    {{ alpha_fence('normalised') }},
                    upper(trim(ticker)) as ticker_clean,
                    {{ market_date_shape('date') }} as date_shape,
                    {{ source_number('raw_close') }} as raw_close_number,
                    {{ source_number('adj_close') }} as adj_close_number,
                    -- Exactly, as NUMERIC: a double holds integers beyond 2^53 only approximately.
                    {{ number_in_text('volume_text', 'numeric') }} as volume_text_number
                from raw
            ) as normalised
        ) as dated
    ) as keys_checked
    {% endcall %}
) as classified
