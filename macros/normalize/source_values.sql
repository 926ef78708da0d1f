{#-
  Source dates arrive as text in several shapes. Unambiguous ones are normalised to DATE:
    iso_date            2024-01-02
    iso_datetime        2024-01-02 00:00:00 (pandas), 2024-01-02T21:00:00-05:00, ...Z: the date as written,
                        the market's own calendar day, not shifted by the zone
    slashed_date        2024/01/02
    epoch_seconds       9-10 digits, epoch_milliseconds 12-13 digits: the UTC calendar day
  Trailing whitespace is ignored, as SQLite's date() ignores it ('2024-01-02 ', a CSV line's '\r'); leading
  whitespace SQLite refuses, and so does this. Anything else is `unparseable`; a shape with an impossible
  day (2024-02-30) yields NULL. Never raises, so one bad row cannot stop a load.
  The shapes are matched in the "C" collation, where `\d` is an ASCII digit only. In the database's own
  collation it may be any script's digit (PostgreSQL 18's builtin PG_UNICODE_FAST, ICU): a date written in
  Arabic-Indic digits then took a shape whose `::int` cast raised, and stopped the load.
-#}
{% macro market_date_shape(column) -%}
    {%- set column = column ~ ' collate "C"' -%}
    {%- set whitespace = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)" -%}
    case
        when {{ column }} is null or trim({{ column }}) = '' then 'missing'
        {{ market_date_shapes_of(column) }}
        {#- Last, so that a date without trailing whitespace, nearly every one, pays nothing for it; PostgreSQL's
            date and numeric input, which market_date then reads it with, ignore it too. #}
        when {{ column }} ~ '\s$' then case {{ market_date_shapes_of('rtrim(' ~ column ~ ', ' ~ whitespace ~ ')') }}
            else 'unparseable' end
        else 'unparseable'
    end
{%- endmacro %}


{% macro market_date_shapes_of(text) -%}
    when {{ text }} ~ '^\d{4}-\d{2}-\d{2}$' then 'iso_date'
    when {{ text }} ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$'
        then 'iso_datetime'
    when {{ text }} ~ '^\d{4}/\d{2}/\d{2}$' then 'slashed_date'
    when {{ text }} ~ '^\d{9,10}(\.0+)?$' then 'epoch_seconds'
    when {{ text }} ~ '^\d{12,13}(\.0+)?$' then 'epoch_milliseconds'
{%- endmacro %}


{% macro market_date(column, shape) -%}
    {%- set year = 'substr(' ~ column ~ ', 1, 4)::int' -%}
    {%- set month = 'substr(' ~ column ~ ', 6, 2)::int' -%}
    {%- set day = 'substr(' ~ column ~ ', 9, 2)::int' -%}
    case
        {#- The common shape, by PostgreSQL's own date input (16 and newer): a third of the time of the
            arithmetic below, and the same dates, since it reads YYYY-MM-DD as such in every DateStyle. #}
        when {{ shape }} = 'iso_date' then case when pg_input_is_valid({{ column }}, 'date') then {{ column }}::date end
        when {{ shape }} in ('iso_datetime', 'slashed_date')
            and {{ year }} >= 1 and {{ month }} between 1 and 12 and {{ day }} between 1 and 31
            and extract(month from make_date({{ year }}, {{ month }}, 1) + ({{ day }} - 1)) = {{ month }}
            then make_date({{ year }}, {{ month }}, 1) + ({{ day }} - 1)
        when {{ shape }} = 'epoch_seconds'
            then (to_timestamp(trunc({{ column }}::numeric)) at time zone 'UTC')::date
        when {{ shape }} = 'epoch_milliseconds'
            then (to_timestamp(trunc({{ column }}::numeric) / 1000) at time zone 'UTC')::date
    end
{%- endmacro %}


{#- Market data before 1990 or after next year is a typo or a unit error, not a trading day. -#}
{% macro market_date_is_sane(column) -%}
    {{ column }} between date '1990-01-01' and make_date(extract(year from current_date)::int + 1, 12, 31)
{%- endmacro %}


{#- A double that is +-Infinity or NaN: SQLite stores the first two; NaN arrives as NULL. -#}
{% macro is_not_finite(column) -%}
    {{ column }} in ('Infinity'::float8, '-Infinity'::float8, 'NaN'::float8)
{%- endmacro %}


{#-
  The number a text spells when it is a decimal literal, as SQLite reads one into a column of numeric type
  ('164.23', ' 1e3 ', '-.5'), cast to `type`; else NULL ('N/A', '', '1,234.5', '0x1A', 'Infinity', a
  literal beyond the type's range). Such text stays text only in a column declared without a numeric type:
  a CSV that the sqlite3 shell imported into a new table, a pandas column that once held 'N/A'. Matched in
  the "C" collation, where `\d` is an ASCII digit only (market_date_shape says why).
-#}
{% macro number_in_text(column, type='float8') -%}
    case
        when {{ column }} collate "C" ~ '^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$'
            and pg_input_is_valid({{ column }}, '{{ type }}')
            then {{ column }}::{{ type }}
    end
{%- endmacro %}


{#- The number a raw numeric column holds: its REAL or INTEGER value, else the number its `_text` beside it
    spells (raw layout, _sqlite__sources.yml), as a double. -#}
{% macro source_number(column) -%}
    coalesce({{ column }}, {{ number_in_text(column ~ '_text') }})
{%- endmacro %}


{#-
  A double as NUMERIC(precision, scale), rounded half away from zero, through float8's text: its shortest
  decimal that reads back as the same double (PostgreSQL 12 and newer, extra_float_digits 1). The direct
  cast formats 15 significant digits with snprintf and took twice as long (1.3 s against 0.6 s a column
  at a million rows). Either way a value lands within the documented rounding bound (docs/design.md).
-#}
{% macro alpha_to_numeric(expression, precision, scale) -%}
    ({{ expression }})::text::numeric({{ precision }}, {{ scale }})
{%- endmacro %}


{#-
  Would alpha_to_numeric of this double overflow NUMERIC(precision, scale) once rounded? Decided exactly
  as that cast decides, but only for values near the limit, so the common case costs one comparison.
-#}
{% macro overflows_numeric(column, precision, scale) -%}
    {%- set limit = 10 ** (precision - scale) -%}
    coalesce(
        abs({{ column }}) >= {{ limit - 1 }} and abs(round({{ column }}::text::numeric, {{ scale }})) >= {{ limit }}, false
    )
{%- endmacro %}


{#- The reasons a market date is not a valid key, in the order the staging models check them. -#}
{% macro market_date_reasons(shape, date) -%}
    when {{ shape }} = 'missing' then 'date_missing'
    when {{ shape }} = 'unparseable' then 'date_unparseable'
    when {{ date }} is null then 'date_impossible'
    when not {{ market_date_is_sane(date) }} then 'date_out_of_range'
{%- endmacro %}
