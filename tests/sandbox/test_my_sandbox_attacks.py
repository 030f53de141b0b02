"""A hostile or clumsy learner (and admin) against "Your sandbox" and the cohort actions.

Each test is one attack, and passes when the defence holds. Nine defects these attacks found were fixed
with them (a 500 when a sandbox was deleted during a create, reset or kubeconfig; admin actions open to
read-only staff; non-Latin usernames without a sandbox; unlimited asks while a namespace terminated;
answers of the wrong shape; tampered admin selections; encoded ways back; a 405 that told a portal
without sandboxes what exists).
"""

import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import pytest
import urllib3
import yaml
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from journeys.models import LabRun, ProvisioningEvent, Sandbox
from journeys.sandbox import sandboxes
from journeys.sandbox.assignments import template_namespace
from journeys.sandbox.mine import WAITS_PER_MINUTE
from journeys.sandbox.provisioning import namespace_problem
from tests import factories
from tests.sandbox.provisioning_support import PROVISIONER_TOKEN, enable_provisioning

pytest_plugins = ["tests.k8s_emulator"]

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("journeys:dashboard")
PAGE = reverse("journeys:my_sandbox")
CREATE = reverse("journeys:sandbox_create")
RESET = reverse("journeys:sandbox_reset")
DELETE = reverse("journeys:sandbox_delete")
KUBECONFIG = reverse("journeys:sandbox_kubeconfig")
COMMANDS = reverse("journeys:sandbox_commands")
GROUPS = reverse("admin:auth_group_changelist")
SANDBOXES = reverse("admin:journeys_sandbox_changelist")

POSTS = (CREATE, RESET, DELETE)
GETS = (PAGE, KUBECONFIG, COMMANDS)
METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
# The emulator's tokens start with this; no page, log line, row or cache entry may hold one.
TOKEN_MARK = "emulated."
HYPOTHESIS = hypothesis_settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def cluster(kube_emulator, tmp_path, settings):
    settings.SANDBOX_RESET_WAIT = 0.3
    # Roomy, so a busy machine never turns a slowed step into a timeout; the timeout tests set their own.
    settings.SANDBOX_CONNECT_TIMEOUT = 3
    settings.SANDBOX_READ_TIMEOUT = 3
    return enable_provisioning(kube_emulator, tmp_path, settings)


@pytest.fixture
def ada(client):
    user = factories.UserFactory(username="ada")
    client.force_login(user)
    return user


def make_sandbox(client):
    response = client.post(CREATE, {"next": DASHBOARD})
    assert response.status_code == 302, response.content[:500]
    return Sandbox.objects.get(user=response.wsgi_request.user)


def assert_sane(response):
    """Never a server error or a traceback: a refusal is a 4xx, or a 503 the learner can wait out."""
    assert response.status_code < 500 or response.status_code == 503, response.status_code
    body = response.content.decode(errors="replace")
    assert "Traceback" not in body and "Internal Server Error" not in body
    assert "Server Error (500)" not in body
    return body


def call(client, method, url, data=None, **extra):
    if method in ("get", "post", "head"):
        return getattr(client, method)(url, data or {}, **extra)
    return getattr(client, method)(url, **extra)


def allowed_method(url):
    return "post" if url in POSTS else "get"


WRONG_METHODS = [(url, method) for url in POSTS + GETS for method in METHODS if method != allowed_method(url)]


# --- methods, signed in or not -------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("url", POSTS + GETS)
def test_every_method_anonymous_is_refused_without_a_sandbox(cluster, client, url, method):
    response = call(client, method, url, {"confirm": "yes"})
    assert_sane(response)
    assert response.status_code == (403 if method == allowed_method(url) else 405)
    assert not Sandbox.objects.exists() and not ProvisioningEvent.objects.exists()
    assert cluster.request_count(r"/namespaces") == 0


@pytest.mark.parametrize(("url", "method"), WRONG_METHODS)
def test_every_wrong_method_signed_in_changes_nothing(cluster, client, ada, url, method):
    make_sandbox(client)
    before = cluster.request_count()
    response = call(client, method, url, {"confirm": "yes"})
    assert_sane(response)
    assert response.status_code == 405
    assert cluster.request_count() == before
    assert Sandbox.objects.filter(user=ada, state="ready").exists()


@pytest.mark.parametrize("hx", [{}, {"HTTP_HX_REQUEST": "true"}, {"HTTP_HX_REQUEST": "false"}])
def test_anonymous_htmx_and_plain_see_the_sign_up_offer_only(cluster, client, hx):
    for response in (client.post(CREATE, **hx), client.get(COMMANDS, **hx), client.get(PAGE, **hx)):
        body = assert_sane(response)
        assert response.status_code == 403 and "Create an account" in body
        assert "Download kubeconfig" not in body


# --- provisioning off ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", POSTS + GETS)
def test_provisioning_off_the_right_method_is_a_404(client, ada, url):
    response = call(client, allowed_method(url), url, {"confirm": "yes"})
    assert response.status_code == 404
    assert "sandbox" not in response.content.decode().lower()


@pytest.mark.parametrize("url", POSTS + GETS)
def test_provisioning_off_every_method_is_a_404(client, ada, url):
    wrong = "get" if url in POSTS else "post"
    assert call(client, wrong, url).status_code == 404


def test_provisioning_off_the_dashboard_and_lab_panels_say_nothing_of_sandboxes(client, ada, curriculum):
    from journeys.models import Lesson
    from journeys.sandbox.labs import LABS

    lab = next(iter(LABS.values()))
    pages = [client.get(DASHBOARD), client.get(Lesson.objects.get(slug=lab.lesson).get_absolute_url())]
    for page in pages:
        body = assert_sane(page)
        assert "Create my sandbox" not in body and "my-sandbox" not in body and "/sandbox/" not in body


def test_provisioning_half_configured_is_off(client, ada, settings):
    # The switch without an identity must not show buttons that can only fail.
    settings.SANDBOX_PROVISIONING = True
    settings.SANDBOX_NAMESPACE_TEMPLATE = "learn-{username}"
    assert client.post(CREATE).status_code == 404
    assert "my-sandbox" not in client.get(DASHBOARD).content.decode()


# --- CSRF ---------------------------------------------------------------------------------------


@pytest.fixture
def strict_client(ada):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ada)
    return strict


def csrf_token_of(strict):
    page = strict.get(PAGE).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("url", POSTS)
@pytest.mark.parametrize("hx", [{}, {"HTTP_HX_REQUEST": "true"}])
def test_a_post_without_a_csrf_token_is_refused(cluster, strict_client, url, hx):
    response = strict_client.post(url, {"confirm": "yes", "next": DASHBOARD}, **hx)
    assert_sane(response)
    assert response.status_code == 403
    assert not Sandbox.objects.exists() and cluster.request_count(r"/namespaces") == 0


