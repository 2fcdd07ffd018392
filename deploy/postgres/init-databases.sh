#!/bin/sh
# PostgreSQL's first start in docker-compose.yml (/docker-entrypoint-initdb.d): one database
# per service, each owned by a role of the same name that can connect to nothing else, so
# that no service can read another's tables. It runs once, on an empty data volume
# (`docker compose down -v` starts over).
#
# WAYFARE_DB_PASSWORD: the password of every service role (docker-compose.yml sets a
# development one). When the file is not executable the entrypoint sources it instead,
# so it changes no shell option of its own beyond -e, which the entrypoint sets too.
set -e

: "${WAYFARE_DB_PASSWORD:?set WAYFARE_DB_PASSWORD}"

for name in auth flight booking payment notification admin; do
    psql --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        --set name="$name" --set password="$WAYFARE_DB_PASSWORD" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
