"""Hostile pastes against gunicorn with production settings: refused, while the replica keeps answering.

Before the reader bounded its work, a 56 kB paste of nested brackets killed a worker and two at
once left the replica (its /healthz included) silent for half a minute. Here several such pastes
arrive at once from visitors without cookies while a probe keeps asking /healthz.
"""

import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command

from tests.test_replicas import start_portal

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
MiB = 1024 * 1024
HOSTILE = {
    "nested 56 kB": "spec: " + "[" * 28_000 + "]" * 28_000,
    "nested 200 kB": "spec: " + "[" * 100_000 + "]" * 100_000,
    "nested 1 MiB": "spec: " + "[" * (MiB - 16),
    "block nesting 1 MiB": "- " * (MiB // 2 - 8) + "x",
    "tiny objects 1 MiB": "---\nkind: ConfigMap\nmetadata: {name: c}\n" * (MiB // 38),
}


@pytest.fixture
def portal(tmp_path):
    call_command("load_journeys", verbosity=0)
    yield from start_portal(tmp_path, processes=1, workers=2, redis=False)


def multipart(fields):
    """A form body as a browser sends this one (multipart: the lab form may carry a file)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def paste_as_a_new_visitor(base, text):
    """GET the lesson (a fresh session, no cookies before), then POST the paste as htmx does."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    lesson = f"{base}/journeys/intermediate-app-developer/namespaces-quotas-requests/"
    with opener.open(lesson, timeout=30) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body, content_type = multipart({"csrfmiddlewaretoken": token, "mode": "file", "paste": text})
    request = urllib.request.Request(
        f"{base}/labs/team-quota/check/",
        data=body,
        headers={"Content-Type": content_type, "HX-Request": "true", "Referer": lesson},
    )
    started = time.monotonic()
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, time.monotonic() - started


def test_hostile_pastes_are_refused_and_healthz_keeps_answering(portal, tmp_path):
    (base,) = portal
    probes, stop = [], threading.Event()

    def probe():
        while not stop.is_set():
            started = time.monotonic()
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    probes.append((response.status, time.monotonic() - started))
            except OSError as error:
                probes.append((repr(error), time.monotonic() - started))
            time.sleep(0.2)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        with ThreadPoolExecutor(max_workers=len(HOSTILE)) as pool:
            answers = dict(
                zip(HOSTILE, pool.map(lambda text: paste_as_a_new_visitor(base, text), HOSTILE.values()), strict=True)
            )
    finally:
        stop.set()
        prober.join()
    assert {name: status for name, (status, _) in answers.items()} == {
        "nested 56 kB": 400,
        "nested 200 kB": 400,
        "nested 1 MiB": 400,
        "block nesting 1 MiB": 400,
        "tiny objects 1 MiB": 413,
    }
    failed_probes = [probe for probe in probes if probe[0] != 200]
    assert probes and not failed_probes
    log = (tmp_path / "gunicorn-0.log").read_text()
    assert "WORKER TIMEOUT" not in log and "signal" not in log.lower() and "Traceback" not in log
