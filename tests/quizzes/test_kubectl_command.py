"""kubectl commands compared by meaning, not by text."""

import pytest

from journeys.quizzes.grading import QuestionSpec, grade_question
from journeys.quizzes.kubectl_command import (
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


# --- Read as kubectl reads it: found by an attack on the grading, checked against kubectl 1.37 ----------
# "The same request" below was checked by pointing kubectl at a recording API server and comparing the
# requests it sent and what it printed (tests/test_kubectl_requests.py does so again where kubectl is found).


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        # cobra matches command words as written: `kubectl GET pods` -> unknown command "GET".
        ("kubectl GET pods -l app=web -n shop", "kubectl get pods -l app=web -n shop"),
        ("kubectl Get pods -l app=web -n shop", "kubectl get pods -l app=web -n shop"),
        ("kubectl CONFIG USE-CONTEXT prod", "kubectl config use-context prod"),
        ("kubectl config USE prod", "kubectl config use-context prod"),
        ("kubectl top PO -n shop", "kubectl top pods -n shop"),
        ("kubectl create DEPLOY web --image=nginx", "kubectl create deployment web --image=nginx"),
    ],
)
def test_command_words_in_the_wrong_case_are_refused(typed, accepted):
    assert not commands_match(typed, accepted)
    assert unknown_to_kubectl(parse_kubectl(typed)) or parse_kubectl(typed).command != parse_kubectl(accepted).command


def test_can_i_with_an_uppercase_verb_is_refused():
    # kubectl sends the verb as typed (a SelfSubjectAccessReview with verb "LIST") and RBAC compares
    # verbs exactly, so a role that allows list answers no.
    accepted = "kubectl auth can-i list pods --as=system:serviceaccount:team-a:reporter -n team-a"
    typed = "kubectl auth can-i LIST pods --as=system:serviceaccount:team-a:reporter -n team-a"
    assert not commands_match(typed, accepted)


@pytest.mark.parametrize(
    ("typed", "accepted", "same"),
    [
        # can-i lower-cases the resource before it looks it up (cani.go resourceFor): resource "pods" is sent.
        ("kubectl auth can-i list PO -n a", "kubectl auth can-i list pods -n a", True),
        ("kubectl auth can-i list Deployments.APPS -n a", "kubectl auth can-i list deployments.apps -n a", True),
        ("kubectl auth can-i get pods/LOG -n a", "kubectl auth can-i get pods/log -n a", False),  # subresource as typed
        ("kubectl auth can-i get /HEALTHZ", "kubectl auth can-i get /healthz", False),
    ],
)
def test_can_i_reads_its_resource_as_kubectl_does(typed, accepted, same):
    assert commands_match(typed, accepted) is same


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("kubectl get PO -n shop", "kubectl get pods -n shop"),
        ("kubectl get Po -n shop", "kubectl get pods -n shop"),
        ("kubectl describe QUOTA team-quota -n shop", "kubectl describe resourcequota team-quota -n shop"),
        ("kubectl get deployment.APPS api -n shop", "kubectl get deployment api -n shop"),
        ("kubectl get DEPLOY.apps api -n shop", "kubectl get deployment api -n shop"),
        ("kubectl get deployments.V1.apps api -n shop", "kubectl get deployment api -n shop"),
        ("kubectl get ALL -n shop", "kubectl get all -n shop"),
        ("kubectl logs PO/web-0", "kubectl logs web-0"),
        ("kubectl explain DEPLOY.spec", "kubectl explain deployments.spec"),
        ("kubectl create role r --verb=get --resource=PO", "kubectl create role r --verb=get --resource=pods"),
        (
            "kubectl create job backup-manual-1 --from=CJ/backup -n ops",
            "kubectl create job backup-manual-1 --from=cronjob/backup -n ops",
        ),
    ],
)
def test_short_names_and_groups_in_the_wrong_case_are_refused(typed, accepted):
    # kubectl: `error: the server doesn't have a resource type "PO"`, `... "deployment" in group "APPS"`.
    assert not commands_match(typed, accepted)


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        # Plural names and kinds (the singular) are matched in any case, and a short name may take a group.
        ("kubectl get PODS -n shop", "kubectl get pods -n shop"),
        ("kubectl get Pod -n shop", "kubectl get po -n shop"),
        ("kubectl get DEPLOYMENTS.apps api -n shop", "kubectl get deploy api -n shop"),
        ("kubectl get Deployment.v1.apps api -n shop", "kubectl get deploy api -n shop"),
        ("kubectl get deploy.apps -n shop", "kubectl get deployments -n shop"),
        ("kubectl describe ResourceQuota team-quota -n shop", "kubectl describe quota team-quota -n shop"),
        ("kubectl create job m --from=CronJob/backup", "kubectl create job m --from=cj/backup"),
        ("kubectl create role r --verb=get --resource=Pod", "kubectl create role r --verb=get --resource=po"),
        ("kubectl explain Deployment.spec", "kubectl explain deploy.spec"),
    ],
)
def test_plural_names_and_kinds_match_in_any_case(typed, accepted):
    assert commands_match(typed, accepted)


