select
    sqlite_rowid,
    cast(ticker as varchar(10)) as ticker,
    cast(date as date) as date,
    cast(raw_close as numeric(10, 4)) as raw_close,
    cast(adj_close as numeric(10, 4)) as adj_close,
    cast(volume as bigint) as volume
from {{ source('sqlite', 'daily_prices') }}
