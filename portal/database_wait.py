"""Wait for the database before the container starts the portal, and say plainly what is wrong.

The container entrypoint runs ``python -m portal.database_wait``. Some failures go away by
themselves while a database starts next to the portal (connection refused, a host name that does
not resolve yet, "the database system is starting up"): those are retried until
``DATABASE_WAIT_SECONDS`` (default 60) have passed. Others never will (a malformed
``DATABASE_URL``, an SQLite directory that is missing or not writable, a database or user that does
not exist, a wrong password): those end the wait at once. Either way the process exits 1 with one
paragraph that names the database (never its password), quotes the database's own error and says
what to do; exit 0 means the database answered a query.
"""

import os
import re
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

DEFAULT_WAIT_SECONDS = 60
EXAMPLES = "postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:////app/data/db.sqlite3"

# PostgreSQL and network errors that waiting can cure: the server or its name is not there *yet*.
# Matched against the error text (libpq reports connection-time failures without an SQLSTATE).
TRANSIENT_MARKERS = (
    "connection refused",
    "could not translate host name",
    "name or service not known",
    "temporary failure in name resolution",
    "no address associated with hostname",
    "nodename nor servname",
    "no route to host",
    "network is unreachable",
    "timeout expired",
    "timed out",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "too many connections",
    "remaining connection slots are reserved",
    "server closed the connection unexpectedly",
    "connection reset",
)


class StartupError(Exception):
    """A failure that waiting cannot fix; the message is the whole paragraph for the operator."""


@dataclass
class Target:
    """The database as the operator named it, with the password kept only for redaction."""

    shown: str  # the URL without its password, safe to print
    secrets: tuple[str, ...]


def wait_seconds(environ) -> float:
    raw = environ.get("DATABASE_WAIT_SECONDS", "").strip()
    if not raw:
        return DEFAULT_WAIT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 86400:
        raise StartupError(
            f"DATABASE_WAIT_SECONDS is {raw!r}; it must be a number of seconds between 0 and 86400 "
            f"(default {DEFAULT_WAIT_SECONDS})."
        )
    return value


def describe_url(url: str) -> Target:
    """The URL to print (password replaced by ***) and the strings that must never be printed."""
    secrets = []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        parts, password = None, None
    if password:
        secrets += [password, unquote(password), quote(unquote(password), safe="")]
    if parts is None or not parts.scheme:
        return Target("(not shown: it is not a URL)", tuple(secrets))
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    try:
        if parts.port is not None:
            netloc += f":{parts.port}"
    except ValueError:
        netloc += ":(bad port)"
    if parts.username:
        netloc = f"{parts.username}{':***' if password is not None else ''}@{netloc}"
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    return Target(shown, tuple(secret for secret in secrets if secret))


def redact(text: str, secrets) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
        else:  # a very short password is hidden where it stands alone, not inside every word
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    return text


def check_url(url: str, target: Target) -> None:
    """Refuse what dj-database-url (and so the settings) cannot turn into a database."""
    import dj_database_url

    if not url.strip():
        raise StartupError(f"DATABASE_URL is set but empty. Set it to a database URL such as {EXAMPLES}.")
    if "://" not in url:
        raise StartupError(f"DATABASE_URL is not a URL (it has no scheme such as postgres://). Use {EXAMPLES}.")
    try:
        config = dj_database_url.parse(url)
    except dj_database_url.UnknownSchemeError:
        scheme = url.split("://", 1)[0]
        raise StartupError(
            f"DATABASE_URL starts with {scheme}://, a kind of database the portal does not know. "
            f"Use PostgreSQL or SQLite: {EXAMPLES}."
        ) from None
    except (dj_database_url.ParseError, ValueError) as exc:
        raise StartupError(
            f"DATABASE_URL ({target.shown}) cannot be read: {redact(str(exc), target.secrets)} "
            f"Percent-encode special characters in the user name and password (@ is %40, / is %2F, : is %3A) "
            f"and give the port as a number from 1 to 65535; the URL should look like {EXAMPLES}."
        ) from None
    engine = config.get("ENGINE", "")
    name = str(config.get("NAME") or "")
    if engine not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise StartupError(
            f"DATABASE_URL ({target.shown}) names a database the portal is not built for ({engine}). "
            f"Use PostgreSQL or SQLite: {EXAMPLES}."
        )
    if engine.endswith("sqlite3") and name in ("", ":memory:"):
        raise StartupError(
            f"DATABASE_URL ({target.shown}) names an in-memory SQLite database, which would be empty at every "
            "start and is not shared between workers. Name a file on a volume, e.g. sqlite:////app/data/db.sqlite3."
        )
    if not engine.endswith("sqlite3") and not name:
        raise StartupError(
            f"DATABASE_URL ({target.shown}) names no database (the part after the last /). "
            f"It should look like {EXAMPLES}."
        )


