"""The container entrypoint (docker/entrypoint.sh, run with sh as the image runs it) says what is wrong
and exits non-zero: at once for what waiting cannot fix, after DATABASE_WAIT_SECONDS for a database
that does not answer. It never prints the password from DATABASE_URL."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from portal.database_wait import describe_url, redact
from tests.servers import free_port

ROOT = Path(settings.BASE_DIR)
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
PASSWORD = "pw-Never-Shown-7c1f"  # the string the output must never contain


def entrypoint(tmp_path, *, drop_write_rights=False, command=("echo", "portal started"), **env):
    """Run the entrypoint as the image does (sh, from the code's directory) with only the given
    environment; returns (exit code, stdout + stderr, seconds)."""
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    argv = ["sh", str(ENTRYPOINT), *command]
    if drop_write_rights and os.geteuid() == 0:
        # Root writes through any mode bits; without these capabilities it is held to them like anyone.
        argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *argv]
    started = time.monotonic()
    result = subprocess.run(
        argv, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def postgres_reachable():
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


needs_setpriv = pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None, reason="as root, setpriv is needed to drop write rights"
)


@needs_setpriv
def test_unwritable_sqlite_directory_names_the_path_and_the_uid(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    try:
        code, output, seconds = entrypoint(
            tmp_path, drop_write_rights=True, DATABASE_URL=f"sqlite:///{data}/db.sqlite3"
        )
    finally:
        data.chmod(0o755)
    assert code == 1, output
    assert f"the directory {data} is not writable by uid {os.getuid()}" in output
    assert "Mount a volume there that uid" in output and "10001" in output
    assert "Waiting for the database" not in output and "portal started" not in output
    assert seconds < 30


def test_missing_sqlite_directory(tmp_path):
    code, output, _ = entrypoint(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/absent/data/db.sqlite3")
    assert code == 1, output
    assert f"the directory {tmp_path}/absent/data does not exist ({tmp_path}/absent is missing)" in output
    assert "Waiting for the database" not in output


def test_sqlite_path_that_is_a_directory(tmp_path):
    code, output, _ = entrypoint(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}")
    assert code == 1, output
    assert f"The SQLite database {tmp_path} is a directory, not a file" in output


def test_a_file_that_is_not_an_sqlite_database(tmp_path):
    (tmp_path / "db.sqlite3").write_text("not a database\n" * 100)
    code, output, _ = entrypoint(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    assert code == 1, output
    assert "DatabaseError: file is not a database" in output


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "DATABASE_URL is set but empty"),
        ("nonsense", "DATABASE_URL is not a URL"),
        ("foo://bar/db", "DATABASE_URL starts with foo://, a kind of database the portal does not know"),
        ("postgres://", "names no database"),
        ("sqlite://", "names an in-memory SQLite database"),
        (f"postgres://kj:{PASSWORD}@db:notaport/kj", "cannot be read"),
        (f"mysql://kj:{PASSWORD}@db/kj", "names a database the portal is not built for"),
    ],
    ids=["empty", "no-scheme", "unknown-scheme", "no-name", "in-memory", "bad-port", "mysql"],
)
def test_malformed_database_url_fails_at_once(tmp_path, url, expected):
    code, output, seconds = entrypoint(tmp_path, DATABASE_URL=url)
    assert code == 1, output
    assert expected in output
    assert "Traceback" not in output and "Waiting" not in output
    assert PASSWORD not in output
    assert seconds < 30


@pytest.mark.skipif(not postgres_reachable() and not os.environ.get("CI"), reason="no PostgreSQL on 127.0.0.1:5432")
def test_nonexistent_postgresql_database_fails_fast(tmp_path):
    url = f"postgres://postgres:{PASSWORD}@127.0.0.1:5432/kj_floor_no_such_database"
    code, output, seconds = entrypoint(tmp_path, DATABASE_URL=url)
    assert code == 1, output
    assert 'database "kj_floor_no_such_database" does not exist' in output
    assert "The database named in DATABASE_URL does not exist on this server" in output
    assert "postgres://postgres:***@127.0.0.1:5432/kj_floor_no_such_database" in output
    assert "Waiting for the database" not in output
    assert PASSWORD not in output
    assert seconds < 30  # not the 60 s of waiting


def test_refused_port_is_waited_for_then_given_up(tmp_path):
    port = free_port()  # nobody listens here: every attempt is refused
    url = f"postgres://kj:{PASSWORD}@127.0.0.1:{port}/kj"
    code, output, seconds = entrypoint(tmp_path, DATABASE_URL=url, DATABASE_WAIT_SECONDS="2")
    assert code == 1, output
    assert f"Waiting for the database at postgres://kj:***@127.0.0.1:{port}/kj" in output
    assert "did not answer within 2 seconds" in output
    assert "Connection refused" in output
    assert "DATABASE_WAIT_SECONDS (now 2)" in output
    assert output.count("Waiting for the database") == 1  # one line per distinct error, not per attempt
    assert PASSWORD not in output
    assert 2 <= seconds < 30


def test_wait_limit_must_be_a_number(tmp_path):
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    code, output, _ = entrypoint(tmp_path, DATABASE_URL=url, DATABASE_WAIT_SECONDS="soon")
    assert code == 1, output
    assert "DATABASE_WAIT_SECONDS is 'soon'" in output


def test_a_reachable_database_starts_the_command(tmp_path):
    code, output, _ = entrypoint(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        MIGRATE_ON_START="false",
        LOAD_CURRICULUM_ON_START="false",
    )
    assert code == 0, output
    assert output.strip().endswith("portal started")


def test_failed_migrations_stop_the_start(tmp_path):
    (tmp_path / "db.sqlite3").write_text("not a database\n" * 100)
    code, output, _ = entrypoint(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3", DATABASE_WAIT="false")
    assert code == 1, output
    assert "Cannot start: the database migrations failed (the error is above)" in output
    assert "portal started" not in output


@pytest.mark.slow
def test_failed_curriculum_load_stops_the_start(tmp_path):
    content = tmp_path / "content"
    (content / "broken").mkdir(parents=True)
    (content / "broken" / "journey.yaml").write_text("title: [unclosed\n")
    code, output, _ = entrypoint(
        tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3", JOURNEYS_CONTENT_DIR=str(content)
    )
    assert code == 1, output
    assert "Cannot start: loading the curriculum failed" in output
    assert "journey.yaml" in output
    assert "portal started" not in output


@pytest.mark.parametrize(
    "password",
    [PASSWORD, "p@ss:w/rd", "100%pure", "white space"],
    ids=["plain", "reserved", "percent", "space"],
)
def test_printed_url_never_carries_the_password(password):
    from urllib.parse import quote

    url = f"postgres://kj:{quote(password, safe='')}@db.example.com:5432/kj"
    target = describe_url(url)
    assert target.shown == "postgres://kj:***@db.example.com:5432/kj"
    leaked = f"error for {url} with {password} and {quote(password, safe='')}"
    assert password not in redact(leaked, target.secrets)
    assert quote(password, safe="") not in redact(leaked, target.secrets)


def test_a_short_password_is_hidden_without_garbling_the_message():
    target = describe_url("postgres://kj:p@127.0.0.1:1/kj")
    assert (
        redact('at "127.0.0.1", port 1 failed: password p', target.secrets)
        == 'at "127.0.0.1", port 1 failed: password ***'
    )
