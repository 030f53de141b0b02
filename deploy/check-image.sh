#!/usr/bin/env bash
# Proves the self-hosting path: builds the image from the Dockerfile with podman and runs it as the
# README says, on SQLite (one read-only container) and with Compose (PostgreSQL and Redis), as a
# learner would use it, then backs up and restores both and tears everything down.
#
# Where no Docker engine and no registry are: podman, buildah and mmdebstrap come from Debian,
# podman-compose from PyPI, and the base images (Debian bookworm's python3, postgresql-15,
# redis-server) are built here with mmdebstrap, cached by package list in $KJ_IMAGE_CACHE.
#
# Usage: deploy/check-image.sh    (as root, from anywhere; no input; exits non-zero on the first
# failure, naming the check and showing the containers' logs). Leaves no container running.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
PODMAN_COMPOSE_VERSION="1.6.0"
CACHE="${KJ_IMAGE_CACHE:-/var/cache/kube-journeys/check-image}"
COMPOSE_VENV="$ROOT/.tools/podman-compose"
SUITE="bookworm"
MIRRORS=(
  "deb http://deb.debian.org/debian $SUITE main"
  "deb http://deb.debian.org/debian $SUITE-updates main"
  "deb http://deb.debian.org/debian-security $SUITE-security main"
)
# Everything a run creates is named $PREFIX-<its pid>...: a later run removes what a run that is no
# longer alive left behind, and never touches a run still going (two may run at once).
PREFIX="kjcheck"
RUN="$PREFIX-$$"
PORTAL_IMAGE_TAG="localhost/kube-journeys:check"
MAX_STOP_SECONDS=10
HEALTHY_WITHIN=120

WORK="$(mktemp -d)"
STARTED="$(date +%s.%N)"
TIMINGS=()
STEP_NAME=""
STEP_START=""
COMPOSE=()

