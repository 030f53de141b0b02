"""Slow clients against gunicorn as the container runs it: they cost sockets, never the workers.

One worker process (stricter than the container's two) with the portal's gunicorn settings. The
time limits are shortened so the test sees connections being cut off.
"""

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import suppress

import pytest
from django.conf import settings as django_settings

from tests.servers import start_gunicorn

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 3
PROBE_TIMEOUT = 5  # what a liveness probe allows
# With a CSRF cookie (any well-formed one), Django reads a form's body to find its token: a slow
# body then holds whatever is reading it.
LOGIN_FORM = b"POST /account/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
CSRF_COOKIE = b"Cookie: csrftoken=" + b"a" * 32 + b"\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("slow-clients")
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "slow-client-test-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_DIR": str(tmp_path / "cache"),
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(tmp_path / "static"),
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
        "CLIENT_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "CLIENT_BODY_TIMEOUT": str(HEADER_TIMEOUT),
        "REQUEST_BUFFER_MB": "1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    for command in (["migrate", "-v0"], ["collectstatic", "--no-input", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], env=env, cwd=django_settings.BASE_DIR, check=True)
    process, url = start_gunicorn(tmp_path, env)
    yield url
    process.terminate()
    process.wait(timeout=30)


def _address(url):
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _connect(url):
    return socket.create_connection(_address(url), timeout=PROBE_TIMEOUT)


def _answer(sock):
    """What the server sent before closing (or within the probe's time)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass
    return data


def _probe(url, path="/healthz"):
    try:
        with urllib.request.urlopen(url + path, timeout=PROBE_TIMEOUT) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        return type(error).__name__


def test_trickling_heads_and_bodies_and_idle_connections_leave_the_worker_free(server):
    heads = [_connect(server) for _ in range(64)]
    bodies = [_connect(server) for _ in range(16)]
    idle = [_connect(server) for _ in range(16)]
    for sock in heads:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    for sock in bodies:
        sock.sendall(LOGIN_FORM + CSRF_COOKIE + b"Content-Length: 20000\r\n\r\nusername=")
    stop = threading.Event()

    def trickle():
        while not stop.wait(0.5):
            for sock in heads + bodies:
                with suppress(OSError):
                    sock.send(b"X")

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        answers = [(_probe(server), _probe(server, "/no-such-page/")) for _ in range(8)]
        stop.set()
        trickler.join()
        # Four threads, 96 connections holding on: every probe was still answered, in time.
        assert answers == [(200, 404)] * 8

        time.sleep(HEADER_TIMEOUT + 1.5)
        cut_off = [_answer(sock) for sock in heads + bodies]
        assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in cut_off), {answer[:40] for answer in cut_off}
        assert [_answer(sock) for sock in idle] == [b""] * len(idle)  # closed without a word
    finally:
        stop.set()
        for sock in heads + bodies + idle:
            sock.close()


def test_a_client_that_waits_for_continue_gets_it_once_and_then_its_answer(server):
    with _connect(server) as sock:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 ") and not answer.startswith(b"HTTP/1.1 100")


def test_a_kept_alive_connection_serves_several_requests(server):
    connection = http.client.HTTPConnection(*_address(server), timeout=PROBE_TIMEOUT)
    statuses = []
    for _ in range(3):
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        statuses.append((response.status, response.getheader("Connection")))
    first_socket = connection.sock
    connection.request("GET", "/healthz")
    connection.getresponse().read()
    assert connection.sock is first_socket
    assert statuses == [(200, "keep-alive")] * 3
    connection.close()


def test_a_body_the_page_did_not_read_does_not_spoil_the_next_request_on_the_connection(server):
    # A POST without a CSRF token is refused (403) before anything reads its body; the connection
    # is kept alive.
    connection = http.client.HTTPConnection(*_address(server), timeout=PROBE_TIMEOUT)
    answers = []
    for _ in range(2):
        connection.request("POST", "/healthz", body=b"x" * 20000, headers={"Content-Type": "text/plain"})
        response = connection.getresponse()
        response.read()
        connection.request("GET", "/healthz")
        second = connection.getresponse()
        answers.append((response.status, second.status, second.read()))
    connection.close()
    assert answers == [(403, 200, b"ok\n")] * 2


def test_a_kept_alive_connection_is_closed_after_a_hundred_requests_so_clients_spread_over_the_workers(server):
    from portal.gunicorn_worker import KEEPALIVE_REQUESTS

    connection = http.client.HTTPConnection(*_address(server), timeout=PROBE_TIMEOUT)
    headers = []
    for _ in range(KEEPALIVE_REQUESTS):
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        headers.append(response.getheader("Connection"))
    connection.close()
    assert headers == ["keep-alive"] * (KEEPALIVE_REQUESTS - 1) + ["close"]


def test_a_chunked_body_is_read_by_the_worker_and_the_connection_then_closed(server):
    with _connect(server) as sock:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        sock.sendall(b"5\r\nhello\r\n0\r\n\r\n")
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 ") and b"connection: close" in answer.lower()


def test_oversized_heads_are_refused_with_431(server):
    with _connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000)
        assert _answer(sock).startswith(b"HTTP/1.1 431 ")


def test_a_body_over_the_limit_is_answered_413_and_the_rest_read_and_thrown_away(server):
    with _connect(server) as sock:
        sock.sendall(b"POST /account/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000000\r\n\r\n")
        time.sleep(0.3)  # answered by now
        # A browser sends on until it has sent everything. Were the connection closed at once, these
        # bytes would meet a reset, and some systems then throw away the answer they had received.
        for _ in range(3):
            sock.sendall(b"a" * 65536)
            time.sleep(0.1)
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:80]
    assert b"larger than the portal accepts" in answer
    assert _probe(server) == 200


def test_bodies_over_the_upload_buffer_are_refused_with_503_while_pages_still_load(server):
    holding = _connect(server)
    holding.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 800000\r\n\r\n")
    time.sleep(0.3)
    try:
        with _connect(server) as sock:
            sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 800000\r\n\r\n")
            refused = _answer(sock)
        assert refused.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 5" in refused
        assert _probe(server) == 200
    finally:
        holding.close()
    time.sleep(0.3)  # the budget is given back when the holding connection goes
    with _connect(server) as sock:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 800000\r\n\r\n" + b"a" * 800_000)
        assert not _answer(sock).startswith(b"HTTP/1.1 503 ")
