#!/bin/sh
# One-shot job (docker-compose.yml `temporal-schema`, image temporalio/admin-tools): create the
# Temporal databases on PostgreSQL and bring both schemas to the version the server image expects.
# Idempotent: `create` ignores an existing database, `setup-schema -v 0.0` only creates the version
# table, `update-schema` applies the versions not applied yet. So it runs on every `docker compose
# up`, and an image bump (server and admin-tools together) migrates the schema before the server
# starts. Env: SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD (read by temporal-sql-tool itself).
set -eu

: "${SQL_HOST:?SQL_HOST is required}"
: "${SQL_USER:?SQL_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
SQL_PORT="${SQL_PORT:-5432}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

sql_tool() {
    temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" "$@"
}

until nc -z "$SQL_HOST" "$SQL_PORT"; do
    echo "schema: waiting for PostgreSQL at $SQL_HOST:$SQL_PORT"
    sleep 1
done

# The workflow store, then the visibility store (custom search attributes live there).
for pair in temporal:temporal temporal_visibility:visibility; do
    database="${pair%%:*}"
    schema_dir="$SCHEMA_ROOT/${pair#*:}/versioned"
    echo "schema: $database from $schema_dir"
    sql_tool --db "$database" create
    sql_tool --db "$database" setup-schema -v 0.0
    sql_tool --db "$database" update-schema -d "$schema_dir"
done
echo "schema: ready"