# Without systemd podman cannot schedule health checks and says so on every run, start and stop:
# the HEALTHCHECK is run by hand below instead, so those lines are only noise.
podman() { command podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2 || true); }
now() { date +%s.%N; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

end_step() {
  if [ -n "$STEP_NAME" ]; then
    TIMINGS+=("$(printf '%7s s  %s' "$(seconds_since "$STEP_START")" "$STEP_NAME")")
    STEP_NAME=""
  fi
}
step() {
  end_step
  STEP_NAME="$*"
  STEP_START="$(now)"
  printf '\n== %s\n' "$*"
}

# --- What this run owns, and how it goes away ---

run_containers() { podman ps -a --format '{{.Names}}' | grep -E "^$1[-_]" || true; }

remove_run() { # everything one run made: containers, pods, volumes, networks
  local run="$1" names
  names="$(run_containers "$run")"
  # -v: with the containers go their anonymous volumes (the portal's /app/data under Compose).
  [ -z "$names" ] || podman rm -f -v -t 0 $names >/dev/null 2>&1 || true
  podman pod rm -f "pod_$run" >/dev/null 2>&1 || true
  names="$(podman volume ls --format '{{.Name}}' | grep -E "^$run[-_]" || true)"
  [ -z "$names" ] || podman volume rm -f $names >/dev/null 2>&1 || true
  names="$(podman network ls --format '{{.Name}}' | grep -E "^$run[-_]" || true)"
  [ -z "$names" ] || podman network rm -f $names >/dev/null 2>&1 || true
}

run_alive() { # a pid that is still a check-image run
  kill -0 "$1" 2>/dev/null && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q check-image
}

remove_stale_runs() {
  local run pid
  for run in $({
    podman ps -a --format '{{.Names}}'
    podman pod ps --format '{{.Name}}'
    podman volume ls --format '{{.Name}}'
    podman network ls --format '{{.Name}}'
  } 2>/dev/null | sed -nE "s/^(pod_)?($PREFIX-[0-9]+)([-_].*)?$/\2/p" | sort -u); do
    pid="${run#"$PREFIX"-}"
    if [ "$pid" != "$$" ] && ! run_alive "$pid"; then
      echo "Removing what an earlier run that stopped ($run) left behind"
      remove_run "$run"
    fi
  done
}

show_logs() {
  local name
  for name in $(run_containers "$RUN"); do
    echo "--- logs of $name (last 60 lines)" >&2
    podman logs --tail 60 "$name" >&2 2>&1 || true
  done
}

fail() {
  echo >&2
  echo "FAILED: $*" >&2
  show_logs
  exit 1
}

on_error() {
  # In a command substitution: leave the message to the shell that ran it, which fails in turn.
  [ "$BASHPID" = "$$" ] || return 0
  fail "step '$STEP_NAME': the command '$2' (line $1) exited non-zero"
}

cleanup() {
  local status=$?
  trap - ERR
  set +e
  remove_run "$RUN"
  if [ "${#COMPOSE[@]}" -gt 0 ]; then
    "${COMPOSE[@]}" down -v >/dev/null 2>&1
  fi
  rm -rf "$CACHE/tmp-$$"
  rm -rf "$WORK"
  if [ -n "$(run_containers "$RUN")" ]; then
    echo "FAILED: containers of $RUN are still there: $(run_containers "$RUN" | tr '\n' ' ')" >&2
    status=1
  fi
  exit "$status"
}
trap 'on_error "$LINENO" "$BASH_COMMAND"' ERR
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Helpers ---

free_port() { # the first port from $1 on that nothing listens on (127.0.0.1)
  python3 - "$1" <<'PY'
import socket
import sys

start = int(sys.argv[1])
for port in range(start, start + 200):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    sys.exit(f"no free port in {start}..{start + 199}")
PY
}

http_ok() { # http_ok URL: true when it answers 200
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1
}

wait_healthy() { # wait_healthy CONTAINER PORT SINCE: until /healthz and /readyz answer; sets HEALTHY_IN
  local container="$1" port="$2" since="$3" deadline=$((SECONDS + HEALTHY_WITHIN))
  until http_ok "http://127.0.0.1:$port/healthz" && http_ok "http://127.0.0.1:$port/readyz"; do
    if [ "$(podman inspect --format '{{.State.Running}}' "$container" 2>/dev/null)" != "true" ]; then
      fail "$container stopped before it answered /healthz"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "$container did not answer /healthz and /readyz within ${HEALTHY_WITHIN} s"
    sleep 0.25
  done
  HEALTHY_IN="$(seconds_since "$since")"
}

check_portal() { # check_portal PORT MODE ARGS...: deploy/check_portal.py, its output indented
  local port="$1"
  shift
  python3 "$ROOT/deploy/check_portal.py" "http://127.0.0.1:$port" "$@" >"$WORK/portal.out" 2>&1 \
    || { sed 's/^/    /' "$WORK/portal.out"; return 1; }
  sed 's/^/    /' "$WORK/portal.out"
}

check_container() { # non-root server as PID 1, read-only root, writable data, HEALTHCHECK passes
  local container="$1" writable="${2:-}" status
  status="$(podman exec "$container" python -c \
    'print(open("/proc/1/status").read().split("Uid:")[1].split()[0], open("/proc/1/cmdline").read().split("\0")[1])')" \
    || fail "$container: could not read its PID 1"
  [ "${status% *}" = "10001" ] || fail "$container: the server runs as uid ${status% *}, expected 10001 (non-root)"
  case "${status#* }" in *gunicorn*) ;; *) fail "$container: PID 1 is '${status#* }', expected gunicorn (exec'd)" ;; esac
  echo "    ok  the server is PID 1 ($(basename "${status#* }")) as uid 10001"
  [ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container")" = "true" ] \
    || fail "$container: the root filesystem is not read-only"
  if podman exec "$container" sh -c 'echo x >/app/probe' 2>/dev/null; then
    fail "$container: writing to /app succeeded; the root filesystem must be read-only"
  fi
  echo "    ok  a write to /app fails (read-only root)"
  if [ -n "$writable" ]; then
    podman exec "$container" sh -c "echo x >$writable/probe && rm $writable/probe" \
      || fail "$container: cannot write to the volume at $writable"
    echo "    ok  the volume at $writable is writable"
  fi
  podman healthcheck run "$container" >/dev/null 2>&1 || fail "$container: podman healthcheck run did not pass"
  echo "    ok  podman healthcheck run: healthy"
}