@pytest.mark.parametrize(
    "token",
    ["", "x" * 64, "A" * 32, "../../etc", "\u00e9" * 64, "%00" * 20],
)
def test_a_forged_csrf_token_is_refused(cluster, strict_client, token):
    csrf_token_of(strict_client)  # the cookie is real; only the form's token is forged
    for header in ({}, {"HTTP_X_CSRFTOKEN": token}):
        response = strict_client.post(CREATE, {"csrfmiddlewaretoken": token}, **header)
        assert_sane(response)
        assert response.status_code == 403
    assert not Sandbox.objects.exists()


def test_a_token_from_another_session_is_refused(cluster, strict_client):
    other = Client(enforce_csrf_checks=True)
    other.force_login(factories.UserFactory(username="mallory"))
    token = csrf_token_of(other)
    strict_client.get(PAGE)
    response = strict_client.post(CREATE, {"csrfmiddlewaretoken": token})
    assert response.status_code == 403 and not Sandbox.objects.exists()


def test_a_cross_site_post_with_a_real_token_but_a_foreign_origin_is_refused(cluster, strict_client):
    token = csrf_token_of(strict_client)
    response = strict_client.post(
        CREATE, {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="https://evil.example", secure=True,
        HTTP_REFERER="https://evil.example/",
    )  # fmt: skip
    assert response.status_code == 403 and not Sandbox.objects.exists()


def test_the_page_s_own_token_works(cluster, strict_client):
    token = csrf_token_of(strict_client)
    response = strict_client.post(CREATE, {"csrfmiddlewaretoken": token, "next": DASHBOARD})
    assert response.status_code == 302 and Sandbox.objects.exists()


# --- the way back (next) ------------------------------------------------------------------------


def assert_local_way_back(response):
    """A redirect stays on this site, on a page (not a POST-only sandbox address), with a clean header."""
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    assert "\n" not in location and "\r" not in location and "\x00" not in location
    assert_same_site(location)
    return location


def as_a_browser_reads(link):
    # Browsers drop tabs and newlines anywhere in a URL and trim controls and spaces at its ends.
    return re.sub("[\t\n\r]", "", link).strip("".join(map(chr, range(0x21))))


def assert_same_site(link):
    seen = as_a_browser_reads(link).replace("\\", "/")
    parts = urlsplit(seen)
    assert not parts.scheme and parts.netloc in ("", "testserver"), link
    assert seen.startswith("/"), link


EVIL_NEXTS = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "\\/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "/\tjavascript:alert(1)",
    "\t//evil.example",
    "//evil.example\\@portal",
    "http:/evil.example",
    "http:evil.example",
    "/%2f%2fevil.example",
    "/%5c%5cevil.example",
    "data:text/html,<script>alert(1)</script>",
    "/\x00//evil.example",
    "\x00//evil.example",
    "/journeys/\x00",
    "/journeys/\r\nSet-Cookie: pwned=1",
    "/journeys/%0d%0aSet-Cookie:%20pwned=1",
    "/\u2215\u2215evil.example",
    "/\uff0f/evil.example",
    "\u3000//evil.example",
    "/sandbox/create/",
    "/sandbox/delete/?confirm=yes",
    "/sandbox/",
    "//testserver/sandbox/create/",
    "https://testserver/",
]


@pytest.mark.parametrize("next_url", EVIL_NEXTS)
@pytest.mark.parametrize("url", POSTS)
def test_a_tampered_next_never_leaves_the_site(cluster, client, ada, url, next_url):
    if url != CREATE:
        make_sandbox(client)
    response = client.post(url, {"next": next_url, "confirm": "yes"})
    assert_sane(response)
    if response.status_code == 400:  # a NUL or a lone surrogate: refused before anything was done
        return
    location = assert_local_way_back(response)
    assert not location.startswith("/sandbox/")


@pytest.mark.parametrize("next_url", EVIL_NEXTS)
def test_a_tampered_next_in_the_page_is_never_a_link_away(cluster, client, ada, next_url):
    make_sandbox(client)
    response = client.get(PAGE, {"next": next_url})
    body = assert_sane(response)
    if response.status_code == 400:
        return
    back = re.search(r'<a href="([^"]*)">Back</a>', body).group(1)
    hidden = set(re.findall(r'name="next" value="([^"]*)"', body))
    for link in {back, *hidden} - {""}:
        assert_same_site(link)


@pytest.mark.parametrize("next_url", ["/%73andbox/create/", "/%73andbox/reset/", "//testserver/sandbox/delete/"])
def test_an_encoded_sandbox_address_is_not_the_way_back(cluster, client, ada, next_url):
    response = client.post(CREATE, {"next": next_url})
    location = assert_local_way_back(response)
    try:
        match = resolve(unquote(urlsplit(location).path))
    except Resolver404:
        return
    assert match.url_name not in {"sandbox_create", "sandbox_reset", "sandbox_delete"}


@pytest.mark.parametrize("size", [2_000, 100_000, 2_000_000])
def test_a_huge_next_does_not_become_a_huge_header(cluster, client, ada, size):
    response = client.post(CREATE, {"next": "/journeys/?" + "a" * size})
    assert_sane(response)
    assert response.status_code in (302, 400, 413)
    assert len(response.get("Location", "")) <= 8192
    assert len(client.get(PAGE, {"next": "/journeys/?" + "a" * min(size, 100_000)}).content) < 200_000


@pytest.mark.parametrize("query", ["next=%ff%fe%fd", "next=%c3%28", "next=/%ed%a0%80", "next=%", "next=%%%", "%ff=1"])
def test_non_utf8_escapes_in_the_query_are_no_error(cluster, client, ada, query):
    make_sandbox(client)
    for response in (
        client.get(f"{PAGE}?{query}"),
        client.get(f"{COMMANDS}?{query}"),
        client.get(f"{DASHBOARD}?{query}"),
        client.post(f"{DELETE}?{query}"),
        client.generic("POST", RESET, query.encode("latin-1"), "application/x-www-form-urlencoded"),
    ):
        assert_sane(response)
        assert response.status_code in (200, 400)


def test_a_non_utf8_form_body_is_no_error(cluster, client, ada):
    response = client.generic("POST", CREATE, b"next=%ff%fe&confirm=\xff\xfe", "application/x-www-form-urlencoded")
    assert_sane(response)
    assert response.status_code in (302, 400)


@given(
    next_url=st.one_of(
        st.text(max_size=200),
        st.from_regex(r"\A[/\\ \t]{0,4}(https?:|javascript:|//)?[a-z.\\/@:%]{0,40}\Z"),
        st.builds(
            lambda a, b: a + b, st.sampled_from(["/", "//", "/\\", "\\", "/sandbox/", "http://"]), st.text(max_size=60)
        ),
    )
)
@HYPOTHESIS
def test_any_next_is_a_local_page_or_the_dashboard(cluster, client, ada, next_url):
    response = client.post(DELETE, {"next": next_url, "confirm": "yes"})
    assert_sane(response)
    if response.status_code == 400:
        assert re.search("[\x00\ud800-\udfff]", next_url)
        return
    location = assert_local_way_back(response)
    assert location == DASHBOARD or not unquote(location).startswith("/sandbox/")


