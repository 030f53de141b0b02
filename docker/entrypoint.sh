#!/bin/sh
# Prepare the database, then hand the process over to the server (PID 1 stays the server).
set -eu

# Workers share their Prometheus counters through files here; start each container clean.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
# Without Redis the workers share a cache in files; a restarted container (after a restore, say)
# must not serve pages cached from the database as it was before.
if [ -z "${REDIS_URL:-}" ]; then
  rm -rf "${CACHE_DIR:-/tmp/kube-journeys-cache}"
fi

if [ "${DATABASE_WAIT:-true}" = "true" ]; then
  python - <<'PY'
import sys, time
import django
django.setup()
from django.db import connection
from django.db.utils import OperationalError
for attempt in range(60):
    try:
        connection.ensure_connection()
        break
    except OperationalError as exc:  # the database may still be starting
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
  # The portal logs each request itself (JSON, with its request id), so gunicorn's access log stays off.
  exec gunicorn portal.wsgi:application \
    --bind "0.0.0.0:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-2}" \
    --worker-tmp-dir /tmp \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
    --config python:portal.gunicorn_config \
    "$@"
fi
exec "$@"
