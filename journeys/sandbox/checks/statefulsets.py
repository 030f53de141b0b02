"""Lab stateful-web: StatefulSet web, 3 replicas, serviceName web, headless Service web, volumeClaimTemplate www."""

from .common import (
    containers,
    describe_labels,
    described,
    exists_check,
    listing,
    missing,
    pod_ready,
    pod_spec,
    pod_template_labels,
    requires,
    result,
    selector_matches,
    spec,
    status,
)

LESSON = "statefulsets"
LAB = f"{LESSON}#lab-stateful-web"
NAME = "web"


statefulset_exists = exists_check(
    "statefulset-exists",
    "StatefulSet",
    NAME,
    hint="Create it with `kubectl apply -f` on a manifest whose kind is StatefulSet and metadata.name is web.",
    teaches=f"{LESSON}#sticky-identity",
)


@requires("StatefulSet", NAME, "replicas", "Three replicas", teaches=LAB, looks_for="`spec.replicas: 3`")
def replicas(snapshot, found):
    count = spec(found).get("replicas", 1)
    return result(
        "replicas", "Three replicas", count == 3, expected="spec.replicas: 3", actual=f"spec.replicas: {count}",
        hint="Set spec.replicas to 3 in your manifest and apply it again.", teaches=LAB,
    )  # fmt: skip


@requires(
    "StatefulSet", NAME, "service-name", "serviceName is web", teaches=LAB,
    looks_for="`spec.serviceName: web`, the headless Service that names the Pods",
)  # fmt: skip
def service_name(snapshot, found):
    value = spec(found).get("serviceName") or "(not set)"
    return result(
        "service-name", "serviceName is web", value == NAME, expected="spec.serviceName: web", actual=f"spec.serviceName: {value}",
        hint="spec.serviceName names the headless Service that gives each Pod its DNS name; set it to web. "
        "It cannot be changed on an existing StatefulSet: delete and re-create it.",
        teaches=f"{LESSON}#stable-network-identity",
    )  # fmt: skip


@requires(
    "Service",
    NAME,
    "headless-service",
    "Headless Service web",
    teaches=f"{LESSON}#stable-network-identity",
    hint="Create a Service named web with spec.clusterIP: None.",
    looks_for="a Service named `web` with `clusterIP: None`",
)
def headless_service(snapshot, found):
    cluster_ip = spec(found).get("clusterIP")
    return result(
        "headless-service", "Headless Service web", cluster_ip == "None",
        expected="spec.clusterIP: None", actual=f"spec.clusterIP: {cluster_ip or '(not set)'}",
        hint="A Service gets a virtual IP unless spec.clusterIP is None, and that field cannot be changed later: "
        "delete the Service and apply it again with clusterIP: None.",
        teaches=f"{LESSON}#stable-network-identity",
    )  # fmt: skip


@described(
    "service-selects-pods", "The Service selects the StatefulSet's Pods",
    "the selector of Service `web` matches the labels of the StatefulSet's pod template",
)  # fmt: skip
def service_selects_pods(snapshot):
    service, statefulset = snapshot.get("Service", NAME), snapshot.get("StatefulSet", NAME)
    if service is None or statefulset is None:
        return missing(
            "service-selects-pods", "The Service selects the StatefulSet's Pods", "Service and StatefulSet", NAME,
            hint="Create both the Service web and the StatefulSet web.", teaches=f"{LESSON}#stable-network-identity",
        )  # fmt: skip
    selector, labels = spec(service).get("selector") or {}, pod_template_labels(statefulset)
    return result(
        "service-selects-pods", "The Service selects the StatefulSet's Pods", selector_matches(selector, labels, plain=True),
        expected=f"the Service selector ({describe_labels(selector)}) matches the Pod labels",
        actual=f"Pod template labels: {describe_labels(labels)}",
        hint="Make spec.selector of the Service equal to labels in spec.template.metadata.labels of the StatefulSet.",
        teaches=f"{LESSON}#stable-network-identity",
    )  # fmt: skip


@requires(
    "StatefulSet", NAME, "volume-claim-template", "volumeClaimTemplate www", teaches=LAB,
    looks_for="a volumeClaimTemplate named `www`, so each Pod gets its own claim",
)  # fmt: skip
def volume_claim_template(snapshot, found):
    names = [(template.get("metadata") or {}).get("name") for template in spec(found).get("volumeClaimTemplates") or []]
    return result(
        "volume-claim-template", "volumeClaimTemplate www", "www" in names,
        expected="a volumeClaimTemplate named www", actual=f"volumeClaimTemplates: {listing(names, ', ') or 'none'}",
        hint="Add spec.volumeClaimTemplates with metadata.name: www; each Pod then gets its own claim, www-web-0 and so on. "
        "The API server refuses changes to volumeClaimTemplates of an existing StatefulSet: delete it and apply it again.",
        teaches=f"{LESSON}#stable-storage",
    )  # fmt: skip


@requires(
    "StatefulSet", NAME, "volume-mounted", "The volume www is mounted", teaches=LAB,
    looks_for="a container with a volumeMount named `www`",
)  # fmt: skip
def volume_mounted(snapshot, found):
    mounts = [
        f"{container.get('name')} at {mount.get('mountPath')}"
        for container, _ in containers(pod_spec(found), init=False)
        for mount in container.get("volumeMounts") or []
        if mount.get("name") == "www"
    ]
    return result(
        "volume-mounted", "The volume www is mounted", bool(mounts),
        expected="a container with a volumeMount named www", actual=f"mounted by {listing(mounts, ', ')}" if mounts else "no container mounts www",
        hint="Under the container add volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]; a claim that is "
        "not mounted keeps nothing.",
        teaches=f"{LESSON}#stable-storage",
    )  # fmt: skip


@requires(
    "StatefulSet", NAME, "pods-ready", "web-0, web-1 and web-2 are Ready", teaches=LAB,
    looks_for="the Pods `web-0`, `web-1` and `web-2` all Ready (read from the cluster or your `kubectl get` output)",
)  # fmt: skip
def pods_ready(snapshot, found):
    ready = status(found).get("readyReplicas", 0)
    pods = {pod["metadata"]["name"]: pod for pod in snapshot.owned_by("Pod", found)}
    # Pods in the paste say more than the StatefulSet's counter, which lags behind a Pod that just failed.
    not_ready = [
        name for name in (f"{NAME}-{index}" for index in range(3)) if name in pods and not pod_ready(pods[name])
    ]
    missing_pods = [f"{NAME}-{index}" for index in range(3) if pods and f"{NAME}-{index}" not in pods]
    passed = ready >= 3 and not not_ready and not missing_pods
    if not_ready or missing_pods:
        actual = "; ".join(
            part for part in (
                f"not Ready: {', '.join(not_ready)}" if not_ready else "",
                f"no Pod {', '.join(missing_pods)}" if missing_pods else "",
            ) if part
        )  # fmt: skip
    else:
        actual = f"{ready} of 3 Ready"
    return result(
        "pods-ready", "web-0, web-1 and web-2 are Ready", passed,
        expected="3 Ready Pods (web-0, web-1, web-2)", actual=actual,
        hint="Pods start one at a time, each after the one before is Ready. If one stays Pending, `kubectl describe pod "
        "web-0` usually shows a claim waiting for storage: your cluster may need a default StorageClass.",
        teaches=f"{LESSON}#ordered-operations",
    )  # fmt: skip


CHECKS = [
    statefulset_exists,
    replicas,
    service_name,
    headless_service,
    service_selects_pods,
    volume_claim_template,
    volume_mounted,
    pods_ready,
]
WORKLOADS = [("StatefulSet", NAME)]