def test_a_file_named_dash_is_not_standard_input():
    assert not commands_match("kubectl apply -f ./-", "kubectl apply -f -")
    assert commands_match("kubectl apply --filename=-", "kubectl apply -f -")
    assert commands_match("kubectl apply -f ./-", "kubectl apply -f .//-")
    assert commands_match("kubectl apply -k ./-", "kubectl apply -k -")  # -k names a folder: never stdin


@pytest.mark.parametrize(
    ("typed", "accepted", "same"),
    [
        # `--force` alone means `--grace-period=0` (both send gracePeriodSeconds 0).
        (
            "kubectl delete pod example-1 --force -n shop",
            "kubectl delete pod example-1 --grace-period=0 --force -n shop",
            True,
        ),
        ("kubectl delete pod web --force --grace-period=-1", "kubectl delete pod web --force", True),
        # Without --force, 0 means 1, as --now does (all send gracePeriodSeconds 1).
        ("kubectl delete pod web --grace-period=0", "kubectl delete pod web --grace-period=1", True),
        ("kubectl delete pod web --now", "kubectl delete pod web --grace-period=1", True),
        ("kubectl delete pod web --force=false --grace-period=0", "kubectl delete pod web --now", True),
        ("kubectl delete pod web --grace-period=-1", "kubectl delete pod web", True),
        ("kubectl delete pod web --grace-period=0", "kubectl delete pod web --grace-period=0 --force", False),
        ("kubectl delete pod web --grace-period=5", "kubectl delete pod web", False),
        # Refused by kubectl ("--force and --grace-period greater than 0 cannot be specified together").
        ("kubectl delete pod web --force --grace-period=5", "kubectl delete pod web --force", False),
        ("kubectl delete pod web --force --now", "kubectl delete pod web --force", False),
    ],
)
def test_delete_reads_force_and_grace_period_as_kubectl_does(typed, accepted, same):
    assert commands_match(typed, accepted) is same


def test_force_delete_without_grace_period_zero_is_accepted():
    question = QuestionSpec(
        id=1, kind="kubectl", accepted_answers=("kubectl delete pod example-1 --grace-period=0 --force -n shop",)
    )
    assert grade_question(question, "kubectl delete pod example-1 --force -n shop").correct


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        # Defaults from each command's own help: apply view-last-applied -o 'yaml', explain -o 'plaintext' ...
        (
            "kubectl apply view-last-applied deployment/web -n shop -o yaml",
            "kubectl apply view-last-applied deployment/web -n shop",
        ),
        ("kubectl explain deployment.spec.strategy --output=plaintext", "kubectl explain deployment.spec.strategy"),
        (
            "kubectl create deployment web --image=nginx:1.27 --replicas=1 --dry-run=client -o yaml",
            "kubectl create deployment web --image=nginx:1.27 --dry-run=client -o yaml",
        ),
        ("kubectl config view -o yaml", "kubectl config view"),
        ("kubectl wait --for=condition=Ready pod/web --timeout=30s", "kubectl wait --for=condition=Ready pod/web"),
        ("kubectl get pods --chunk-size=500", "kubectl get pods"),
        ("kubectl logs web-0 --tail=-1", "kubectl logs web-0"),
        ("kubectl run tmp --image=busybox --restart=Always", "kubectl run tmp --image=busybox"),
        ("kubectl apply -f web.yaml --field-manager=kubectl-client-side-apply", "kubectl apply -f web.yaml"),
    ],
)
def test_a_valued_flag_given_its_default_is_accepted(typed, accepted):
    question = QuestionSpec(id=1, kind="kubectl", accepted_answers=(accepted,))
    assert grade_question(question, typed).correct


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("kubectl get pods -o yaml", "kubectl get pods"),  # get's default output is the table, not yaml
        ("kubectl get pods -o ''", "kubectl get pods"),  # an empty default given is kept apart (config set-* use it)
        # A required flag: `scale` without --replicas is refused ("required flag(s) "replicas" not set").
        ("kubectl scale deploy web --replicas=0", "kubectl scale deploy web"),
        # kubectl asks whether these were given: with a selector, no --tail means the last 10 lines ...
        ("kubectl logs -l app=web --tail=-1", "kubectl logs -l app=web"),
        # ... and with --server-side, no --field-manager means "kubectl".
        (
            "kubectl apply --server-side -f web.yaml --field-manager=kubectl-client-side-apply",
            "kubectl apply --server-side -f web.yaml",
        ),
        # `config view --template=X` prints the template; `-o yaml` given keeps yaml.
        ("kubectl config view -o yaml --template={{.kind}}", "kubectl config view --template={{.kind}}"),
    ],
)
def test_a_default_given_that_changes_what_kubectl_does_is_kept(typed, accepted):
    assert not commands_match(typed, accepted)