stop_within_limit() { # stop_within_limit CONTAINER: SIGTERM, how long it takes, how it exits
  local container="$1" since took code
  since="$(now)"
  podman stop -t 30 "$container" >/dev/null
  took="$(seconds_since "$since")"
  code="$(podman inspect --format '{{.State.ExitCode}}' "$container")"
  echo "    stopped by SIGTERM in $took s (exit code $code)"
  awk -v t="$took" -v max="$MAX_STOP_SECONDS" 'BEGIN { exit !(t <= max) }' \
    || fail "$container took $took s to stop after SIGTERM (at most $MAX_STOP_SECONDS s)"
  case "$code" in 0 | 143) ;; *) fail "$container exited with $code after SIGTERM (expected 0 or 143)" ;; esac
  STOP_SECONDS+=("$took")
}

debian_image() { # debian_image NAME PACKAGES [mmdebstrap options...]: sets IMAGE to a local image
  local name="$1" packages="$2" key tarball old
  shift 2
  key="$(printf '%s\n' "$SUITE" "$packages" "$@" "${MIRRORS[@]}" "$(mmdebstrap --version)" | sha256sum | cut -c1-12)"
  IMAGE="localhost/kube-journeys-$name:$SUITE-$key"
  tarball="$CACHE/$name-$SUITE-$key.tar"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/$name.lock"
  flock 9 # two runs at once build it once
  if podman image exists "$IMAGE"; then
    echo "    $IMAGE: here already"
  else
    if [ ! -s "$tarball" ]; then
      mkdir -p "$CACHE/tmp-$$" # mmdebstrap tells a tarball from a directory by the name's ending
      echo "    mmdebstrap $SUITE minbase + $packages"
      # Documentation, manual pages and translations are left out: nothing in a container reads them.
      if ! mmdebstrap --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --include="$packages" \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        "$@" "$SUITE" "$CACHE/tmp-$$/$name.tar" "${MIRRORS[@]}" >"$WORK/mmdebstrap-$name.log" 2>&1; then
        tail -30 "$WORK/mmdebstrap-$name.log" >&2
        fail "mmdebstrap could not build the $name image's root filesystem"
      fi
      mv -f "$CACHE/tmp-$$/$name.tar" "$tarball"
      find "$CACHE" -maxdepth 1 -name "$name-*.tar" ! -name "$(basename "$tarball")" -delete
    fi
    podman import --quiet "$tarball" "$IMAGE" >/dev/null || fail "podman import $tarball"
    echo "    $IMAGE: imported from $tarball ($(du -m "$tarball" | cut -f1) MB)"
    # Older builds of the same image (another package list) are no longer wanted.
    for old in $(podman images --format '{{.Repository}}:{{.Tag}}' | grep "^localhost/kube-journeys-$name:" | grep -v ":$SUITE-$key\$" || true); do
      podman rmi "$old" >/dev/null 2>&1 || true
    done
  fi
  flock -u 9
}

# --- 1. Tools ---

step "Tools: podman, buildah, mmdebstrap, podman-compose"
missing=()
for package in podman buildah runc mmdebstrap uidmap python3-venv; do
  dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "    apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Root in these containers cannot raise its limits above the host's, and crun refuses the hybrid
