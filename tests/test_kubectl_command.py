"""kubectl commands compared by meaning, not by text."""

import pytest

from journeys.kubectl_command import CommandParseError, commands_match, parse_kubectl


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("kubectl get po -n shop -o wide", "kubectl get pods --output=wide --namespace shop"),
        ("kubectl -n shop get pods -owide", "kubectl get pods -o wide --namespace=shop"),
        ("kubectl get sts web", "kubectl get statefulset/web"),
        ("kubectl get statefulsets web", "kubectl get sts/web"),
        ("kubectl get deploy,svc", "kubectl get services,deployments"),
        ("kubectl describe deploy frontend", "kubectl describe deployment frontend"),
        ("kubectl scale deploy web --replicas=3", "kubectl scale --replicas 3 deployment/web"),
        (
            "kubectl run tmp --rm -it --image=busybox:1.36 -- sh",
            "kubectl run tmp -i -t --rm --image busybox:1.36 -- sh",
        ),
        (
            "kubectl get svc web -o jsonpath='{.spec.ports[0].nodePort}'",
            'kubectl get service web -o=jsonpath="{.spec.ports[0].nodePort}"',
        ),
        (
            "kubectl auth can-i list po --as=system:serviceaccount:a:b -n a",
            "kubectl auth can-i list pods -n a --as system:serviceaccount:a:b",
        ),
        ("kubectl create deploy web --image=nginx:1.27", "kubectl create deployment web --image nginx:1.27"),
        ("kubectl create job manual --from=cj/backup", "kubectl create job manual --from cronjob/backup"),
        ("kubectl top po -n shop", "kubectl top pods --namespace shop"),
        ("kubectl rollout status deploy/web", "kubectl rollout status deployment web"),
        ("kubectl apply -f web.yaml --dry-run", "kubectl apply --dry-run=client --filename web.yaml"),
        ("kubectl get pods -A", "kubectl get pods --all-namespaces"),
        ("kubectl get pods --watch=true", "kubectl get pods -w"),
        ("k config use-context prod", "kubectl config use-context prod"),
        ("$ kubectl get ns", "kubectl get namespaces"),
        (
            "kubectl get cj,ds,rs,pvc,sa,cm",
            "kubectl get configmaps,cronjobs,daemonsets,pvc,replicasets,serviceaccounts",
        ),
        ("kubectl get pods -l app=web", "kubectl get pods --selector app=web"),
    ],
)
def test_equivalent_commands_match(typed, accepted):
    assert commands_match(typed, accepted)


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("kubectl get pods -n shop", "kubectl get pods -n shop2"),
        ("kubectl get pods", "kubectl get pods -o wide"),
        ("kubectl get pods", "kubectl get services"),
        ("kubectl create job m --from=cronjob/backup", "kubectl create job m --from=cronjob/other"),
        ("kubectl apply -f a.yaml", "kubectl create -f a.yaml"),
        ("kubectl get pods web", "kubectl get pods api"),
        ("kubectl run tmp --image=busybox -- sh", "kubectl run tmp --image=busybox -- bash"),
    ],
)
def test_different_commands_do_not_match(typed, accepted):
    assert not commands_match(typed, accepted)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ls -la", "should start with kubectl"),
        ('kubectl get pods -l "app=web', "check your quotes"),
        ("", "Type a kubectl command"),
        ("kubectl get pods -n", "needs a value"),
        ("kubectl", "no subcommand"),
        ("kubectl get " + "x" * 600, "longer than"),
    ],
)
def test_unreadable_commands_explain_why(text, reason):
    with pytest.raises(CommandParseError, match=reason):
        parse_kubectl(text)


def test_canonical_form_is_readable():
    assert str(parse_kubectl("kubectl get po -n shop -o wide")) == "kubectl get pods --namespace=shop --output=wide"
