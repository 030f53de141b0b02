"""kubectl commands compared by meaning, not by text."""

import pytest

from journeys.kubectl_command import (
    CommandParseError,
    canonical_selector,
    commands_match,
    parse_accepted_command,
    parse_kubectl,
    unknown_to_kubectl,
)


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


# Answers a learner typed that kubectl reads as the accepted command, and that an earlier parser refused.
SAME_REQUEST = {
    "group-qualified type/name": ("kubectl get statefulset.apps/web", "kubectl get sts web"),
    "plural group-qualified type": ("kubectl get statefulsets.apps web", "kubectl get statefulset/web"),
    "type.version.group": ("kubectl get statefulsets.v1.apps/web", "kubectl get sts/web"),
    "group-qualified list of types": ("kubectl get deployments.apps,svc", "kubectl get services,deploy"),
    "kind name in capitals": ("kubectl get StatefulSet web", "kubectl get sts web"),
    "./ before a file name": ("kubectl apply -f ./web.yaml", "kubectl apply -f web.yaml"),
    "--filename= and -f": ("kubectl apply --filename=web.yaml", "kubectl apply -f web.yaml"),
    "doubled slash and trailing slash": (
        "kubectl apply -f manifests//web.yaml -k ./base/",
        "kubectl apply -k base -f manifests/web.yaml",
    ),
    "comma-separated files": ("kubectl apply -f a.yaml,b.yaml", "kubectl apply -f b.yaml -f a.yaml"),
    "config use (alias of use-context)": ("kubectl config use prod", "kubectl config use-context prod"),
    "logs -p is --previous": ("kubectl logs web-0 -p", "kubectl logs web-0 --previous"),
    "logs -f is --follow": ("kubectl logs -f web-0", "kubectl logs web-0 --follow"),
    "--prefix takes no value": ("kubectl logs --prefix web-0 -n shop", "kubectl logs web-0 --prefix -n shop"),
    "--prefix=true": ("kubectl logs --prefix=true web-0", "kubectl logs web-0 --prefix"),
    "pod/NAME for logs": ("kubectl logs pod/web-0", "kubectl logs web-0"),
    "view-last-applied with type and name": (
        "kubectl apply view-last-applied deployments web -n shop",
        "kubectl apply view-last-applied deployment/web -n shop",
    ),
    "selector terms in another order": ("kubectl get pods -l app=web,tier=fe", "kubectl get pods -l tier=fe,app=web"),
    "set-based selector terms": (
        "kubectl get pods -l 'env in (qa, prod),!canary,tier!=fe,release'",
        "kubectl get pods --selector='release, tier!=fe, !canary, env in (prod,qa)'",
    ),
    "== in a selector": ("kubectl get pods -l app==web", "kubectl get pods -l app=web"),
    "in with one value is =": ("kubectl get pods -l 'app in (web)'", "kubectl get pods -l app=web"),
    "field selector terms in another order": (
        "kubectl get pods --field-selector status.phase=Running,spec.nodeName==n1",
        "kubectl get pods --field-selector=spec.nodeName=n1,status.phase=Running",
    ),
    "create deployment -r is --replicas": (
        "kubectl create deployment web --image=nginx:1.27 -r 2",
        "kubectl create deployment web --image nginx:1.27 --replicas=2",
    ),
    "create deploy (alias)": ("kubectl create deploy web --image=nginx", "kubectl create deployment web --image=nginx"),
    "top pods (alias of top pod)": ("kubectl top pods -n shop", "kubectl top pod -n shop"),
    "boolean =false is the default": ("kubectl get pods --watch=false", "kubectl get pods"),
    "boolean default true": ("kubectl get pods --server-print=true", "kubectl get pods"),
    "boolean =1 and -w=true": ("kubectl get pods --watch=1", "kubectl get pods -w=true"),
    "--dry-run=none is the default": ("kubectl apply -f web.yaml --dry-run=none", "kubectl apply -f web.yaml"),
    "--dry-run=true is client": (
        "kubectl apply -f web.yaml --dry-run=true",
        "kubectl apply -f web.yaml --dry-run=client",
    ),
    "--validate=true is strict": ("kubectl apply -f web.yaml --validate=true", "kubectl apply -f web.yaml"),
    "cascade bare": ("kubectl delete deploy web --cascade", "kubectl delete deployment web"),
    "patch -p is --patch": (
        "kubectl patch deploy web -p '{\"a\":1}'",
        "kubectl patch deployment/web --patch='{\"a\":1}'",
    ),
    "global flag before the command": (
        "kubectl -n shop logs -p web-0",
        "kubectl logs web-0 --previous --namespace=shop",
    ),
    "a value flag given twice: the last counts": ("kubectl get pods -n a -n shop", "kubectl get pods -n shop"),
    "get --raw takes a value": ("kubectl get --raw /apis/batch/v1", "kubectl get --raw=/apis/batch/v1"),
    "label terms in another order": ("kubectl label pods web b=2 a=1", "kubectl label pod/web a=1 b=2"),
    "set image with type and name": (
        "kubectl set image deploy web web=nginx:1.27",
        "kubectl set image deployment/web web=nginx:1.27",
    ),
    "short flags clustered and -o=": (
        "kubectl exec -ti web -c app -- sh",
        "kubectl exec web -i -t --container=app -- sh",
    ),
    "pasted from Markdown": ("`kubectl get pods`", "kubectl get pods"),
}


