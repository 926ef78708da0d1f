{#-
  The analysts' sandbox: a target named `dev` (profiles.example.yml) builds every model, partition and
  test into the analyst's own schemas (generate_schema_name), reading the same raw staging tables as
  production, and writes no production table: no publish into public, no consumed changes, no run
  bookkeeping or quarantine outside its own schemas.
-#}
{% macro alpha_is_sandbox() %}
    {{ return(target.name == 'dev') }}
{% endmacro %}


{#- Where the staging models and the run bookkeeping live: `staging`, or the sandbox's own. -#}
{% macro alpha_staging_schema() %}
    {{ return(generate_schema_name('staging', none) | trim) }}
{% endmacro %}
