#!/bin/bash
# Run once by the postgres image when it creates the cluster: the application's own login
# (crm_app), separate from the tables' owner, so that it may only read and append the audit
# trail (`crm db upgrade` grants it exactly what it needs).
set -euo pipefail
password="$(cat "${CRM_APP_PASSWORD_FILE}")"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$password" <<'SQL'
CREATE ROLE crm_app LOGIN PASSWORD :'app_password';
SQL
