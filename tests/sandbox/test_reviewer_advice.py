"""The reviewer's advice reads as a reviewer writes it: the object and container named once, field
names as code, and image advice about the learner's own image with a tag that exists."""

import pytest

from journeys.sandbox import texts
from journeys.sandbox.checks.advisories import image_advice, pinned_example, workload_advisories
from journeys.sandbox.labs import LABS
from journeys.sandbox.report import LabReport
from journeys.sandbox.reviewer import advice_groups
from journeys.sandbox.snapshot import Snapshot


def deployment(*containers, name="api", **pod):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {"template": {"spec": {"containers": list(containers), **pod}}},
    }


def advice_for(workload):
    return workload_advisories(Snapshot([workload]), workload)


def by_id(advice):
    return {item.id: item for item in advice}


@pytest.mark.parametrize(
    ("image", "example"),
    [
        ("busybox", "busybox:1.36"),
        ("busybox:latest", "busybox:1.36"),
        ("docker.io/library/busybox", "docker.io/library/busybox:1.36"),
        ("nginx", "nginx:1.27"),
        ("library/perl:latest", "library/perl:5.40"),
        ("nginxinc/nginx-unprivileged", "nginxinc/nginx-unprivileged:1.27"),
        # Somebody's own image of a familiar name: its tags are theirs, not Docker Hub's.
        ("registry.example.com/team/busybox", None),
        ("localhost:5000/app:latest", None),
        ("shop/frontend", None),
    ],
)
def test_a_pin_is_suggested_only_with_a_tag_the_image_really_has(image, example):
    assert pinned_example(image) == example


def test_image_advice_names_the_learners_image():
    busybox = image_advice("busybox")
    assert busybox.startswith("`busybox` has no tag, so it means `:latest`")
    assert "pin a version, such as `busybox:1.36`" in busybox and "nginx" not in busybox
    assert "`imagePullPolicy` default to `Always`" in busybox
    assert image_advice("nginx:latest").startswith("`nginx:latest` is a moving tag")
    unknown = image_advice("registry.example.com/shop/frontend:latest")
    assert "pin a specific tag or digest of `registry.example.com/shop/frontend`" in unknown
    assert "such as" not in unknown
    assert image_advice("") == "No `image` set: give it one with a specific tag or digest."


def test_no_line_repeats_the_object_or_the_container():
    advice = advice_for(deployment({"name": "web", "image": "busybox"}, name="api"))
    assert {"image-tag", "readiness-probe", "liveness-probe", "resources", "run-as-non-root"} <= set(by_id(advice))
    for item in advice:
        assert "Deployment" not in item.message and " api" not in item.message and "web" not in item.message
        assert item.object in {"Deployment api", "Deployment api, container web"}


def test_field_names_and_values_are_code():
    messages = by_id(advice_for(deployment({"name": "web", "image": "busybox:1.36"})))
    assert messages["readiness-probe"].message.startswith("No `readinessProbe`")
    assert messages["liveness-probe"].message.startswith("No `livenessProbe`")
    assert messages["resources"].message.startswith(
        "No `resources.requests.cpu`, `resources.requests.memory` or `resources.limits.memory`: set them"
    )
    assert "`securityContext.runAsNonRoot: true`" in messages["run-as-non-root"].message
    assert "`securityContext.allowPrivilegeEscalation: false`" in messages["allow-privilege-escalation"].message
    assert "`securityContext.readOnlyRootFilesystem: true`" in messages["read-only-root-filesystem"].message
    assert "`automountServiceAccountToken: false`" in messages["token-automount"].message
    assert "`default`" in messages["token-automount"].message


def test_one_missing_resource_is_named_alone():
    container = {"name": "web", "image": "busybox:1.36", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}
    message = by_id(advice_for(deployment(container)))["resources"].message
    assert message.startswith("No `resources.limits.memory`: set it so")


def test_advice_is_grouped_per_object_then_per_container():
    workload = deployment(
        {"name": "web", "image": "busybox"},
        {"name": "side", "image": "nginx:1.27"},
        initContainers=[{"name": "setup", "image": "busybox:1.36"}],
    )
    groups = advice_groups(advice_for(workload))
    [api] = groups.objects
    assert (api.kind, api.name) == ("Deployment", "api")
    assert [(item.kind, item.name) for item in api.containers] == [
        ("container", "web"),
        ("container", "side"),
        ("init container", "setup"),
    ]
    assert [point for point in api.points if "automountServiceAccountToken" in point]
    web = api.containers[0]
    assert any("`busybox:1.36`" in point for point in web.points)
    assert not any("image" in point.lower() and "pin" in point for point in api.containers[1].points)
    assert groups.notes == []


def test_a_stored_report_groups_the_same_as_a_fresh_one():
    report = LabReport(
        lab="healthy-app",
        namespace="team-a",
        source="file",
        advisories=advice_for(deployment({"name": "web", "image": "busybox"})),
    )
    stored = report.as_dict()
    assert set(stored["advisories"][0]) == {"id", "status", "message", "object"}
    assert advice_groups(stored["advisories"]) == advice_groups(report.advisories)


def test_odd_stored_advice_never_breaks_the_page():
    groups = advice_groups([{"id": "more-advice", "message": "… and more."}, {"message": "x", "object": "Pod"}])
    assert groups.notes == ["… and more."] and groups.objects[0].points == ["x"]
    assert advice_groups(None).objects == [] and advice_groups({"not": "a list"}).objects == []


@pytest.mark.parametrize("slug", sorted(LABS))
def test_every_reference_solution_is_highlighted_like_a_lesson_block(slug):
    lab = LABS[slug]
    html = texts.solution_html(lab)
    if not texts.solution_text(lab):
        pytest.skip("this lab has no reference solution")
    # site.js gives every .highlight block its copy button, lesson or lab alike.
    assert html.startswith('<div class="highlight"><pre><span></span><code>')
    assert '<span class="' in html


def test_the_resources_advice_gives_the_reason_of_what_is_missing():
    def message(resources):
        container = {"name": "web", "image": "busybox:1.36", "resources": resources}
        return by_id(advice_for(deployment(container)))["resources"].message

    only_limit = message({"requests": {"cpu": "100m", "memory": "64Mi"}})
    assert only_limit.endswith("so a memory leak cannot starve the rest of the node.")
    assert "scheduler" not in only_limit
    only_requests = message({"limits": {"memory": "64Mi"}})
    assert only_requests.startswith("No `resources.requests.cpu` or `resources.requests.memory`: set them")
    assert only_requests.endswith("so the scheduler reserves room for it on a node.")
