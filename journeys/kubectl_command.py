"""Understand a typed kubectl command well enough to compare two of them by meaning.

``kubectl get po -n shop -o wide`` and ``kubectl get pods --output=wide --namespace shop`` ask the
API server for the same thing, so a quiz must accept both. A command is parsed with shell rules
(quotes, escapes) and reduced to a canonical form: the subcommand words, the resource types
spelled one way, and a set of flags with their long names.
"""

import shlex
from dataclasses import dataclass

MAX_COMMAND_LENGTH = 500


class CommandParseError(ValueError):
    """The text is not a kubectl command we can read; the message says why, for a learner."""


# Short aliases, singular and plural names → the plural resource name kubectl prints.
RESOURCE_ALIASES = {
    "all": "all",
    "po": "pods", "pod": "pods", "pods": "pods",
    "svc": "services", "service": "services", "services": "services",
    "deploy": "deployments", "deployment": "deployments", "deployments": "deployments",
    "rs": "replicasets", "replicaset": "replicasets", "replicasets": "replicasets",
    "sts": "statefulsets", "statefulset": "statefulsets", "statefulsets": "statefulsets",
    "ds": "daemonsets", "daemonset": "daemonsets", "daemonsets": "daemonsets",
    "job": "jobs", "jobs": "jobs",
    "cj": "cronjobs", "cronjob": "cronjobs", "cronjobs": "cronjobs",
    "ns": "namespaces", "namespace": "namespaces", "namespaces": "namespaces",
    "no": "nodes", "node": "nodes", "nodes": "nodes",
    "cm": "configmaps", "configmap": "configmaps", "configmaps": "configmaps",
    "secret": "secrets", "secrets": "secrets",
    "sa": "serviceaccounts", "serviceaccount": "serviceaccounts", "serviceaccounts": "serviceaccounts",
    "pv": "persistentvolumes", "persistentvolume": "persistentvolumes", "persistentvolumes": "persistentvolumes",
    "pvc": "persistentvolumeclaims", "persistentvolumeclaim": "persistentvolumeclaims",
    "persistentvolumeclaims": "persistentvolumeclaims",
    "ing": "ingresses", "ingress": "ingresses", "ingresses": "ingresses",
    "quota": "resourcequotas", "resourcequota": "resourcequotas", "resourcequotas": "resourcequotas",
    "limits": "limitranges", "limitrange": "limitranges", "limitranges": "limitranges",
    "role": "roles", "roles": "roles",
    "rolebinding": "rolebindings", "rolebindings": "rolebindings",
    "clusterrole": "clusterroles", "clusterroles": "clusterroles",
    "clusterrolebinding": "clusterrolebindings", "clusterrolebindings": "clusterrolebindings",
    "ev": "events", "event": "events", "events": "events",
    "ep": "endpoints", "endpoints": "endpoints",
    "netpol": "networkpolicies", "networkpolicy": "networkpolicies", "networkpolicies": "networkpolicies",
    "hpa": "horizontalpodautoscalers", "horizontalpodautoscaler": "horizontalpodautoscalers",
    "horizontalpodautoscalers": "horizontalpodautoscalers",
    "crd": "customresourcedefinitions", "crds": "customresourcedefinitions",
    "customresourcedefinition": "customresourcedefinitions", "customresourcedefinitions": "customresourcedefinitions",
    "sc": "storageclasses", "storageclass": "storageclasses", "storageclasses": "storageclasses",
    "pdb": "poddisruptionbudgets", "poddisruptionbudget": "poddisruptionbudgets",
    "poddisruptionbudgets": "poddisruptionbudgets",
}  # fmt: skip

# Subcommands whose next word names a resource type, followed by names.
TYPED_VERBS = {"get", "describe", "delete", "edit", "explain", "label", "annotate", "patch", "scale", "expose",
               "autoscale", "wait"}  # fmt: skip
# Subcommands that take a subcommand of their own (kubectl rollout status ..., kubectl config use-context ...).
SUBCOMMAND_VERBS = {"rollout", "config", "auth", "set", "certificate"}

FLAG_ALIASES = {
    "-n": "--namespace",
    "-o": "--output",
    "-f": "--filename",
    "-l": "--selector",
    "-c": "--container",
    "-A": "--all-namespaces",
    "-w": "--watch",
    "-i": "--stdin",
    "-t": "--tty",
    "-p": "--patch",
    "-R": "--recursive",
    "-k": "--kustomize",
    "-L": "--label-columns",
    "-v": "--v",
    "-e": "--env",
}
# Flags that never take a value; every other long flag does.
BOOLEAN_FLAGS = {
    "--all-namespaces", "--watch", "--watch-only", "--stdin", "--tty", "--rm", "--show-labels", "--recursive",
    "--overwrite", "--all", "--no-headers", "--ignore-not-found", "--server-side", "--force", "--record",
    "--prune", "--previous", "--follow", "--quiet", "--list", "--show-kind", "--export", "--local",
    "--current", "--minify", "--raw", "--flatten", "--force-conflicts", "--wait", "--sort",
}  # fmt: skip
# Flags whose values are resource types or type/name pairs (`--resource=po`, `--from=cj/backup`).
RESOURCE_VALUED_FLAGS = {"--resource", "--from"}
# A bare boolean flag and its explicit `=true` spelling mean the same.
TRUE_WORDS = {"true"}
# What a value flag means when it is given bare (`--dry-run` alone is the old spelling of client).
BARE_FLAG_VALUES = {"--dry-run": "client"}


