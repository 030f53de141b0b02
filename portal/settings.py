"""Kube Journeys settings: one module, every deployment-specific value read from the environment.

The defaults are safe for a developer's laptop (`make run`): DEBUG on, SQLite next to the code.
A production deployment sets DEBUG=false and must then provide SECRET_KEY and ALLOWED_HOSTS.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url

from portal.env import env_bool, env_float, env_int, env_json, env_list, limit_entries, quantities

BASE_DIR = Path(__file__).resolve().parent.parent


# --- Core ---
DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A plain message and exit code, not a traceback: this is an operator's setup step.
        raise SystemExit(
            "Kube Journeys will not start: SECRET_KEY is not set. With DEBUG off the portal needs a long "
            "random SECRET_KEY in its environment; generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Only for local development: sessions signed with it are worthless anywhere else.
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "journeys.apps.JourneysConfig",
]

MIDDLEWARE = [
    # First, so every log line of the request (and the access log) carries its id.
    "portal.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # WhiteNoise sits right after SecurityMiddleware so static files skip the rest of the stack.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside every middleware that reads the database (sessions, users, messages), so a database
    # outage in any of them or in a view answers 503 with Retry-After, with the security headers.
    "portal.resilience.DatabaseOutageMiddleware",
    # Text the database cannot store (NUL) is answered 400 wherever it reached a query.
    "portal.unstorable.UnstorableTextMiddleware",
    # Django's, but a session that cannot be saved during a database outage is a 503, not a 400.
    "portal.resilience.OutageAwareSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: it turns a sign-in refused by the limits into the "wait" page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---
# DATABASE_URL selects the database (postgres://user:pass@host:5432/name); without it a SQLite
# file next to the code keeps `make run` dependency-free.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Passwords ---
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Metrics ---
# /metrics is served to requests with METRICS_TOKEN as a bearer token, or straight (no proxy
# header) from these networks: loopback and the private ranges cluster Pods use.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = os.environ.get(
    "METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7"
)

# --- Quizzes ---
# How long a quiz form may stay open before its submission is refused as out of date.
QUIZ_FORM_MAX_AGE = env_int("QUIZ_FORM_MAX_AGE", 24 * 3600)

# --- Curriculum ---
# Where `load_journeys` reads the curriculum files from when no directory is given.
JOURNEYS_CONTENT_DIR = Path(os.environ.get("JOURNEYS_CONTENT_DIR", BASE_DIR / "journeys" / "content"))

# --- Logging ---
# JSON lines on stdout (one object per event, with the request id) unless LOG_FORMAT=text.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "portal.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT if LOG_FORMAT in {"json", "text"} else "json",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Requests are logged once, by portal.access; Django's own 4xx warnings would repeat them.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}

# --- Cache, sessions and rate limits ---
# With REDIS_URL every replica shares the cache, the sessions and the lab-check rate limit;
# without it the processes of one replica share a cache in files (wrong for several replicas).
# The cache only saves work, so an outage of Redis must not fail a page (portal/resilience.py):
# a failed read is a miss, a failed write is skipped, and after a failure a process leaves Redis
# alone for CACHE_RETRY_SECONDS. The socket timeouts bound what a hung Redis costs a request; a
# Redis in the same cluster answers in a millisecond or two, so a quarter of a second is plenty.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_SOCKET_TIMEOUT = env_float("CACHE_SOCKET_TIMEOUT", 0.25, minimum=0.01, maximum=60)
CACHE_SOCKET_CONNECT_TIMEOUT = env_float("CACHE_SOCKET_CONNECT_TIMEOUT", 0.25, minimum=0.01, maximum=60)
CACHE_RETRY_SECONDS = env_float("CACHE_RETRY_SECONDS", 5, minimum=0, maximum=3600)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.resilience.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": CACHE_SOCKET_CONNECT_TIMEOUT,
                "SOCKET_TIMEOUT": CACHE_SOCKET_TIMEOUT,
            },
            "KEY_PREFIX": "kj",
        }
    }
    # The database keeps every session; the cache only spares reading it. A session read that
    # misses the cache (or finds it down) reads the database.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
elif DEBUG:
    # The development server is one process: a cache in its memory is shared by every request.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kube-journeys"}}
else:
    # gunicorn runs several worker processes: they share a cache in files, so an edit or a learner's
    # progress made through one worker is seen by the others (a cache per process would not be).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("CACHE_DIR") or str(Path(tempfile.gettempdir()) / "kube-journeys-cache"),
            "OPTIONS": {"MAX_ENTRIES": 1000},
        }
    }
# When the database cannot be reached pages answer 503 with this Retry-After, in seconds.
DATABASE_RETRY_AFTER = env_int("DATABASE_RETRY_AFTER", 10)

# --- Security ---
# Behind a TLS-terminating proxy (Ingress), trust its X-Forwarded-Proto to know the request was HTTPS.
if env_bool("TRUST_X_FORWARDED_PROTO", not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies of the operator's own stand in front of the portal, each adding the address it
# saw to X-Forwarded-For. 0: the header is ignored (anyone can write it) and limits per address use
# the socket's peer. Behind a single Ingress controller: 1.
TRUSTED_PROXY_HOPS = max(0, env_int("TRUSTED_PROXY_HOPS", 0))
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes and metrics scrapers talk plain HTTP to the Pod; redirecting them would fail every probe.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# htmx sends the token from the page (hx-headers), so no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A form from a page whose session has ended is answered with "reload the page", in place for htmx.
CSRF_FAILURE_VIEW = "journeys.pages.views.csrf_failure"

# Scripts only from this site: no inline script, no eval. htmx is configured in a meta tag and
# served by the app; styles allow inline attributes because Django admin's widgets use them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Accounts ---
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "journeys:dashboard"
LOGOUT_REDIRECT_URL = "journeys:home"

# --- E-mail ---
# Password-reset mails go to the console unless an SMTP server is configured.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Kube Journeys <noreply@localhost>")

# --- Sign-in limits ---
# Failed sign-ins (the site's login and admin's) are counted per account and address, and per address
# alone; when either count reaches its limit, signing in from that address to that account (or to
# any account) is refused with 429, the right password included, until SIGNIN_COOLOFF_MINUTES have
# passed since the last counted failure. A successful sign-in forgets that account's count.
# Addresses are journeys.client_address's (X-Forwarded-For only as far as TRUSTED_PROXY_HOPS says).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
SIGNIN_ACCOUNT_FAILURE_LIMIT = max(1, env_int("SIGNIN_ACCOUNT_FAILURE_LIMIT", 5))
SIGNIN_ADDRESS_FAILURE_LIMIT = max(1, env_int("SIGNIN_ADDRESS_FAILURE_LIMIT", 20))
SIGNIN_COOLOFF_MINUTES = max(1, env_int("SIGNIN_COOLOFF_MINUTES", 15))
AXES_FAILURE_LIMIT = SIGNIN_ACCOUNT_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=SIGNIN_COOLOFF_MINUTES)
AXES_RESET_ON_SUCCESS = True
# Refused attempts during a pause are not counted, so the wait a learner is shown is the wait left.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "journeys.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "journeys.accounts.views.signin_paused"
# No record of every successful sign-in: the portal does not need one, and it is personal data.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# With Redis every replica shares the counts; a Redis outage moves the counting to the database
# (journeys.accounts.signin_limits.CacheSignInLimits). Without Redis the counts live in the database: the
# cache in files or memory is not shared safely enough for them.
AXES_CACHE = "default"
AXES_HANDLER = "journeys.accounts.signin_limits." + ("CacheSignInLimits" if REDIS_URL else "DatabaseSignInLimits")
# Password-reset requests per hour, per client address and per recipient address. Beyond either,
# the usual "check your mail" page is shown and nothing is sent.
PASSWORD_RESETS_PER_HOUR_PER_ADDRESS = env_int("PASSWORD_RESETS_PER_HOUR_PER_ADDRESS", 5)
PASSWORD_RESETS_PER_HOUR_PER_RECIPIENT = env_int("PASSWORD_RESETS_PER_HOUR_PER_RECIPIENT", 3)
# The console backend prints whole mails, reset links included, into the log. In production without a
# mail server the mail is only announced (subject, no text); the console stays for development.
if not EMAIL_HOST and not DEBUG and not os.environ.get("EMAIL_BACKEND"):
    EMAIL_BACKEND = "journeys.accounts.mail.UnsentMailBackend"

# --- Sandbox validation ---
# The cluster the portal reads learners' namespaces from. Without a kubeconfig or in-cluster
# credentials, learners check their labs by pasting `kubectl get -o yaml` output instead.
SANDBOX_KUBECONFIG = os.environ.get("SANDBOX_KUBECONFIG", "")
SANDBOX_CONTEXT = os.environ.get("SANDBOX_CONTEXT", "")
SANDBOX_IN_CLUSTER = env_bool("SANDBOX_IN_CLUSTER", False)
# e.g. "learn-{username}"; an admin's per-learner assignment takes precedence.
SANDBOX_NAMESPACE_TEMPLATE = os.environ.get("SANDBOX_NAMESPACE_TEMPLATE", "")
SANDBOX_CONNECT_TIMEOUT = env_float("SANDBOX_CONNECT_TIMEOUT", 5, minimum=0.1, maximum=300)
SANDBOX_READ_TIMEOUT = env_float("SANDBOX_READ_TIMEOUT", 5, minimum=0.1, maximum=300)
# Check runs per learner per minute; more get 429 with the time to wait.
SANDBOX_RUNS_PER_MINUTE = env_int("SANDBOX_RUNS_PER_MINUTE", 6)
# Pasted or uploaded checks per client address per minute, refused ones included: a client that
# drops its cookies is a new anonymous learner every time, but it keeps its address.
SANDBOX_PASTES_PER_MINUTE_PER_ADDRESS = env_int("SANDBOX_PASTES_PER_MINUTE_PER_ADDRESS", 30)
# Lab checks one worker process runs at once (journeys/sandbox/gate.py), and how long a check waits
# for its turn before the learner is asked to send it again.
SANDBOX_CHECKS_PER_WORKER = env_int("SANDBOX_CHECKS_PER_WORKER", 1)
SANDBOX_CHECK_WAIT = env_float("SANDBOX_CHECK_WAIT", 10, minimum=0, maximum=600)

# --- Sandbox provisioning (off by default) ---
# When on, the portal creates each learner's namespace (named by SANDBOX_NAMESPACE_TEMPLATE) with a
# guard ResourceQuota and LimitRange, and hands out short-lived tokens for it. It uses its own identity,
# separate from the read-only one above: deploy/rbac/sandbox-provisioner.yaml lists what it may do.
SANDBOX_PROVISIONING = env_bool("SANDBOX_PROVISIONING", False)
SANDBOX_PROVISIONER_KUBECONFIG = os.environ.get("SANDBOX_PROVISIONER_KUBECONFIG", "")
SANDBOX_PROVISIONER_CONTEXT = os.environ.get("SANDBOX_PROVISIONER_CONTEXT", "")
SANDBOX_PROVISIONER_IN_CLUSTER = env_bool("SANDBOX_PROVISIONER_IN_CLUSTER", False)
# The API server address written into learners' kubeconfigs, when it differs from the one the portal
# uses (in a cluster the portal talks to kubernetes.default.svc, which learners cannot reach).
SANDBOX_LEARNER_SERVER = os.environ.get("SANDBOX_LEARNER_SERVER", "")
SANDBOX_LEARNER_CLUSTER_ROLE = os.environ.get("SANDBOX_LEARNER_CLUSTER_ROLE", "kube-journeys-learner")
SANDBOX_TOKEN_SECONDS = env_int("SANDBOX_TOKEN_SECONDS", 8 * 3600, minimum=600, maximum=2**32)
# Pod Security Standard enforced in sandboxes (privileged, baseline or restricted); "restricted" is
# always warned about, so learners see what a hardened cluster would refuse.
SANDBOX_POD_SECURITY = os.environ.get("SANDBOX_POD_SECURITY", "baseline")
# The guard ResourceQuota's spec.hard, and the guard LimitRange's Container entry, as JSON. The
# guard is larger than the team-quota lab's own quota, so the lab's quota is the one learners feel.
SANDBOX_QUOTA = env_json(
    "SANDBOX_QUOTA",
    '{"requests.cpu": "4", "requests.memory": "8Gi", "limits.cpu": "8", "limits.memory": "16Gi", "pods": "40",'
    ' "persistentvolumeclaims": "5", "requests.storage": "10Gi", "services.loadbalancers": "0",'
    ' "services.nodeports": "0"}',
    shape=quantities,
)
SANDBOX_LIMITS = env_json(
    "SANDBOX_LIMITS",
    '{"default": {"cpu": "500m", "memory": "256Mi"}, "defaultRequest": {"cpu": "100m", "memory": "128Mi"},'
    ' "max": {"cpu": "2", "memory": "4Gi"}}',
    shape=limit_entries,
)
# How long a reset waits for the old namespace to go before answering "still being removed".
SANDBOX_RESET_WAIT = env_float("SANDBOX_RESET_WAIT", 3, minimum=0, maximum=600)
# Days without use after which `manage.py expire_sandboxes` removes a sandbox; 0 keeps them.
SANDBOX_EXPIRE_DAYS = env_int("SANDBOX_EXPIRE_DAYS", 0, minimum=0, maximum=36500)
# Per learner and minute: creates and resets (each one rebuilds a namespace), and tokens handed out.
SANDBOX_CHANGES_PER_MINUTE = env_int("SANDBOX_CHANGES_PER_MINUTE", 3)
SANDBOX_TOKENS_PER_MINUTE = env_int("SANDBOX_TOKENS_PER_MINUTE", 6)