@pytest.mark.parametrize(("typed", "accepted"), SAME_REQUEST.values(), ids=SAME_REQUEST.keys())
def test_same_request_written_differently_matches(typed, accepted):
    assert parse_kubectl(typed) == parse_kubectl(accepted), f"{parse_kubectl(typed)} != {parse_kubectl(accepted)}"


# Answers that look close to the accepted command but ask kubectl for something else.
DIFFERENT_REQUEST = {
    "another group": ("kubectl get statefulset.batch/web", "kubectl get sts web"),
    "another version": ("kubectl get statefulsets.v1beta1.apps web", "kubectl get sts web"),
    "another directory": ("kubectl apply -f dir/web.yaml", "kubectl apply -f web.yaml"),
    "an absolute path": ("kubectl apply -f /web.yaml", "kubectl apply -f web.yaml"),
    "another file": ("kubectl apply -f web.yml", "kubectl apply -f web.yaml"),
    "another context": ("kubectl config use prod", "kubectl config use-context dev"),
    "another config subcommand": ("kubectl config set-context prod", "kubectl config use-context prod"),
    "without --previous": ("kubectl logs web-0", "kubectl logs web-0 -p"),
    "--prefix=false": ("kubectl logs --prefix=false web-0", "kubectl logs --prefix web-0"),
    "logs of another pod": ("kubectl logs --prefix web-1", "kubectl logs --prefix web-0"),
    "logs of a deployment": ("kubectl logs deploy/web", "kubectl logs web"),
    "!= instead of =": ("kubectl get pods -l app!=web", "kubectl get pods -l app=web"),
    "a missing selector term": ("kubectl get pods -l app=web", "kubectl get pods -l app=web,tier=fe"),
    "notin instead of in": ("kubectl get pods -l 'env notin (a,b)'", "kubectl get pods -l 'env in (a,b)'"),
    "!key instead of key": ("kubectl get pods -l '!canary'", "kubectl get pods -l canary"),
    "another replica count": (
        "kubectl create deployment web --image=nginx -r 3",
        "kubectl create deployment web --image=nginx -r 2",
    ),
    "another namespace": ("kubectl get pods -n shop", "kubectl get pods -n default"),
    "no namespace is not default": ("kubectl get pods", "kubectl get pods -n default"),
    "another output format": ("kubectl get pods -o yaml", "kubectl get pods -o json"),
    "another name": ("kubectl get sts web", "kubectl get sts db"),
    "boolean on": ("kubectl get pods --watch=true", "kubectl get pods"),
    "--server-print=false": ("kubectl get pods --server-print=false", "kubectl get pods"),
    "--dry-run=server": ("kubectl apply -f web.yaml --dry-run=server", "kubectl apply -f web.yaml --dry-run=client"),
    "--validate=false": ("kubectl apply -f web.yaml --validate=false", "kubectl apply -f web.yaml"),
    "--cascade=orphan": ("kubectl delete deploy web --cascade=orphan", "kubectl delete deploy web"),
    "patch -p vs logs -p": ("kubectl patch deploy web -p x", "kubectl patch deploy web"),
    "another label value": ("kubectl label pods web a=1", "kubectl label pods web a=2"),
    "another command in the container": ("kubectl exec web -- ls", "kubectl exec web -- ls /"),
}


@pytest.mark.parametrize(("typed", "accepted"), DIFFERENT_REQUEST.values(), ids=DIFFERENT_REQUEST.keys())
def test_different_request_does_not_match(typed, accepted):
    assert parse_kubectl(typed) != parse_kubectl(accepted)


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
        ("kubectl logs web --tail", "needs a value"),
        ("kubectl get pods -o", "needs a value"),
        ("kubectl get pods --watch=yes", "true or false"),
    ],
)
def test_unreadable_commands_explain_why(text, reason):
    with pytest.raises(CommandParseError, match=reason):
        parse_kubectl(text)


def test_canonical_form_is_readable():
    assert str(parse_kubectl("kubectl get po -n shop -o wide")) == "kubectl get pods --namespace=shop --output=wide"


def test_the_command_path_is_found_past_flags_as_kubectl_finds_it():
    command = parse_kubectl("kubectl -n shop --context prod create -r 2 deployment web --image=nginx")
    assert command.command == ("create", "deployment")
    assert str(command) == ("kubectl create deployment web --context=prod --image=nginx --namespace=shop --replicas=2")


def test_an_unknown_command_or_flag_is_kept_and_named():
    typo = parse_kubectl("kubectl gte pods")
    assert typo.command == () and unknown_to_kubectl(typo).startswith("kubectl (v1.")
    assert "has no command 'gte'" in unknown_to_kubectl(typo)
    command = parse_kubectl("kubectl describe pods -o wide --frobnicate x")
    assert command.unknown_flags == ("-o", "--frobnicate")
    assert "kubectl describe" in unknown_to_kubectl(command) and "-o, --frobnicate" in unknown_to_kubectl(command)
    with pytest.raises(CommandParseError, match="has no flag --record"):
        parse_accepted_command("kubectl apply -f web.yaml --record")


@pytest.mark.parametrize(
    ("selector", "canonical"),
    [
        ("tier=fe, app=web", "app=web,tier=fe"),
        ("env in (b, a,a)", "env in (a,b)"),
        ("env notin (a)", "env!=a"),
        ("! canary", "!canary"),
        ("app=", "app="),
        ("a=(", "a=("),  # not a selector: kept as typed
    ],
)
def test_selectors_are_written_one_way(selector, canonical):
    assert canonical_selector(selector) == canonical
