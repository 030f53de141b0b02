"""The portal's ClusterRole grants exactly what the checks read: get/list on those kinds, get on namespaces."""

from pathlib import Path

import yaml
from django.conf import settings

from journeys.sandbox.labs import LABS, kinds_for
from journeys.sandbox.sources import ENDPOINTS

MANIFEST = Path(settings.BASE_DIR) / "deploy" / "rbac" / "sandbox-reader.yaml"


def cluster_role_grants():
    [role] = [doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc and doc["kind"] == "ClusterRole"]
    grants = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants.setdefault((group, resource), set()).update(rule["verbs"])
    return grants


def needed_grants():
    """Derived from the code: every kind any lab lists, plus reading the namespace itself."""
    needed = {("", "namespaces"): {"get"}}
    for lab in LABS.values():
        for kind in kinds_for(lab):
            endpoint = ENDPOINTS[kind]
            needed[(endpoint.group, endpoint.plural)] = {"get", "list"}
    return needed


def test_manifest_grants_every_kind_the_checks_read():
    grants, needed = cluster_role_grants(), needed_grants()
    lacking = {key: verbs - grants.get(key, set()) for key, verbs in needed.items() if verbs - grants.get(key, set())}
    assert not lacking, f"the ClusterRole lacks {lacking}"


def test_manifest_grants_nothing_more():
    grants, needed = cluster_role_grants(), needed_grants()
    extra = {key: verbs - needed.get(key, set()) for key, verbs in grants.items() if verbs - needed.get(key, set())}
    assert not extra, f"the ClusterRole grants more than the checks need: {extra}"
    assert ("", "secrets") not in grants
    assert not any("*" in group or "*" in resource for group, resource in grants)
    assert all(verbs <= {"get", "list"} for verbs in grants.values())