# --- odd and extra form fields, query strings ----------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"confirm": "YES"},
        {"confirm": "yes "},
        {"confirm": "true"},
        {"confirm": "1"},
        {"confirm": ""},
        {"confirm": ["no", "maybe"]},
        {"confirm": "y\x00es"},
    ],
)
@pytest.mark.parametrize("url", [RESET, DELETE])
def test_anything_but_confirm_yes_only_asks(cluster, client, ada, url, fields):
    make_sandbox(client)
    requests_before = cluster.request_count()
    response = client.post(url, fields)
    assert_sane(response)
    assert response.status_code in (200, 400)
    assert cluster.request_count() == requests_before
    assert Sandbox.objects.get(user=ada).state == "ready"


@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "user",
                "user_id",
                "namespace",
                "pk",
                "sandbox",
                "username",
                "next",
                "confirm",
                "state",
                "actor",
                "csrfmiddlewaretoken",
                "action",
                "_selected_action",
                "learner",
            ]
        ),
        st.one_of(st.text(max_size=40), st.lists(st.text(max_size=20), max_size=3)),
        max_size=6,
    )
)
@HYPOTHESIS
def test_extra_fields_never_reach_another_learner(cluster, client, fields):
    victim = factories.UserFactory(username=f"victim{Sandbox.objects.count()}")
    target = sandboxes.create_sandbox(victim)
    attacker = factories.UserFactory()
    client.force_login(attacker)
    fields = {**fields, "namespace": target.namespace, "user": str(victim.pk), "user_id": str(victim.pk)}
    for url in POSTS:
        assert_sane(client.post(url, fields))
    for url in (KUBECONFIG, COMMANDS, PAGE):
        assert_sane(client.get(url, fields))
    assert Sandbox.objects.filter(user=victim, namespace=target.namespace, state="ready").exists()
    assert cluster.get("Namespace", target.namespace, "") is not None
    tokens = ProvisioningEvent.objects.filter(action="token", namespace=target.namespace)
    assert not tokens.exists()


def test_another_learner_gets_only_their_own_credentials(cluster, client, ada, settings):
    settings.SANDBOX_TOKENS_PER_MINUTE = 100
    make_sandbox(client)
    bob = factories.UserFactory(username="bob")
    client.force_login(bob)
    make_sandbox(client)
    for params in ({}, {"namespace": "learn-ada"}, {"user": ada.pk}):
        document = yaml.safe_load(client.get(KUBECONFIG, params).content)
        assert document["contexts"][0]["context"]["namespace"] == "learn-bob"
        commands = client.get(COMMANDS, params, HTTP_HX_REQUEST="true").content.decode()
        assert "learn-ada" not in commands
    bob_token = yaml.safe_load(client.get(KUBECONFIG).content)["users"][0]["user"]["token"]
    from tests.sandbox.provisioning_support import call as api_call
    from tests.sandbox.provisioning_support import path_for

    assert api_call(cluster, bob_token, "GET", path_for("Pod", "learn-ada"))[0] == 403
    assert api_call(cluster, bob_token, "DELETE", "/api/v1/namespaces/learn-ada")[0] == 403


# --- the cluster failing at every step ----------------------------------------------------------

NS = r"/api/v1/namespaces/learn-ada$"
STEPS = {
    "read namespace": ("GET", NS),
    "create namespace": ("POST", r"/api/v1/namespaces$"),
    "patch namespace": ("PATCH", NS),
    "delete namespace": ("DELETE", NS),
    "create quota": ("POST", r"/learn-ada/resourcequotas$"),
    "replace quota": ("PUT", r"/learn-ada/resourcequotas/kube-journeys-guard$"),
    "create limit range": ("POST", r"/learn-ada/limitranges$"),
    "create service account": ("POST", r"/learn-ada/serviceaccounts$"),
    "create role binding": ("POST", r"/learn-ada/rolebindings$"),
    "request token": ("POST", r"/serviceaccounts/learner/token$"),
}
# Each action and the steps it takes (a create on an existing sandbox patches and replaces instead).
ACTIONS = {
    "create": ["read namespace", "create namespace", "create quota", "create limit range",
               "create service account", "create role binding"],
    "repair": ["patch namespace", "replace quota"],
    "reset": ["read namespace", "delete namespace", "create namespace", "create quota"],
    "delete": ["read namespace", "delete namespace"],
    "kubeconfig": ["read namespace", "request token"],
    "commands": ["request token"],
}  # fmt: skip
FAULTS = [400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504, "timeout"]
CASES = [(action, step) for action, steps in ACTIONS.items() for step in steps]


def run_action(client, action, **extra):
    if action in ("create", "repair"):
        return client.post(CREATE, {"next": DASHBOARD}, **extra)
    if action in ("reset", "delete"):
        return client.post(RESET if action == "reset" else DELETE, {"next": DASHBOARD, "confirm": "yes"}, **extra)
    return client.get(KUBECONFIG if action == "kubeconfig" else COMMANDS, **extra)


def inject(cluster, step, fault, settings):
    method, pattern = STEPS[step]
    if fault == "timeout":
        # Only here is the read timeout short: anywhere else a busy machine could make it fire.
        settings.SANDBOX_READ_TIMEOUT = 0.3
        cluster.delay(pattern, 0.8, times=1, method=method)
    else:
        cluster.fail(pattern, fault, f"injected {fault}", times=1, method=method)


@pytest.fixture
def generous(settings):
    settings.SANDBOX_CHANGES_PER_MINUTE = 1000
    settings.SANDBOX_TOKENS_PER_MINUTE = 1000


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(("action", "step"), CASES)
@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_a_cluster_fault_at_any_step_is_a_message_and_pressing_again_repairs(
    cluster, client, ada, generous, settings, action, step, fault, hx
):
    if action != "create":
        make_sandbox(client)
    extra = {"HTTP_HX_REQUEST": "true"} if hx else {}
    inject(cluster, step, fault, settings)
    response = run_action(client, action, **extra)
    body = assert_sane(response)
    assert response.status_code in (200, 202, 302, 409, 503), response.status_code
    if response.status_code >= 400:
        assert "alert--error" in body and "injected" not in body  # the operator's detail stays in the log
        assert ("<h1>" in body) is not hx
    if response.status_code not in (200,) or action not in ("kubeconfig", "commands"):
        assert TOKEN_MARK not in body
    # Whatever happened, the next press (once the cluster behaves) leaves a working sandbox.
    cluster.clear_faults()
    if fault == "timeout":
        time.sleep(0.6)  # the request the portal gave up on still lands; the repair comes after it
    settings.SANDBOX_READ_TIMEOUT = 5  # the repair is not about timeouts: a busy machine must not fail it
    if action == "delete" and not Sandbox.objects.filter(user=ada).exists():
        assert cluster.get("Namespace", "learn-ada", "") is None or response.status_code < 400
        return
    cluster.finish_termination()
    again = client.post(CREATE, {"next": DASHBOARD})
    assert again.status_code == 302, again.content[:300]
    assert Sandbox.objects.get(user=ada).state == "ready"
    assert client.get(KUBECONFIG).status_code == 200


