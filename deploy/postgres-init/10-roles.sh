#!/bin/sh
# The two database roles (README "Database roles"), run once by the postgres image's entrypoint when it initialises an
# empty data directory (/docker-entrypoint-initdb.d). The owner owns the database and, through `flask db upgrade`
# (the migrate job), every table; the app role can log in and nothing else until the upgrade grants it
# backend/dbroles.py's list. Environment: deploy/db.env.example.
set -eu

for name in VETERANS_DB VETERANS_OWNER VETERANS_OWNER_PASSWORD VETERANS_APP VETERANS_APP_PASSWORD; do
  eval "value=\${$name:-}"
  case "$value" in
    "" | *CHANGE-ME*)
      echo "10-roles.sh: $name is empty or still the example's placeholder (deploy/db.env)" >&2
      exit 1
      ;;
  esac
done

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v db="$VETERANS_DB" -v owner="$VETERANS_OWNER" -v owner_password="$VETERANS_OWNER_PASSWORD" \
  -v app="$VETERANS_APP" -v app_password="$VETERANS_APP_PASSWORD" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"db" OWNER :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
\connect :"db"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
SQL
