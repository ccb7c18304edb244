#!/bin/sh
# Creates Temporal's two PostgreSQL databases (and the workers' contact store database) and brings their schemas to the version this admin-tools image ships.
# Runs on every `docker compose up`: creating an existing database, setting up an existing schema and updating a
# current one are all no-ops for temporal-sql-tool.
# Connection: temporal-sql-tool reads SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD from the environment.
set -eu

: "${SQL_PLUGIN:?SQL_PLUGIN must be set (postgres12)}"
: "${SQL_HOST:?SQL_HOST must be set}"
: "${SQL_USER:?SQL_USER must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set}"

schema_root=/etc/temporal/schema/postgresql/v12

# database name, then the folder of its versioned schema
for pair in temporal:temporal temporal_visibility:visibility; do
  database=${pair%%:*}
  schema=${pair#*:}
  echo "temporal-schema: $database"
  temporal-sql-tool --db "$database" create-database
  temporal-sql-tool --db "$database" setup-schema -v 0.0
  temporal-sql-tool --db "$database" update-schema -d "$schema_root/$schema/versioned"
done
# The contact policy's database for the workers (AGENTPHONE_DATABASE_URL): created here, its tables by the workers'
# own migrations at start-up.
echo 'temporal-schema: agentphone'
temporal-sql-tool --db agentphone create-database
echo 'temporal-schema: done'