@pytest.mark.parametrize(
    "step", ["create quota", "create limit range", "create service account", "create role binding"]
)
def test_a_create_that_fails_half_way_removes_the_namespace_it_made(cluster, client, ada, settings, step):
    inject(cluster, step, 500, settings)
    response = client.post(CREATE, {"next": DASHBOARD})
    assert response.status_code == 503
    assert cluster.get("Namespace", "learn-ada", "") is None
    assert Sandbox.objects.get(user=ada).state == "failed"
    assert ProvisioningEvent.objects.get(action="create").outcome == "failed"


def test_an_unreachable_cluster_for_each_action(cluster, client, ada, settings, tmp_path, generous):
    make_sandbox(client)
    settings.SANDBOX_PROVISIONER_KUBECONFIG = str(
        cluster.write_kubeconfig(tmp_path / "gone", token=PROVISIONER_TOKEN, server="http://127.0.0.1:9")
    )
    for action in ACTIONS:
        for hx in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = run_action(client, action, **hx)
            assert_sane(response)
            assert response.status_code == 503 and response["Retry-After"]
    assert Sandbox.objects.filter(user=ada).exists()


@pytest.mark.parametrize(
    "kubeconfig_text",
    ["", "not: [yaml", "apiVersion: v1\nkind: Config\n", "- a\n- b\n", "\x00\x01", "clusters: 7\ncontexts: x\n"],
)
def test_a_broken_provisioner_kubeconfig_is_an_operator_message(cluster, client, ada, settings, tmp_path,
                                                                kubeconfig_text):  # fmt: skip
    broken = tmp_path / "broken"
    broken.write_text(kubeconfig_text, encoding="utf-8")
    settings.SANDBOX_PROVISIONER_KUBECONFIG = str(broken)
    for action in ("create", "kubeconfig", "delete"):
        response = run_action(client, action)
        body = assert_sane(response)
        assert response.status_code in (302, 409, 503)
        assert str(tmp_path) not in body


def test_a_missing_provisioner_kubeconfig_file_is_an_operator_message(cluster, client, ada, settings, tmp_path):
    settings.SANDBOX_PROVISIONER_KUBECONFIG = str(tmp_path / "nowhere")
    response = client.post(CREATE)
    body = assert_sane(response)
    assert response.status_code == 503 and "Tell your administrator" in body and "nowhere" not in body


def test_a_bad_pod_security_setting_is_an_operator_message(cluster, client, ada, settings):
    settings.SANDBOX_POD_SECURITY = "super-strict"
    response = client.post(CREATE, HTTP_HX_REQUEST="true")
    body = assert_sane(response)
    assert response.status_code == 503 and "Tell your administrator" in body


# --- garbage from the API server (a proxy in between answers instead of it) ----------------------


