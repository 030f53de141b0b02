"""A learner's own sandbox in a real browser: sign up, create it, download its kubeconfig, reset it.

The portal provisions against the Kubernetes API emulation, as the provisioning tests do; the
section must pass axe on a desktop and a phone, light and dark.
"""

from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect

from journeys.models import ProvisioningEvent, Sandbox
from tests.sandbox.provisioning_support import call, enable_provisioning, path_for

from .support import PASSWORD, axe_violations, horizontal_overflow, log_in

pytest_plugins = ["tests.k8s_emulator"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 375, "height": 812}
SECTION = "#my-sandbox"


@pytest.fixture
def cluster(kube_emulator, tmp_path, settings):
    settings.SANDBOX_RESET_WAIT = 2
    return enable_provisioning(kube_emulator, tmp_path, settings)


def audit(page, label):
    problems = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        problems += axe_violations(page, f"{label}, {scheme}", within=SECTION)
    page.emulate_media(color_scheme="light")
    return problems


def test_a_learner_creates_downloads_and_resets_their_sandbox(site, cluster, page, browser, browser_context_args):
    page.goto("/account/signup/")
    page.locator("#id_username").fill("ada")
    page.locator("#id_email").fill("ada@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".account-nav")).to_contain_text("ada")

    page.goto("/dashboard/")
    section = page.locator(SECTION)
    expect(section).to_contain_text("a namespace of your own")
    problems = audit(page, "desktop, no sandbox")

    section.get_by_role("button", name="Create my sandbox").click()
    expect(section.get_by_role("status")).to_contain_text("Your sandbox is ready")
    expect(section).to_contain_text("learn-ada")
    assert Sandbox.objects.get(user__username="ada").state == Sandbox.State.READY
    problems += audit(page, "desktop, ready")

    with page.expect_download() as download_info:
        section.get_by_role("link", name="Download kubeconfig").click()
    download = download_info.value
    assert download.suggested_filename == "kubeconfig-learn-ada.yaml"
    kubeconfig = yaml.safe_load(Path(download.path()).read_text(encoding="utf-8"))
    [context] = kubeconfig["contexts"]
    assert context["context"]["namespace"] == "learn-ada"
    token = kubeconfig["users"][0]["user"]["token"]
    assert call(cluster, token, "GET", path_for("ConfigMap", "learn-ada"))[0] == 200
    assert token not in page.content()

    section.get_by_role("link", name="Show the kubectl config commands instead").click()
    expect(section.locator(".my-sandbox__commands")).to_contain_text("kubectl config set-credentials learn-ada-learner")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    section.get_by_role("button", name="Copy this code to the clipboard").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.splitlines()[0].startswith("kubectl config set-cluster sandbox-learn-ada --server=")
    assert copied == section.locator(".my-sandbox__commands").inner_text().rstrip("\n")
    problems += audit(page, "desktop, commands")

    cluster.add({"kind": "ConfigMap", "metadata": {"name": "mine", "namespace": "learn-ada"}, "data": {}})
    section.get_by_text("Reset my sandbox", exact=True).click()
    section.get_by_role("button", name="Yes, reset my sandbox").click()
    expect(section.get_by_role("status")).to_contain_text("has been reset")
    assert cluster.get("ConfigMap", "mine", "learn-ada") is None
    assert ProvisioningEvent.objects.filter(action="reset", outcome="ok").count() == 1

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE}, is_mobile=True, has_touch=True)
    try:
        log_in(phone, page.url.split("/dashboard/")[0], Sandbox.objects.get().user)
        phone_page = phone.new_page()
        phone_page.goto(page.url.split("/dashboard/")[0] + "/dashboard/")
        phone_page.locator(SECTION).get_by_text("Delete my sandbox", exact=True).click()
        problems += audit(phone_page, "phone")
        overflow = horizontal_overflow(phone_page)
        assert overflow["excess"] <= 0, overflow["culprits"]
    finally:
        phone.close()
    assert not problems, "\n".join(problems)