@pytest.mark.parametrize(
    ("typed", "accepted", "same"),
    [
        (
            "kubectl create role pod-reader --verb=get --verb=list --verb=watch --resource=pods -n team-a",
            "kubectl create role pod-reader --verb=get,list,watch --resource=pods -n team-a",
            True,
        ),
        (
            "kubectl create role r --verb=get --resource=pods,deploy",
            "kubectl create role r --verb=get --resource=pods --resource=deployments",
            True,
        ),
        ("kubectl get pods -L app,tier", "kubectl get pods -L tier -L app", True),
        ("kubectl create deployment web --image=a,b", "kubectl create deployment web --image=b --image=a", True),
        # Read as CSV: quotes group, so this is one verb "get,list".
        (
            "kubectl create role r --verb='\"get,list\"' --resource=pods",
            "kubectl create role r --verb=get,list --resource=pods",
            False,
        ),
        # A StringArray keeps each value whole: one literal "a=1,b=2".
        (
            "kubectl create configmap c --from-literal=a=1,b=2",
            "kubectl create configmap c --from-literal=a=1 --from-literal=b=2",
            False,
        ),
        (
            "kubectl create configmap c --from-file=a.txt,b.txt",
            "kubectl create configmap c --from-file=b.txt --from-file=a.txt",
            True,
        ),
        # A StringToString: pairs, a key given again takes the later value.
        (
            "kubectl debug web --image=busybox --env=A=1,B=2",
            "kubectl debug web --image=busybox --env B=2 --env A=1",
            True,
        ),
        ("kubectl debug web --image=busybox --env=A=1 --env=A=2", "kubectl debug web --image=busybox --env=A=2", True),
    ],
)
def test_list_flags_read_as_kubectl_reads_each_kind(typed, accepted, same):
    assert commands_match(typed, accepted) is same


def test_a_string_slice_flag_given_with_commas_or_repeated_is_the_same():
    assert commands_match(
        "kubectl create role pod-reader --verb=get --verb=list --verb=watch --resource=pods -n team-a",
        "kubectl create role pod-reader --verb=get,list,watch --resource=pods -n team-a",
    )


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        (
            "kubectl get deployment api -n shop -o jsonpath --template='{.spec.template.spec.containers[0].image}'",
            "kubectl get deployment api -n shop -o jsonpath='{.spec.template.spec.containers[0].image}'",
        ),
        (
            "kubectl get deployment api -n shop -o jsonpath='{$.spec.template.spec.containers[0].image}'",
            "kubectl get deployment api -n shop -o jsonpath='{.spec.template.spec.containers[0].image}'",
        ),
        (
            "kubectl create deployment web --image=nginx:1.27 --replicas=2 --dry-run=True -o yaml",
            "kubectl create deployment web --image=nginx:1.27 --replicas=2 --dry-run=client -o yaml",
        ),
        (
            "kubectl get pods -o jsonpath='{range $.items[*]}{.metadata.name}{end}'",
            "kubectl get pods -o jsonpath='{range .items[*]}{.metadata.name}{end}'",
        ),
        ("kubectl get pods -o go-template --template='{{.kind}}'", "kubectl get pods -o go-template='{{.kind}}'"),
        ("kubectl apply -f web.yaml --dry-run=T", "kubectl apply -f web.yaml --dry-run=client"),
        ("kubectl apply -f web.yaml --dry-run=1", "kubectl apply -f web.yaml --dry-run"),
        ("kubectl apply -f web.yaml --dry-run=FALSE", "kubectl apply -f web.yaml"),
        ("kubectl delete deploy web --cascade=False", "kubectl delete deploy web --cascade=orphan"),
        ("kubectl apply -f web.yaml --validate=F", "kubectl apply -f web.yaml --validate=ignore"),
    ],
)
def test_minor_rewrites_kubectl_treats_as_the_same_are_accepted(typed, accepted):
    assert commands_match(typed, accepted)


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("kubectl get pods -o jsonpath='{$}'", "kubectl get pods -o jsonpath='{.}'"),  # `{$}` prints the object
        # Both given: kubectl refuses ("unable to match a printer suitable for the output format").
        ("kubectl get pods -o jsonpath='{.a}' --template='{.b}'", "kubectl get pods -o jsonpath='{.b}'"),
        ("kubectl get pods --template='{.kind}'", "kubectl get pods -o jsonpath='{.kind}'"),  # a go-template
        ("kubectl apply -f web.yaml --dry-run=Client", "kubectl apply -f web.yaml --dry-run=client"),  # refused
        ("kubectl apply -f web.yaml --dry-run=tRUE", "kubectl apply -f web.yaml --dry-run=client"),  # not ParseBool
    ],
)
def test_rewrites_kubectl_reads_otherwise_are_refused(typed, accepted):
    assert not commands_match(typed, accepted)