@dataclass(frozen=True)
class KubectlCommand:
    words: tuple  # subcommands, resource types and names, in order
    flags: frozenset  # (long flag, value) pairs; value "" for booleans
    after_dashdash: tuple  # the command run in a container: `kubectl exec web -- ls /`

    def __str__(self):
        flags = " ".join(f"{name}={value}" if value else name for name, value in sorted(self.flags))
        tail = (" -- " + " ".join(self.after_dashdash)) if self.after_dashdash else ""
        return " ".join(("kubectl", *self.words, flags)).strip() + tail


def _canonical_type(word):
    """`po` → `pods`, `deploy.apps` → `deployments.apps`, `sts.spec` → `statefulsets.spec`."""
    head, dot, rest = word.partition(".")
    canonical = RESOURCE_ALIASES.get(head.lower())
    return f"{canonical}{dot}{rest}" if canonical else word


def _canonical_resource_word(word):
    """Canonicalise `po,svc`, `deploy/web` and plain types; leave names alone."""
    if "/" in word:
        kind, _, name = word.partition("/")
        return f"{_canonical_type(kind)}/{name}"
    if "," in word:
        return ",".join(sorted(_canonical_type(part) for part in word.split(",") if part))
    return _canonical_type(word)


def _split_tokens(text):
    if len(text) > MAX_COMMAND_LENGTH:
        raise CommandParseError(f"The command is longer than {MAX_COMMAND_LENGTH} characters.")
    text = text.strip().removeprefix("$").strip()
    if not text:
        raise CommandParseError("Type a kubectl command.")
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise CommandParseError(f"The command could not be read: {exc} (check your quotes).") from None
    if not tokens or tokens[0] not in {"kubectl", "k", "kubectl.exe"}:
        raise CommandParseError("The command should start with kubectl.")
    return tokens[1:]


def _expand_short_cluster(part):
    """`-it` → `-i -t`; `-owide` is `-o wide`; `-nshop` is `-n shop`."""
    letters = part[1:]
    if len(letters) > 1 and part[:2] in {"-o", "-n", "-l", "-f", "-c", "-p", "-L", "-e", "-k", "-v"}:
        return [part[:2], letters[1:]]
    if len(letters) > 1 and letters.isalpha():
        return [f"-{letter}" for letter in letters]
    return [part]


def parse_kubectl(text):
    """Parse ``text`` into a KubectlCommand, or raise CommandParseError with a learner-facing reason."""
    tokens = _split_tokens(text)
    expanded = []
    for index, part in enumerate(tokens):
        if part == "--":
            expanded.append(part)
            expanded.extend(tokens[index + 1 :])
            break
        if part.startswith("-") and not part.startswith("--") and len(part) > 2:
            expanded.extend(_expand_short_cluster(part))
        else:
            expanded.append(part)

    words, flags, after = [], set(), ()
    index = 0
    while index < len(expanded):
        part = expanded[index]
        index += 1
        if part == "--":
            after = tuple(expanded[index:])
            break
        if part.startswith("-") and part != "-":
            name, has_value, value = part.partition("=")
            name = FLAG_ALIASES.get(name, name)
            if not has_value:
                takes_value = name not in BOOLEAN_FLAGS and (name.startswith("--") or part in FLAG_ALIASES)
                following = expanded[index] if index < len(expanded) else None
                if takes_value and following is not None and following.startswith("=") and len(following) > 1:
                    value = following[1:]  # `-o=wide` arrives here as `-o` then `=wide`
                    index += 1
                elif takes_value and following is not None and not following.startswith("-"):
                    value = following
                    index += 1
                elif name in BARE_FLAG_VALUES:
                    value = BARE_FLAG_VALUES[name]
                elif takes_value:
                    raise CommandParseError(f"The flag {part} needs a value.")
            if name in BOOLEAN_FLAGS and value.lower() in TRUE_WORDS:
                value = ""
            if name in RESOURCE_VALUED_FLAGS:
                value = _canonical_resource_word(value)
            flags.add((name, value))
            continue
        words.append(part)

    if not words:
        raise CommandParseError("The command has no subcommand, such as get, apply or describe.")
    return KubectlCommand(words=tuple(_canonical_words(words)), flags=frozenset(flags), after_dashdash=after)


def _type_and_names(rest):
    """`deploy web api` → `deployments/web deployments/api`; `po,svc` and `deploy/web` stay pairs."""
    if not rest:
        return []
    first, names = rest[0], rest[1:]
    if "/" in first or "," in first or not names:
        return [_canonical_resource_word(first)] + [_canonical_resource_word(w) if "/" in w else w for w in names]
    kind = _canonical_type(first)
    return [f"{kind}/{name}" for name in names]


def _canonical_words(words):
    verb = words[0].lower()
    rest = list(words[1:])
    canonical = [verb]
    if verb in {"create", "top"} and rest:
        sub = rest.pop(0).lower()
        canonical.append(_canonical_type(sub) if sub in RESOURCE_ALIASES else sub)
        # `kubectl create deployment web`: what follows the subcommand are names and values.
        return canonical + rest
    if verb in SUBCOMMAND_VERBS and rest:
        sub = rest.pop(0).lower()
        canonical.append(sub)
        if verb == "auth" and sub == "can-i" and len(rest) >= 2:
            return [*canonical, rest[0].lower(), _canonical_resource_word(rest[1]), *rest[2:]]
        if verb in {"set", "rollout"}:
            return canonical + _type_and_names(rest)
        return canonical + rest
    if verb in TYPED_VERBS:
        return canonical + _type_and_names(rest)
    return canonical + rest


def commands_match(submitted, accepted):
    """True when two kubectl command texts mean the same; raises CommandParseError for ``submitted``."""
    return parse_kubectl(submitted) == parse_kubectl(accepted)