def check_sqlite_path(name: str) -> None:
    """SQLite needs the file's directory to exist and be writable (it writes a journal beside the file)."""
    path = Path(name)
    if not path.is_absolute():
        path = Path.cwd() / path
    uid = os.getuid()
    image_user = "" if uid == 10001 else " (the image runs as uid 10001)"
    fix = (
        f"Mount a volume there that uid {uid} can write{image_user}, e.g. docker run -v kube-journeys-data:/app/data, "
        "or set DATABASE_URL to another path or to PostgreSQL."
    )
    if path.is_dir():
        raise StartupError(
            f"The SQLite database {path} is a directory, not a file. Name a file inside it in DATABASE_URL, "
            f"e.g. sqlite:///{path / 'db.sqlite3'}."
        )
    directory = path.parent
    if not directory.exists():
        missing = directory
        while not missing.parent.exists():
            missing = missing.parent
        gap = f" ({missing} is missing)" if missing != directory else ""
        raise StartupError(
            f"The SQLite database {path} cannot be created: the directory {directory} does not exist{gap}. {fix}"
        )
    if not directory.is_dir():
        raise StartupError(f"The SQLite database {path} cannot be created: {directory} is not a directory. {fix}")
    if not os.access(directory, os.W_OK | os.X_OK):
        try:
            read_only = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        info = directory.stat()
        why = (
            "it is on a read-only filesystem"
            if read_only
            else f"it is owned by uid {info.st_uid} with mode {stat.filemode(info.st_mode)}"
        )
        raise StartupError(
            f"The SQLite database {path} cannot be written: the directory {directory} is not writable by uid "
            f"{uid} ({why}). {fix}"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StartupError(
            f"The SQLite database {path} exists but uid {uid} cannot read and write it "
            f"(owned by uid {path.stat().st_uid}, mode {stat.filemode(path.stat().st_mode)}). {fix}"
        )


def sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else f"{text}."


def is_transient(message: str) -> bool:
    lowered = message.lower()
    return any(marker in lowered for marker in TRANSIENT_MARKERS)


def first_lines(text: str, limit: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:limit]) or "(no message)"


def wait_for_database(environ, *, out=sys.stderr, sleep=time.sleep, clock=time.monotonic) -> None:
    """Return once the database answers a query; raise StartupError otherwise."""
    limit = wait_seconds(environ)
    url = environ.get("DATABASE_URL")
    target = describe_url(url) if url is not None else Target("(the default SQLite file)", ())
    if url is not None:
        check_url(url, target)

    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise StartupError(f"The portal's settings are incomplete: {redact(str(exc), target.secrets)}") from None

    from django.db import connection

    settings_dict = connection.settings_dict
    vendor = connection.vendor
    if vendor == "sqlite":
        check_sqlite_path(str(settings_dict["NAME"]))
        target = Target(f"sqlite:///{settings_dict['NAME']}", target.secrets)
    secrets = target.secrets + ((str(settings_dict["PASSWORD"]),) if settings_dict.get("PASSWORD") else ())

    started = clock()
    deadline = started + limit
    last_said, next_report = None, started + 10
    while True:
        if vendor == "postgresql":
            # One attempt never outlasts the limit, even against a host that drops packets.
            settings_dict.setdefault("OPTIONS", {})["connect_timeout"] = max(1, min(10, int(deadline - clock())))
        try:
            # Listing the tables reads the database itself (SELECT 1 would pass on an SQLite file
            # that is not a database at all).
            with connection.cursor() as cursor:
                connection.introspection.table_names(cursor)
            return
        except Exception as exc:  # noqa: BLE001 - every driver error is reported, none is a traceback
            message = redact(first_lines(str(exc)), secrets)
            error = f"{type(exc).__name__}: {message}".rstrip(".")
        finally:
            connection.close()
        if vendor == "sqlite" or not is_transient(message):
            raise StartupError(cannot_fix_message(vendor, target, error))
        now = clock()
        if now >= deadline:
            raise StartupError(
                f"The database at {target.shown} did not answer within {limit:g} second{'' if limit == 1 else 's'}. "
                f"Its last error was: "
                f"{sentence(error)} Check that the database server is running and reachable from here, and that "
                f"DATABASE_URL names the right host and port; DATABASE_WAIT_SECONDS (now {limit:g}) sets how "
                "long to wait."
            )
        # A line when the error changes and one every 10 s, not one per attempt.
        if error != last_said:
            print(f"Waiting for the database at {target.shown} ({error})", file=out, flush=True)
            last_said = error
        elif now >= next_report:
            print(f"Still waiting for the database ({now - started:.0f} of {limit:g} s)", file=out, flush=True)
            next_report = now + 10
        sleep(min(1.0, max(0.0, deadline - now)))


def cannot_fix_message(vendor: str, target: Target, error: str) -> str:
    lowered = error.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        advice = "The user name or password in DATABASE_URL is wrong for this server."
    elif "does not exist" in lowered and "database" in lowered:
        advice = "The database named in DATABASE_URL does not exist on this server: create it, or fix the name."
    elif "does not exist" in lowered and "role" in lowered:
        advice = "The user named in DATABASE_URL does not exist on this server: create it, or fix the name."
    elif "pg_hba.conf" in lowered:
        advice = "The server refuses this client, user or database in its pg_hba.conf."
    elif vendor == "sqlite":
        advice = "Check that DATABASE_URL names an SQLite database file that this container can read and write."
    else:
        advice = "Waiting will not change this; fix DATABASE_URL or the database server."
    return f"The database at {target.shown} refused the portal: {sentence(error)} {advice} The portal was not started."


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    try:
        wait_for_database(os.environ)
    except StartupError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
