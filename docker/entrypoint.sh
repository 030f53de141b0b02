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

# Each step that fails stops the container with a message saying what to do, never a bare traceback.
fail() {
  printf 'Cannot start: %s\n' "$*" >&2
  exit 1
}

# Waits up to DATABASE_WAIT_SECONDS for a database that is still starting, and stops at once on
# what waiting cannot fix (see portal/database_wait.py); it prints its own message.
if [ "${DATABASE_WAIT:-true}" = "true" ]; then
  python -m portal.database_wait || exit 1
fi

if [ "${MIGRATE_ON_START:-true}" = "true" ]; then
  python manage.py migrate --no-input \
    || fail "the database migrations failed (the error is above), so the portal was not started. Fix the cause" \
      "and start the container again; MIGRATE_ON_START=false skips this step when something else migrates."
fi
if [ "${LOAD_CURRICULUM_ON_START:-true}" = "true" ]; then
  python manage.py load_journeys \
    || fail "loading the curriculum failed (the file, line and reason are above; nothing was half-imported)," \
      "so the portal was not started. Fix that file, or set LOAD_CURRICULUM_ON_START=false to start with" \
      "the curriculum already in the database."
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
