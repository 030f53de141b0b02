# Kube Journeys: one image for a trial (SQLite) or a team (PostgreSQL, several replicas).
# Python matches what the project pins and tests on (3.11).

# --- Build stage: dependencies are installed here, so the runtime image carries no build tools. ---
FROM python:3.11.10-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.txt .
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt

# --- Runtime stage ---
FROM python:3.11.10-slim-bookworm
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
