#!/bin/sh
# One-shot, in temporalio/admin-tools: create Temporal's two databases on temporal-db and bring
# their schemas to the version this admin-tools release ships. Safe on every `docker compose up`:
# create and setup-schema are no-ops on an existing database, update-schema applies only what
# is missing. The temporal server starts only after this exits 0.
set -eu

: "${SQL_HOST:?SQL_HOST is required}" "${SQL_USER:?SQL_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"  # read by temporal-sql-tool itself
SQL_PORT="${SQL_PORT:-5432}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" "$@"
}

echo "waiting for Postgres at $SQL_HOST:$SQL_PORT"
tries=0
until nc -z -w 5 "$SQL_HOST" "$SQL_PORT"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "Postgres at $SQL_HOST:$SQL_PORT did not open its port" >&2
    exit 1
  fi
  sleep 2
done

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) versioned="$SCHEMA_DIR/temporal/versioned" ;;
    *) versioned="$SCHEMA_DIR/visibility/versioned" ;;
  esac
  echo "database $db: create, set up, update ($versioned)"
  sql_tool --db "$db" create
  sql_tool --db "$db" setup-schema -v 0.0
  sql_tool --db "$db" update-schema -d "$versioned"
done
echo "Temporal schemas are up to date"