class GarbageProxy:
    """Forwards to the emulator, except requests matching a rule, which get the rule's answer."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.rules = []  # (method, pattern, status, body bytes or None to hang up)
        self.pool = urllib3.PoolManager(retries=False)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                path = urlsplit(self.path).path
                for method, pattern, status, body in proxy.rules:
                    if method == self.command and re.search(pattern, path):
                        if body is None:
                            self.close_connection = True
                            self.connection.close()
                            return
                        self.send_response(status)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        return
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                answer = proxy.pool.request(self.command, proxy.upstream + self.path, body=data, headers=headers)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(answer.data)))
                self.end_headers()
                self.wfile.write(answer.data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any  # noqa: N815 - the names http.server calls

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def garbage(cluster, settings, tmp_path):
    proxy = GarbageProxy(cluster.url)
    settings.SANDBOX_PROVISIONER_KUBECONFIG = str(
        cluster.write_kubeconfig(tmp_path / "via-proxy", token=PROVISIONER_TOKEN, server=proxy.url)
    )
    yield proxy
    proxy.close()


GARBAGE = {
    "html": (200, b"<html><body>Please sign in to the corporate proxy</body></html>"),
    "array": (200, b"[1, 2, 3]"),
    "truncated": (200, b'{"kind": "Namespace", "metadata": {'),
    "empty": (200, b""),
    "null": (200, b"null"),
    "html error": (502, b"<html>Bad gateway</html>"),
    "status list": (500, b'{"kind": "Status", "details": [], "message": ["x"]}'),
    "hang up": (0, None),
}
GARBAGE_STEPS = ["read namespace", "create namespace", "create quota", "request token"]


@pytest.mark.parametrize("kind", GARBAGE)
@pytest.mark.parametrize("step", GARBAGE_STEPS)
def test_garbage_from_the_api_is_a_message(garbage, client, ada, generous, step, kind):
    if step == "request token":
        make_sandbox(client)
    status, body = GARBAGE[kind]
    method, pattern = STEPS[step]
    garbage.rules.append((method, pattern, status, body))
    response = run_action(client, "kubeconfig" if step == "request token" else "create")
    text = assert_sane(response)
    assert response.status_code in (302, 409, 503) or (response.status_code == 200 and step == "request token"
                                                        and kind not in GARBAGE)  # fmt: skip
    assert "Please sign in" not in text and "Bad gateway" not in text


WRONG_SHAPES = {
    "namespace metadata is a string": ("read namespace", b'{"kind": "Namespace", "metadata": "x"}'),
    "namespace labels are a list": ("read namespace", b'{"kind": "Namespace", "metadata": {"labels": ["a"]}}'),
    "token status is a string": ("request token", b'{"kind": "TokenRequest", "status": "issued"}'),
    "token status is a list": ("request token", b'{"kind": "TokenRequest", "status": ["t"]}'),
}


@pytest.mark.parametrize("shape", WRONG_SHAPES)
def test_a_well_formed_answer_of_the_wrong_shape_is_a_message(garbage, client, ada, generous, shape):
    step, body = WRONG_SHAPES[shape]
    make_sandbox(client)
    method, pattern = STEPS[step]
    garbage.rules.append((method, pattern, 200, body))
    client.raise_request_exception = False
    response = client.get(KUBECONFIG)
    assert_sane(response)
    assert response.status_code == 503
    assert "answered with something the portal cannot read" in response.content.decode()


# --- the cache (Redis) down ---------------------------------------------------------------------


def closed_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def caches_default():
    from django.core.cache import caches

    return caches["default"]


@pytest.fixture
def redis_down(settings):
    from journeys.pages import content_version
    from portal import resilience

    settings.CACHES = {
        "default": {
            "BACKEND": "portal.resilience.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
            "KEY_PREFIX": "kj-attack",
        }
    }
    resilience.breaker.reset()
    content_version.forget_local()
    assert type(caches_default()).__name__ == "ResilientRedisCache"
    yield
    resilience.breaker.reset()
    content_version.forget_local()


@pytest.mark.parametrize("hx", [{}, {"HTTP_HX_REQUEST": "true"}])
def test_with_the_cache_down_every_action_still_works(cluster, client, ada, redis_down, hx):
    assert client.post(CREATE, {"next": DASHBOARD}, **hx).status_code in (200, 302)
    assert "learn-ada" in assert_sane(client.get(DASHBOARD))
    assert client.get(KUBECONFIG).status_code == 200
    assert client.get(COMMANDS, **hx).status_code == 200
    reset = client.post(RESET, {"confirm": "yes"}, **hx)
    assert_sane(reset)
    assert reset.status_code in (200, 302)
    assert client.post(DELETE, {"confirm": "yes"}, **hx).status_code in (200, 302)
    assert not Sandbox.objects.filter(user=ada).exists()


def test_with_the_cache_down_limits_are_not_counted_but_nothing_breaks(cluster, client, ada, redis_down, settings):
    # Documented: an outage of the cache lifts the limits rather than failing the learner.
    settings.SANDBOX_TOKENS_PER_MINUTE = 1
    answers = [client.get(KUBECONFIG if index else CREATE) if index else client.post(CREATE) for index in range(4)]
    assert [answer.status_code for answer in answers] == [302, 200, 200, 200]


def test_with_the_cache_down_a_failure_still_answers_a_message(cluster, client, ada, redis_down):
    cluster.fail(r"/api/v1/namespaces", 503, "down")
    response = client.post(CREATE, HTTP_HX_REQUEST="true")
    assert_sane(response)
    assert response.status_code == 503 and response["Retry-After"]


# --- rate limits --------------------------------------------------------------------------------


@pytest.fixture
def strict_limits(settings):
    settings.SANDBOX_CHANGES_PER_MINUTE = 2
    settings.SANDBOX_TOKENS_PER_MINUTE = 2


def test_a_second_session_shares_the_limit(cluster, client, ada, strict_limits):
    other = Client()
    other.force_login(ada)
    assert client.post(CREATE).status_code == 302
    assert other.post(CREATE).status_code == 302
    for session in (client, other):
        assert session.post(CREATE).status_code == 429
    assert client.get(KUBECONFIG).status_code == 200 and other.get(KUBECONFIG).status_code == 200
    assert client.get(KUBECONFIG).status_code == 429 and other.get(COMMANDS).status_code == 429


def test_a_forged_address_or_htmx_does_not_reset_the_limit(cluster, client, ada, strict_limits):
    for index in range(2):
        client.post(CREATE, REMOTE_ADDR=f"10.0.0.{index}")
    for extra in ({"REMOTE_ADDR": "10.9.9.9"}, {"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, {"HTTP_HX_REQUEST": "true"},
                  {"HTTP_X_REAL_IP": "8.8.8.8"}):  # fmt: skip
        response = client.post(CREATE, **extra)
        assert response.status_code == 429 and int(response["Retry-After"]) >= 1
        assert_sane(response)


def test_reset_and_create_share_one_limit_and_delete_does_not_refill_it(cluster, client, ada, strict_limits):
    assert client.post(CREATE).status_code == 302
    assert client.post(RESET, {"confirm": "yes"}).status_code == 302
    assert client.post(DELETE, {"confirm": "yes"}).status_code == 302
    assert client.post(CREATE).status_code == 429
    assert not Sandbox.objects.filter(user=ada).exists()


def test_a_limited_answer_does_not_touch_the_cluster(cluster, client, ada, strict_limits):
    client.post(CREATE)
    client.post(CREATE)
    before = cluster.request_count()
    for _ in range(10):
        assert client.post(CREATE).status_code == 429
        assert client.post(RESET, {"confirm": "yes"}).status_code == 429
    client.get(KUBECONFIG), client.get(KUBECONFIG)
    before_tokens = cluster.request_count(r"/token$")
    for _ in range(10):
        assert client.get(KUBECONFIG).status_code == 429
    assert cluster.request_count(r"/token$") == before_tokens
    assert cluster.request_count() - before == 2 * 2  # the two kubeconfigs allowed: a read and a token each


def test_creates_stay_limited_while_the_old_namespace_terminates(cluster, client, ada, strict_limits):
    make_sandbox(client)
    # A learner can keep their namespace terminating for as long as they like (a finalizer of their own).
    cluster.namespace_termination_seconds = 3600
    assert client.post(DELETE, {"confirm": "yes"}).status_code == 302
    answers = [client.post(CREATE, HTTP_HX_REQUEST="true").status_code for _ in range(20)]
    # One change, then as many waits a minute as "try again in a few seconds" asks for; no more.
    waits = answers.count(409) - 1
    assert waits == WAITS_PER_MINUTE and answers.count(429) == 20 - 1 - WAITS_PER_MINUTE, answers
    assert ProvisioningEvent.objects.filter(action="create").count() == 2 + WAITS_PER_MINUTE


# --- double submits and requests at once --------------------------------------------------------


def in_thread(function):
    """Run ``function`` in a thread with its own database connection; join() returns its result."""
    result = {}

    def run():
        try:
            result["value"] = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the test, which asserts on it
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join():
        thread.join(10)
        assert not thread.is_alive()
        if "error" in result:
            raise result["error"]
        return result["value"]

    return join


def learner_client(user):
    fresh = Client(raise_request_exception=False)
    fresh.force_login(user)
    return fresh


def wait_for(condition, seconds=5.0):
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_create_makes_one_sandbox(cluster, settings):
    settings.SANDBOX_READ_TIMEOUT = 3
    ada = factories.UserFactory(username="ada")
    # Both requests reach the cluster before either has finished.
    cluster.delay(r"/api/v1/namespaces$", 0.3, method="POST")
    first = in_thread(lambda: learner_client(ada).post(CREATE, {"next": DASHBOARD}, HTTP_HX_REQUEST="true"))
    wait_for(lambda: Sandbox.objects.filter(user=ada).exists())
    second = learner_client(ada).post(CREATE, {"next": DASHBOARD}, HTTP_HX_REQUEST="true")
    answers = sorted([first().status_code, second.status_code])
    assert 500 not in answers and answers[0] == 200, answers
    assert Sandbox.objects.filter(user=ada).count() == 1
    assert learner_client(ada).post(CREATE).status_code == 302
    assert Sandbox.objects.get(user=ada).state == "ready"


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_delete_deletes_once(cluster):
    ada = factories.UserFactory(username="ada")
    sandboxes.create_sandbox(ada)
    cluster.delay(NS, 0.4, method="DELETE")
    first = in_thread(lambda: learner_client(ada).post(DELETE, {"confirm": "yes"}))
    wait_for(lambda: cluster.request_count(r"learn-ada$") >= 2)
    second = learner_client(ada).post(DELETE, {"confirm": "yes"})
    answers = [first().status_code, second.status_code]
    assert 500 not in answers, answers
    assert not Sandbox.objects.filter(user=ada).exists()


@pytest.mark.django_db(transaction=True)
def test_a_delete_during_a_create_is_no_error(cluster):
    ada = factories.UserFactory(username="ada")
    cluster.delay(r"/learn-ada/resourcequotas$", 0.5, times=1, method="POST")
    creating = in_thread(lambda: learner_client(ada).post(CREATE, {"next": DASHBOARD}))
    wait_for(lambda: cluster.get("Namespace", "learn-ada", "") is not None)
    deleted = learner_client(ada).post(DELETE, {"confirm": "yes"})
    assert deleted.status_code == 302
    answer = creating()
    assert answer.status_code in (302, 409), answer.status_code
    # The last word was "delete": no row, and no namespace left behind unseen.
    assert not Sandbox.objects.filter(user=ada).exists()
    namespace = cluster.get("Namespace", "learn-ada", "")
    assert namespace is None or namespace["metadata"].get("deletionTimestamp")


@pytest.mark.django_db(transaction=True)
def test_a_delete_during_a_kubeconfig_is_no_error(cluster):
    ada = factories.UserFactory(username="ada")
    sandboxes.create_sandbox(ada)
    cluster.delay(r"/serviceaccounts/learner/token$", 0.5, times=1, method="POST")
    fetching = in_thread(lambda: learner_client(ada).get(KUBECONFIG))
    wait_for(lambda: cluster.request_count(r"/token$") >= 1)
    assert learner_client(ada).post(DELETE, {"confirm": "yes"}).status_code == 302
    answer = fetching()
    assert answer.status_code == 409, answer.status_code
    assert "deleted while this was going on" in answer.content.decode()
    assert "emulated." not in answer.content.decode()  # no token for a sandbox that is gone
    assert ProvisioningEvent.objects.filter(action="token", namespace="learn-ada").count() == 1  # yet it is audited


@pytest.mark.django_db(transaction=True)
def test_an_admin_removal_during_a_learners_reset_is_no_error(cluster):
    ada = factories.UserFactory(username="ada")
    boss = factories.UserFactory(username="boss", is_staff=True, is_superuser=True)
    sandbox = sandboxes.create_sandbox(ada)
    cluster.namespace_termination_seconds = 0.2
    cluster.delay(NS, 0.4, times=1, method="DELETE")
    resetting = in_thread(lambda: learner_client(ada).post(RESET, {"confirm": "yes"}, HTTP_HX_REQUEST="true"))
    wait_for(lambda: cluster.request_count(r"learn-ada$") >= 2)
    admin = learner_client(boss)
    removed = admin.post(SANDBOXES, {"action": "remove_selected", "_selected_action": [sandbox.pk]})
    assert removed.status_code in (200, 302)
    answer = resetting()
    assert answer.status_code == 409, answer.status_code
    assert not Sandbox.objects.filter(user=ada).exists()
    namespace = cluster.get("Namespace", "learn-ada", "")
    assert namespace is None or namespace["metadata"].get("deletionTimestamp")


# --- usernames that make bad namespace names ----------------------------------------------------

ODD_USERNAMES = [
    "Ada.Lovelace",
    "ADA",
    "1984",
    "9lives",
    "a" * 150,
    "a.b.c.d",
    "-_-",
    "___",
    "@+.-_",
    "x@example.com",
    "Élodie",
    "Straße",
    "ǅemal",
    "Ⅻ",
    "١٢٣",
    "ﬁnn",
    "İstanbul",
]


@pytest.mark.parametrize(
    "template", ["learn-{username}", "{username}", "{username}-lab", "learn-{username}-{username}"]
)
@pytest.mark.parametrize("username", ODD_USERNAMES)
def test_an_odd_username_gives_a_valid_name_or_a_message(cluster, client, settings, generous, template, username):
    settings.SANDBOX_NAMESPACE_TEMPLATE = template
    user = factories.UserFactory(username=username)
    client.force_login(user)
    response = client.post(CREATE, {"next": DASHBOARD}, HTTP_HX_REQUEST="true")
    body = assert_sane(response)
    assert response.status_code in (200, 409, 503)
    sandbox = Sandbox.objects.filter(user=user).first()
    if sandbox is not None:
        assert namespace_problem(sandbox.namespace) == ""
        assert sandbox.namespace in body
    if response.status_code == 200:
        assert cluster.get("Namespace", sandbox.namespace, "") is not None


@pytest.mark.parametrize("template", ["{username}", "{username}-{username}"])
@pytest.mark.parametrize("username", ["kube-system", "default", "kube-public", "Kube.System", "kube_node_lease"])
def test_a_username_naming_a_system_namespace_never_gets_it(cluster, client, settings, template, username):
    for name in ("kube-system", "default", "kube-public", "kube-node-lease", "kube-system-kube-system"):
        if cluster.get("Namespace", name, "") is None:
            cluster.add_namespace(name)
    settings.SANDBOX_NAMESPACE_TEMPLATE = template
    user = factories.UserFactory(username=username)
    client.force_login(user)
    for action in ("create", "reset", "delete", "kubeconfig"):
        response = run_action(client, action, HTTP_HX_REQUEST="true")
        assert_sane(response)
        assert response.status_code in (200, 409, 503)
    for name in ("kube-system", "default", "kube-public", "kube-node-lease", "kube-system-kube-system"):
        namespace = cluster.get("Namespace", name, "")
        assert namespace is not None and not (namespace["metadata"].get("deletionTimestamp"))
    assert cluster.request_count(r"/token$") == 0


@pytest.mark.parametrize(("first", "second"), [("ada.lovelace", "ada_lovelace"), ("Ada", "ada"), ("a" * 64, "a" * 65)])
def test_two_accounts_mapping_to_one_name_never_share_a_sandbox(cluster, client, first, second):
    one, two = factories.UserFactory(username=first), factories.UserFactory(username=second)
    client.force_login(one)
    assert client.post(CREATE).status_code == 302
    client.force_login(two)
    refused = client.post(CREATE, HTTP_HX_REQUEST="true")
    assert refused.status_code == 409 and "already used by another account" in refused.content.decode()
    assert client.get(KUBECONFIG).status_code == 409
    assert client.post(DELETE, {"confirm": "yes"}).status_code == 302
    assert Sandbox.objects.filter(user=one).exists() and not Sandbox.objects.filter(user=two).exists()


def test_learners_with_non_latin_usernames_get_sandboxes(cluster, client):
    for username in ("日本語", "Ελένη"):
        client.force_login(factories.UserFactory(username=username))
        response = client.post(CREATE, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, (username, response.status_code, Sandbox.objects.values("namespace"))
    names = sorted(Sandbox.objects.values_list("namespace", flat=True))
    assert len(names) == 2 and all(name.startswith("learn-u") for name in names), names
    # The same learner always gets the same name.
    assert template_namespace(Sandbox.objects.get(namespace=names[0]).user) == names[0]


@given(username=st.from_regex(r"\A[\w.@+-]{1,150}\Z", fullmatch=True))
@HYPOTHESIS
def test_any_valid_username_gives_a_valid_namespace_or_none(settings, username):
    settings.SANDBOX_NAMESPACE_TEMPLATE = "learn-{username}"
    namespace = template_namespace(factories.UserFactory.build(username=username))
    assert namespace is None or namespace_problem(namespace) == ""


@pytest.mark.parametrize("template", ["learn-{user}", "learn-{0}", "learn-{username!x}", "learn-{", "learn-}{"])
def test_a_broken_template_is_an_operator_message(cluster, client, ada, settings, template):
    settings.SANDBOX_NAMESPACE_TEMPLATE = template
    response = client.post(CREATE, HTTP_HX_REQUEST="true")
    body = assert_sane(response)
    assert response.status_code == 503 and "Tell your administrator" in body and template not in body


# --- where a token could land -------------------------------------------------------------------


def cached_bytes():
    # The tests' cache lives in this process's memory: every value it holds, pickled.
    from django.core.cache import caches

    store = caches["default"]
    return b"".join(value for value in getattr(store, "_cache", {}).values() if isinstance(value, bytes))


def database_text():
    rows = []
    for model in (Sandbox, ProvisioningEvent, LabRun):
        rows += [json.dumps(list(row), default=str) for row in model.objects.values_list()]
    rows += [session.get_decoded().__repr__() for session in Session.objects.all()]
    from django.contrib.admin.models import LogEntry

    rows += [repr(row) for row in LogEntry.objects.values_list()]
    return "\n".join(rows)


def test_a_token_lands_only_in_its_own_uncacheable_answer(cluster, client, ada, caplog, generous):
    caplog.set_level(logging.DEBUG)
    make_sandbox(client)
    tokens, answers = [], []
    answers.append(client.get(KUBECONFIG))
    tokens.append(yaml.safe_load(answers[-1].content)["users"][0]["user"]["token"])
    for extra in ({}, {"HTTP_HX_REQUEST": "true"}):
        answers.append(client.get(COMMANDS, {"next": DASHBOARD}, **extra))
        tokens.append(re.search(r"--token=(\S+)", answers[-1].content.decode()).group(1))
    for answer in answers:
        assert answer.status_code == 200
        for word in ("no-store", "no-cache", "private", "max-age=0"):
            assert word in answer["Cache-Control"]
        assert answer["X-Content-Type-Options"] == "nosniff"
        assert "Set-Cookie" not in answer or TOKEN_MARK not in answer["Set-Cookie"]
    assert answers[0]["Content-Type"].startswith("application/yaml")
    # Everything else the learner, the operator or another process can see afterwards.
    after = [client.get(DASHBOARD), client.get(DASHBOARD), client.get(PAGE), client.get(PAGE, {"next": DASHBOARD})]
    client.post(RESET, {"confirm": "yes"})
    after.append(client.get(DASHBOARD))
    seen = {
        "pages": "".join(page.content.decode() for page in after),
        "log": "\n".join(record.getMessage() + repr(record.args) for record in caplog.records),
        "database": database_text(),
        "cache": cached_bytes().decode("latin-1"),
    }
    for token in tokens:
        assert token.startswith(TOKEN_MARK)
        for where, text in seen.items():
            assert token not in text, where
            assert token.split(".")[-1] not in text, where


@pytest.mark.parametrize("fault", [403, 422, 500, "timeout"])
def test_a_failed_token_request_leaves_no_token_and_no_detail_for_the_learner(cluster, client, ada, caplog, fault,
                                                                               generous, settings):  # fmt: skip
    caplog.set_level(logging.DEBUG)
    make_sandbox(client)
    inject(cluster, "request token", fault, settings)
    response = client.get(KUBECONFIG)
    body = assert_sane(response)
    assert response.status_code == 503 and "no-store" in response["Cache-Control"]
    assert TOKEN_MARK not in body and "provisioner" not in body and "system:serviceaccount" not in body
    assert TOKEN_MARK not in database_text() and TOKEN_MARK not in caplog.text


def test_the_dashboard_stored_for_the_learner_never_holds_commands(cluster, client, ada, generous):
    make_sandbox(client)
    client.get(DASHBOARD)
    client.get(COMMANDS, HTTP_HX_REQUEST="true")
    client.get(COMMANDS)
    for url in (DASHBOARD, PAGE, f"{PAGE}?next=/"):
        assert TOKEN_MARK not in client.get(url).content.decode()


def test_a_learner_deleting_their_service_account_is_told_to_repair(cluster, client, ada, generous):
    make_sandbox(client)
    cluster.remove("ServiceAccount", "learner", "learn-ada")
    response = client.get(KUBECONFIG)
    assert response.status_code == 409 and "Create your sandbox again" in response.content.decode()
    assert client.post(CREATE).status_code == 302
    assert client.get(KUBECONFIG).status_code == 200


def test_a_namespace_not_made_by_the_portal_is_never_handed_out(cluster, client, settings):
    cluster.add_namespace("learn-eve")  # someone else's, without the portal's label
    eve = factories.UserFactory(username="eve")
    client.force_login(eve)
    for action in ("create", "reset", "delete", "kubeconfig"):
        response = run_action(client, action, HTTP_HX_REQUEST="true")
        assert_sane(response)
        assert response.status_code in (200, 409, 503)
    assert cluster.get("Namespace", "learn-eve", "") is not None
    assert cluster.request_count(r"/token$") == 0
    assert not cluster.objects("ServiceAccount", "learn-eve")


# --- the admin's cohort actions -----------------------------------------------------------------


@pytest.fixture
def cohort(db):
    group = Group.objects.create(name="spring")
    for name in ("ann", "bob"):
        factories.UserFactory(username=name).groups.add(group)
    return group


def act(client, url, action, pks, **extra):
    return client.post(url, {"action": action, "_selected_action": pks, **extra}, follow=True)


def staff_with(*codenames):
    user = factories.UserFactory(username="-".join(codenames) or "staff", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_a_deactivated_learners_session_acts_on_nothing(cluster, client, ada):
    make_sandbox(client)
    ada.is_active = False
    ada.save()
    for response in (
        client.get(KUBECONFIG),
        client.post(DELETE, {"confirm": "yes"}),
        client.post(RESET, {"confirm": "yes"}),
    ):
        assert response.status_code == 403
    assert Sandbox.objects.filter(user=ada, state="ready").exists() and cluster.request_count(r"/token$") == 0


def test_a_learner_cannot_run_admin_actions(cluster, client, ada, cohort):
    sandbox = sandboxes.create_sandbox(ada)
    for url, action, pks in ((GROUPS, "create_cohort_sandboxes", [cohort.pk]),
                             (GROUPS, "remove_cohort_sandboxes", [cohort.pk]),
                             (SANDBOXES, "remove_selected", [sandbox.pk])):  # fmt: skip
        response = client.post(url, {"action": action, "_selected_action": pks})
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert Sandbox.objects.count() == 1 and cluster.get("Namespace", "learn-ada", "") is not None


def test_cohort_actions_need_a_csrf_token(cluster, cohort):
    boss = Client(enforce_csrf_checks=True)
    boss.force_login(factories.UserFactory(username="boss", is_staff=True, is_superuser=True))
    response = boss.post(GROUPS, {"action": "create_cohort_sandboxes", "_selected_action": [cohort.pk]})
    assert response.status_code == 403 and not Sandbox.objects.exists()


def test_a_read_only_staff_member_cannot_remove_sandboxes(cluster, client):
    sandbox = sandboxes.create_sandbox(factories.UserFactory(username="ada"))
    client.force_login(staff_with("view_sandbox"))
    assert client.get(SANDBOXES).status_code == 200  # they may look
    act(client, SANDBOXES, "remove_selected", [sandbox.pk])
    assert Sandbox.objects.filter(pk=sandbox.pk).exists()


@pytest.mark.parametrize("action", ["create_cohort_sandboxes", "remove_cohort_sandboxes"])
def test_a_staff_member_who_may_only_view_groups_cannot_change_sandboxes(cluster, client, cohort, action):
    if action == "remove_cohort_sandboxes":
        for member in cohort.user_set.all():
            sandboxes.create_sandbox(member)
    before = set(Sandbox.objects.values_list("namespace", flat=True))
    client.force_login(staff_with("view_group"))
    act(client, GROUPS, action, [cohort.pk])
    assert set(Sandbox.objects.values_list("namespace", flat=True)) == before


def test_staff_with_the_sandbox_permissions_run_the_cohort_actions(cluster, client, cohort):
    client.force_login(staff_with("view_group", "add_sandbox", "delete_sandbox", "view_sandbox"))

    act(client, GROUPS, "create_cohort_sandboxes", [cohort.pk])
    assert Sandbox.objects.count() == cohort.user_set.count() == 2
    [first, *_] = Sandbox.objects.all()
    act(client, SANDBOXES, "remove_selected", [first.pk])
    act(client, GROUPS, "remove_cohort_sandboxes", [cohort.pk])
    assert not Sandbox.objects.exists()


ADMIN_ACTIONS = [
    (GROUPS, "create_cohort_sandboxes"),
    (GROUPS, "remove_cohort_sandboxes"),
    (SANDBOXES, "remove_selected"),
]


@pytest.mark.parametrize("pks", [["999999"], ["-1"], ["\u0661"], ["1"] * 500, ["0"]])
@pytest.mark.parametrize(("url", "action"), ADMIN_ACTIONS)
def test_odd_numeric_selections_in_admin_actions_are_no_error(cluster, client, staff_user, url, action, pks):
    client.force_login(staff_user)
    response = client.post(url, {"action": action, "_selected_action": pks})
    assert_sane(response)
    assert response.status_code in (200, 302)
    assert not Sandbox.objects.exists()


@pytest.mark.parametrize("pks", [["abc"], ["1;DROP TABLE auth_group"], [""], ["1e3"], ["0x1"]])
@pytest.mark.parametrize(("url", "action"), ADMIN_ACTIONS)
def test_non_numeric_selections_in_admin_actions_are_no_error(cluster, client, staff_user, url, action, pks):
    client.force_login(staff_user)
    client.raise_request_exception = False
    response = client.post(url, {"action": action, "_selected_action": pks})
    assert_sane(response)
    assert not Sandbox.objects.exists()


def test_an_unknown_or_hidden_action_does_nothing(cluster, client, staff_user, cohort, settings):
    client.force_login(staff_user)
    for action in ("delete_selected_sandboxes", "remove_selected", "__class__", ""):
        response = act(client, GROUPS, action, [cohort.pk])
        assert_sane(response)
    settings.SANDBOX_PROVISIONING = False
    response = act(client, GROUPS, "create_cohort_sandboxes", [cohort.pk])
    assert_sane(response)
    assert not Sandbox.objects.exists() and cluster.request_count(r"/namespaces") == 0


def test_select_across_runs_on_the_whole_list_without_error(cluster, client, staff_user, cohort):
    Group.objects.create(name="empty")
    client.force_login(staff_user)
    response = act(client, GROUPS, "create_cohort_sandboxes", [cohort.pk], select_across="1", index="0")
    assert_sane(response)
    assert Sandbox.objects.count() == 2


def test_a_cohort_of_odd_names_and_a_flaky_cluster_is_counted_not_a_500(cluster, client, staff_user, settings):
    group = Group.objects.create(name="odd")
    for name in ("ada.lovelace", "ada_lovelace", "日本語", "kube-system", "x" * 150, "bob"):
        factories.UserFactory(username=name).groups.add(group)
    inactive = factories.UserFactory(username="gone", is_active=False)
    inactive.groups.add(group)
    cluster.fail(r"/learn-bob/limitranges$", 500, "boom", times=1)
    # Room enough that only the slowed step times out, even on a busy machine.
    settings.SANDBOX_READ_TIMEOUT = 1.5
    cluster.delay(r"/learn-x+/resourcequotas$", 2.5, times=1, method="POST")
    client.force_login(staff_user)
    response = act(client, GROUPS, "create_cohort_sandboxes", [group.pk])
    time.sleep(1.2)  # the slowed request still lands; the second run comes after it
    body = assert_sane(response)
    messages = [str(message) for message in response.context["messages"]]
    # 日本語 gets a stand-in name; ada_lovelace's name is taken, and the cluster fails x… and bob once.
    assert messages[0].startswith("Sandboxes ready: 3, 3 failed"), messages
    assert "boom" not in body and not Sandbox.objects.filter(user=inactive).exists()
    again = act(client, GROUPS, "create_cohort_sandboxes", [group.pk])
    assert str(next(iter(again.context["messages"]))).startswith("Sandboxes ready: 5, 1 failed")
    removed = act(client, GROUPS, "remove_cohort_sandboxes", [group.pk])
    assert_sane(removed)
    assert not Sandbox.objects.filter(state="ready").exists()


def test_removing_a_cohort_twice_at_once_reports_without_error(cluster, client, staff_user, cohort):
    for member in cohort.user_set.all():
        sandboxes.create_sandbox(member)
    second = Group.objects.create(name="twin")
    for member in cohort.user_set.all():
        member.groups.add(second)
    client.force_login(staff_user)
    response = act(client, GROUPS, "remove_cohort_sandboxes", [cohort.pk, second.pk])
    assert [str(m) for m in response.context["messages"]] == ["Sandboxes removed: 2."]


# --- the lab panel ------------------------------------------------------------------------------


def test_the_lab_panel_offer_leads_back_to_the_lab_and_never_holds_a_token(cluster, client, ada, curriculum, settings,
                                                                           kubeconfig, generous):  # fmt: skip
    from journeys.models import Lesson
    from journeys.sandbox.labs import LABS

    settings.SANDBOX_KUBECONFIG = str(kubeconfig)
    lab = next(iter(LABS.values()))
    lesson_url = Lesson.objects.get(slug=lab.lesson).get_absolute_url()
    page = client.get(lesson_url).content.decode()
    next_url = re.search(r'name="next" value="([^"]*#lab-[^"]*)"', page).group(1)
    response = client.post(CREATE, {"next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url
    client.get(KUBECONFIG)
    page = assert_sane(client.get(lesson_url))
    assert "learn-ada" in page and TOKEN_MARK not in page
    anonymous = Client()
    offer = anonymous.get(lesson_url).content.decode()
    assert "Create an account" in offer and 'action="/sandbox/create/"' not in offer
