"""Shared by the provisioning tests: a cluster that holds the shipped RBAC manifests, and requests
made with a given token straight over HTTP (to see exactly what the API server answers)."""

import json
from pathlib import Path

import urllib3
import yaml
from django.conf import settings

from journeys.sandbox.provisioning import ProvisionerSettings

RBAC_DIR = Path(settings.BASE_DIR) / "deploy" / "rbac"
LEARNER_MANIFEST = RBAC_DIR / "sandbox-learner.yaml"
PROVISIONER_MANIFEST = RBAC_DIR / "sandbox-provisioner.yaml"
POLICY_MANIFEST = RBAC_DIR / "sandbox-provisioner-policy.yaml"
LEARNER_POLICY_MANIFEST = RBAC_DIR / "sandbox-learner-policy.yaml"
PROVISIONER_TOKEN = "provisioner-token"
PROVISIONER_USER = "system:serviceaccount:kube-journeys:kube-journeys-provisioner"


def manifest_documents(path):
    return [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document]


def load_rbac(emulator):
    """Every manifest of deploy/rbac for provisioning, as `kubectl apply` would leave them, and the provisioner's token.

    The admission policies are in force from here on, for every identity, as in a cluster that applied them.
    """
    emulator.add_namespace("kube-journeys")
    for path in (LEARNER_MANIFEST, PROVISIONER_MANIFEST, POLICY_MANIFEST, LEARNER_POLICY_MANIFEST):
        emulator.add_many(manifest_documents(path))
    emulator.add_token(
        PROVISIONER_TOKEN,
        PROVISIONER_USER,
        ("system:serviceaccounts", "system:serviceaccounts:kube-journeys", "system:authenticated"),
    )


def provisioner_settings(emulator, tmp_path, **overrides):
    path = emulator.write_kubeconfig(tmp_path / "provisioner", token=PROVISIONER_TOKEN)
    values = {"kubeconfig": str(path), "reset_wait": 0.3, "quota": {"pods": "40"}, "limits": {"max": {"cpu": "2"}}}
    return ProvisionerSettings(**(values | overrides))


def path_for(kind, namespace=None, name=None, subresource=None):
    # Imported here: importing the emulator before pytest registers it as a plugin costs it assertion rewriting.
    from tests.k8s_emulator import RESOURCES

    [resource] = [resource for resource in RESOURCES if resource.kind == kind]
    prefix = f"/apis/{resource.group}/{resource.version}" if resource.group else f"/api/{resource.version}"
    parts = [prefix]
    if resource.namespaced and namespace:
        parts.append(f"namespaces/{namespace}")
    parts.append(resource.plural)
    if name:
        parts.append(name)
    if subresource:
        parts.append(subresource)
    return "/".join(parts)


def call(emulator, token, method, path, body=None, *, content_type="application/json", acting_as=None):
    """(status, parsed answer) of one request made with ``token`` (impersonating ``acting_as``, if given)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    if acting_as:
        headers["Impersonate-User"] = acting_as
    response = urllib3.request(
        method,
        emulator.url + path,
        body=None if body is None else json.dumps(body),
        headers=headers,
        retries=False,
        timeout=5,
    )
    return response.status, response.json()


def enable_provisioning(emulator, tmp_path, settings):
    """The portal's settings turned to provision on ``emulator`` (holding the shipped RBAC), as a team would."""
    load_rbac(emulator)
    settings.SANDBOX_PROVISIONING = True
    settings.SANDBOX_PROVISIONER_KUBECONFIG = str(
        emulator.write_kubeconfig(tmp_path / "provisioner", token=PROVISIONER_TOKEN)
    )
    settings.SANDBOX_NAMESPACE_TEMPLATE = "learn-{username}"
    return emulator