# cgroups of these machines: podman must be told both.
nofile="$(ulimit -Hn)"
[ "$nofile" != "unlimited" ] || nofile=1048576
nproc="$(ulimit -Hu)"
if [ "$nproc" = "unlimited" ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
CONTAINERS_CONF="/etc/containers/containers.conf"
want_conf="$(printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n\n[engine]\nruntime = "runc"\n' \
  "$nofile" "$nofile" "$nproc" "$nproc")"
if [ ! -f "$CONTAINERS_CONF" ]; then
  printf '%s\n' "$want_conf" >"$CONTAINERS_CONF"
  echo "    wrote $CONTAINERS_CONF"
elif grep -qF "\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"" "$CONTAINERS_CONF" \
  && grep -qE '^runtime *= *"runc"' "$CONTAINERS_CONF"; then
  echo "    $CONTAINERS_CONF: limits and runtime already set"
else
  cp -p "$CONTAINERS_CONF" "$CONTAINERS_CONF.before-kube-journeys"
  printf '%s\n' "$want_conf" >"$CONTAINERS_CONF"
  echo "    replaced $CONTAINERS_CONF (the previous one is $CONTAINERS_CONF.before-kube-journeys)"
fi

if [ "$("$COMPOSE_VENV/bin/podman-compose" --version 2>/dev/null | sed -n 's/^podman-compose version //p')" != "$PODMAN_COMPOSE_VERSION" ]; then
  echo "    installing podman-compose $PODMAN_COMPOSE_VERSION into .tools/podman-compose"
  rm -rf "$COMPOSE_VENV"
  /usr/bin/python3 -m venv "$COMPOSE_VENV"
  "$COMPOSE_VENV/bin/pip" install --quiet --disable-pip-version-check "podman-compose==$PODMAN_COMPOSE_VERSION"
fi
echo "    $(podman --version), $(mmdebstrap --version), podman-compose $PODMAN_COMPOSE_VERSION"
remove_stale_runs

# --- 2. Images ---

step "Base image: Debian $SUITE's python3 (mmdebstrap)"
debian_image base "python3,python3-venv,ca-certificates,tzdata,netbase,passwd"
BASE_IMAGE="$IMAGE"
podman run --rm --name "$RUN-once" "$BASE_IMAGE" python3 --version | sed 's/^/    /'

step "Build the Dockerfile (--build-arg BASE_IMAGE=$BASE_IMAGE)"
build_mounts=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
if [ -f /etc/pip.conf ]; then build_mounts+=(-v /etc/pip.conf:/etc/pip.conf:ro); fi
previous="$(podman image inspect --format '{{.Id}}' "$PORTAL_IMAGE_TAG" 2>/dev/null || true)"
if ! podman build --pull=never --format docker --build-arg BASE_IMAGE="$BASE_IMAGE" "${build_mounts[@]}" \
  --iidfile "$WORK/portal.iid" -t "$PORTAL_IMAGE_TAG" . >"$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log" >&2
  fail "podman build of the Dockerfile"
fi
PORTAL_IMAGE="$(cat "$WORK/portal.iid")"
PORTAL_IMAGE="${PORTAL_IMAGE#sha256:}"
if [ -n "$previous" ] && [ "$previous" != "$PORTAL_IMAGE" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true # the last run's build, unless something uses it
fi
IMAGE_MB="$(podman image inspect --format '{{.Size}}' "$PORTAL_IMAGE" | awk '{ printf "%.0f", $1 / 1000000 }')"
echo "    $PORTAL_IMAGE_TAG (${PORTAL_IMAGE:0:12}): $IMAGE_MB MB"

step "What the image holds"
[ "$(podman image inspect --format '{{.Config.Healthcheck.Test}}' "$PORTAL_IMAGE")" != "[]" ] \
  || fail "the image has no HEALTHCHECK (was it built with --format docker?)"
# Exactly what the .dockerignore allowlist lets in, plus what the build makes (data, staticfiles).
expected="data docker journeys manage.py portal requirements.txt static staticfiles templates; docker: entrypoint.sh"
listing="$(podman run --rm --name "$RUN-once" --entrypoint sh "$PORTAL_IMAGE" -c \
  'echo $(ls -A /app)\; docker: $(ls -A /app/docker)')"
[ "$listing" = "$expected" ] || fail "/app holds '$listing', expected '$expected'"
echo "    ok  /app: $expected"
leftovers="$(podman run --rm --name "$RUN-once" --entrypoint python "$PORTAL_IMAGE" -c \
  'import importlib.util as u; print(" ".join(m for m in ("pip", "setuptools", "wheel", "pytest") if u.find_spec(m)))')"
[ -z "$leftovers" ] || fail "the runtime virtualenv carries $leftovers"
echo "    ok  no pip, setuptools, wheel or pytest in the runtime virtualenv"
podman run --rm --name "$RUN-once" --entrypoint python "$PORTAL_IMAGE" -c \
  'from kubernetes import client, config; client.CoreV1Api; config.load_kube_config' \
  || fail "the Kubernetes client (sandbox validation) does not import in the image"
echo "    ok  the Kubernetes client imports (sandbox validation)"

# --- 3. One container, SQLite ---

step "SQLite: podman run --read-only"
SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
export SECRET_KEY
LEARNER_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')"
STOP_SECONDS=()
run_sqlite_portal() { # NAME VOLUME: the README's `run` on a free port (SQLITE_PORT), healthy or failed
  local name="$1" volume="$2" since
  exec 8>"$CACHE/ports.lock"
  flock 8 # the port is free until the container holds it
  SQLITE_PORT="$(free_port 18080)"
  since="$(now)"
  podman run -d --name "$name" --read-only --tmpfs /tmp -p "127.0.0.1:$SQLITE_PORT:8000" \
    -e SECRET_KEY -e ALLOWED_HOSTS=localhost,127.0.0.1 \
    -e SECURE_SSL_REDIRECT=false -e SESSION_COOKIE_SECURE=false -e CSRF_COOKIE_SECURE=false \
    -v "$volume:/app/data" "$PORTAL_IMAGE" >/dev/null
  flock -u 8
  wait_healthy "$name" "$SQLITE_PORT" "$since"
}
SQLITE="$RUN-sqlite"
run_sqlite_portal "$SQLITE" "$RUN-data"
SQLITE_HEALTHY="$HEALTHY_IN"
echo "    healthy in $SQLITE_HEALTHY s on 127.0.0.1:$SQLITE_PORT"
echo "    its first start printed ($(podman logs "$SQLITE" 2>&1 | grep -c '^  Applying ') migrations applied, not shown):"
podman logs "$SQLITE" 2>&1 | grep -v '^  Applying ' | head -n 16 | sed 's/^/      | /'

step "SQLite: a learner's walk, and the container's stance"
USER1="learner-sqlite-$$"
check_portal "$SQLITE_PORT" signup --username "$USER1" --password="$LEARNER_PASSWORD" || fail "SQLite: the learner's walk (above)"
ATTEMPT1="$(sed -n 's/^attempt=//p' "$WORK/portal.out")"
recorded="$(podman exec "$SQLITE" python manage.py shell --no-imports -c \
  "from journeys.models import QuizAttempt; print(QuizAttempt.objects.filter(pk=$ATTEMPT1, user__username='$USER1').count())")"
[ "$recorded" = "1" ] || fail "SQLite: attempt $ATTEMPT1 of $USER1 is not in the database (found $recorded)"
echo "    ok  attempt $ATTEMPT1 of $USER1 is in /app/data/db.sqlite3"
check_container "$SQLITE" /app/data

step "SQLite: SIGTERM, backup, restore into a new volume"
stop_within_limit "$SQLITE"
SQLITE_STOP="${STOP_SECONDS[0]}"
podman run --rm --name "$RUN-once" -v "$RUN-data:/app/data:ro" --entrypoint cat "$PORTAL_IMAGE" \
  /app/data/db.sqlite3 >"$WORK/backup.sqlite3"
[ -s "$WORK/backup.sqlite3" ] || fail "SQLite: the backup is empty"
echo "    backup: $(du -k "$WORK/backup.sqlite3" | cut -f1) KiB"
since="$(now)"
podman start "$SQLITE" >/dev/null
wait_healthy "$SQLITE" "$SQLITE_PORT" "$since"
echo "    started again in $HEALTHY_IN s"
podman stop -t 30 "$SQLITE" >/dev/null
podman run --rm -i --name "$RUN-once" -v "$RUN-restored:/app/data" --entrypoint sh "$PORTAL_IMAGE" \
  -c 'cat > /app/data/db.sqlite3' <"$WORK/backup.sqlite3"
run_sqlite_portal "$SQLITE-restored" "$RUN-restored"
echo "    the restored copy is healthy in $HEALTHY_IN s"
check_portal "$SQLITE_PORT" attempt --username "$USER1" --password="$LEARNER_PASSWORD" --attempt "$ATTEMPT1" \
  || fail "SQLite: after the restore, attempt $ATTEMPT1 of $USER1"
stop_within_limit "$SQLITE-restored"

# --- 4. Compose: PostgreSQL and Redis ---

step "Images for PostgreSQL 15 and Redis (Debian's packages)"
# Debian's package creates a cluster "main" when installed; the entrypoint makes its own.
debian_image postgres-debian "postgresql-15" \
  --customize-hook='rm -rf "$1"/var/lib/postgresql/15 "$1"/etc/postgresql/15'
podman build --quiet --pull=never --build-arg BASE_IMAGE="$IMAGE" -f deploy/ci-images/postgres.Containerfile \
  -t localhost/kube-journeys-ci-postgres:15 deploy/ci-images >"$WORK/postgres.iid" 2>"$WORK/postgres-build.log" \
  || { cat "$WORK/postgres-build.log" >&2; fail "building the PostgreSQL image"; }
debian_image redis-debian "redis-server"
podman build --quiet --pull=never --build-arg BASE_IMAGE="$IMAGE" -f deploy/ci-images/redis.Containerfile \
  -t localhost/kube-journeys-ci-redis:7 deploy/ci-images >"$WORK/redis.iid" 2>"$WORK/redis-build.log" \
  || { cat "$WORK/redis-build.log" >&2; fail "building the Redis image"; }
echo "    localhost/kube-journeys-ci-postgres:15, localhost/kube-journeys-ci-redis:7"

step "Compose: podman-compose up (portal, PostgreSQL, Redis)"
POSTGRES_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')"
export POSTGRES_PASSWORD
export REDIS_URL="redis://redis:6379/0"
export KJ_CHECK_PORTAL_IMAGE="$PORTAL_IMAGE"
export KJ_CHECK_POSTGRES_IMAGE="localhost/kube-journeys-ci-postgres:15"
export KJ_CHECK_REDIS_IMAGE="localhost/kube-journeys-ci-redis:7"
COMPOSE=("$COMPOSE_VENV/bin/podman-compose" -p "$RUN" -f docker-compose.yml -f deploy/compose.ci.yml --profile redis)
compose() { "${COMPOSE[@]}" "$@" >>"$WORK/compose.log" 2>&1 || { tail -30 "$WORK/compose.log" >&2; return 1; }; }
service_container() { podman ps -a --format '{{.Names}}' --filter "label=io.podman.compose.project=$RUN" \
  --filter "label=io.podman.compose.service=$1" | head -n 1; }

start_database() { # podman ignores depends_on's service_healthy: wait for PostgreSQL and Redis here
  local deadline=$((SECONDS + 60))
  compose up -d --no-build db redis || fail "Compose: podman-compose up db redis"
  DB="$(service_container db)"
  REDIS="$(service_container redis)"
  until "${COMPOSE[@]}" exec -T db pg_isready -q -U kube_journeys -d kube_journeys >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "Compose: PostgreSQL was not ready within 60 s"
    sleep 0.5
  done
  until [ "$(podman exec "$REDIS" redis-cli ping 2>/dev/null)" = "PONG" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "Compose: Redis did not answer within 60 s"
    sleep 0.5
  done
}
start_portal() {
  exec 8>"$CACHE/ports.lock"
  flock 8
  COMPOSE_PORT="$(free_port 18081)"
  export PORTAL_PORT="127.0.0.1:$COMPOSE_PORT"
  since="$(now)"
  compose up -d --no-build portal || fail "Compose: podman-compose up portal"
  flock -u 8
  PORTAL="$(service_container portal)"
  wait_healthy "$PORTAL" "$COMPOSE_PORT" "$since"
  COMPOSE_HEALTHY="${COMPOSE_HEALTHY:-$HEALTHY_IN}" # the first start's figure goes in the summary
  echo "    portal healthy in $COMPOSE_HEALTHY s on $PORTAL_PORT"
}
compose_down() {
  # podman-compose's down, unlike Docker Compose's, leaves each container's anonymous volumes
  # behind (the image's VOLUME /app/data): remove the containers with theirs first.
  remove_run "$RUN"
  compose down -v || fail "Compose: podman-compose down -v"
}
psql_value() { podman exec "$DB" psql -U kube_journeys -d kube_journeys -tAc "$1"; }

start_database
echo "    PostgreSQL and Redis ready"
start_portal

step "Compose: a learner's walk, recorded in PostgreSQL, cached in Redis"
USER2="learner-compose-$$"
check_portal "$COMPOSE_PORT" signup --username "$USER2" --password="$LEARNER_PASSWORD" || fail "Compose: the learner's walk (above)"
ATTEMPT2="$(sed -n 's/^attempt=//p' "$WORK/portal.out")"
attempt_query="SELECT count(*) FROM journeys_quizattempt a JOIN auth_user u ON u.id = a.user_id
  WHERE a.id = $ATTEMPT2 AND u.username = '$USER2'"
[ "$(psql_value "$attempt_query")" = "1" ] || fail "Compose: attempt $ATTEMPT2 of $USER2 is not in PostgreSQL"
echo "    ok  attempt $ATTEMPT2 of $USER2 is in PostgreSQL"
keys="$(podman exec "$REDIS" redis-cli DBSIZE)"
[ "$keys" -gt 0 ] 2>/dev/null || fail "Compose: Redis holds no keys ($keys): the portal does not use it"
echo "    ok  Redis holds $keys keys (cache, sessions)"
check_container "$PORTAL"

step "Compose: pg_dump, SIGTERM, restore into a new volume"
"${COMPOSE[@]}" exec -T db pg_dump -U kube_journeys -Fc kube_journeys >"$WORK/journeys.dump" 2>>"$WORK/compose.log" \
  || fail "Compose: pg_dump"
echo "    pg_dump while the site runs: $(du -k "$WORK/journeys.dump" | cut -f1) KiB"
stop_within_limit "$PORTAL"
COMPOSE_STOP="${STOP_SECONDS[-1]}"
compose_down
[ -z "$(run_containers "$RUN")" ] || fail "Compose: containers left after down: $(run_containers "$RUN")"
start_database
[ "$(psql_value "SELECT to_regclass('journeys_quizattempt') IS NULL")" = "t" ] \
  || fail "Compose: the database after 'down -v' is not new"
echo "    a new, empty database"
"${COMPOSE[@]}" exec -T db pg_restore -U kube_journeys -d kube_journeys --clean --if-exists --exit-on-error \
  <"$WORK/journeys.dump" >>"$WORK/compose.log" 2>&1 || { tail -20 "$WORK/compose.log" >&2; fail "Compose: pg_restore"; }
[ "$(psql_value "$attempt_query")" = "1" ] || fail "Compose: attempt $ATTEMPT2 of $USER2 is not in the restored database"
echo "    ok  restored: attempt $ATTEMPT2 of $USER2 is in PostgreSQL"
start_portal
check_portal "$COMPOSE_PORT" attempt --username "$USER2" --password="$LEARNER_PASSWORD" --attempt "$ATTEMPT2" \
  || fail "Compose: after the restore, attempt $ATTEMPT2 of $USER2"

step "Tear down"
compose_down
COMPOSE=()
remove_run "$RUN"
[ -z "$(run_containers "$RUN")" ] || fail "containers left behind: $(run_containers "$RUN")"
echo "    no containers, volumes or networks of $RUN left"
end_step

printf '\n== Image checks passed in %s s\n' "$(seconds_since "$STARTED")"
printf '%s\n' "${TIMINGS[@]}"
echo "    image: $IMAGE_MB MB; healthy in $SQLITE_HEALTHY s (SQLite), $COMPOSE_HEALTHY s (Compose);" \
  "stopped by SIGTERM in $SQLITE_STOP s (SQLite), $COMPOSE_STOP s (Compose)"
