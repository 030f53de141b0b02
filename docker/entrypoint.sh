#!/bin/sh
# Prepare the database, then hand the process over to the server (PID 1 stays the server).
set -eu

if [ "${DATABASE_WAIT:-true}" = "true" ]; then
  python - <<'PY'
import sys, time
import django
django.setup()
from django.db import connection
for attempt in range(60):
    try:
        connection.ensure_connection()
        break
    except Exception as exc:  # the database may still be starting
        print(f"Waiting for the database ({exc.__class__.__name__})...", file=sys.stderr)
        time.sleep(1)
else:
    sys.exit("The database did not become reachable within 60 seconds; check DATABASE_URL.")
PY
fi

if [ "${MIGRATE_ON_START:-true}" = "true" ]; then
  python manage.py migrate --no-input
fi
if [ "${LOAD_CURRICULUM_ON_START:-true}" = "true" ]; then
  python manage.py load_journeys
fi

if [ "${1:-}" = "gunicorn" ]; then
  shift
  exec gunicorn portal.wsgi:application --bind "0.0.0.0:${PORT:-8000}" --workers "${WEB_CONCURRENCY:-2}" \
    --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" "$@"
fi
exec "$@"
