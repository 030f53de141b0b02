# Kube Journeys: one image for a trial (SQLite) or a team (PostgreSQL, several replicas).
# Python matches what the project pins and tests on (3.11). Any base with python3 ≥ 3.11 and its
# venv module serves: deploy/check-image.sh passes one built from Debian bookworm's own packages
# (python3 3.11.2), with --build-arg BASE_IMAGE=...; both stages must use the same base, because
# the virtualenv's interpreter is a link to the base's python3.
ARG BASE_IMAGE=python:3.11.10-slim-bookworm

# --- Build stage: dependencies are installed here, so the runtime image carries no build tools. ---
FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.txt .
# The runtime virtualenv gets no pip, setuptools or wheel: a pip in a throwaway virtualenv installs
# into it from outside. `--python` must come before `install`: after it, pip ignores it silently and
# installs into its own virtualenv, which the import check below would catch. The Kubernetes client's
# asyncio twin (kubernetes.aio, about 70 MB) is removed: the portal uses only the synchronous client.
RUN python3 -m venv /opt/venv --without-pip \
    && python3 -m venv /opt/installer \
    && /opt/installer/bin/pip --python /opt/venv/bin/python install -r requirements.txt \
    && rm -rf /opt/venv/lib/python3.11/site-packages/kubernetes/aio \
    && /opt/venv/bin/python -c "import django, gunicorn, psycopg, kubernetes.client, kubernetes.config"

# --- Runtime stage ---
FROM ${BASE_IMAGE}
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    STATIC_ROOT=/app/staticfiles \
    DATABASE_URL=sqlite:////app/data/db.sqlite3 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    TMPDIR=/tmp
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --shell /usr/sbin/nologin portal
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# .dockerignore is an allowlist: only what the portal runs on reaches the image (no tests, deploy, docs).
COPY --chown=root:root . .
# Static files are collected and compressed at build time; the key is a throwaway for this step only.
RUN DEBUG=false SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost \
      python manage.py collectstatic --no-input --verbosity 0 \
    && mkdir -p /app/data \
    && chown portal:portal /app/data
USER 10001:10001
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn"]
