"""Understand a typed kubectl command well enough to compare two of them by meaning.

``kubectl get po -n shop -o wide`` and ``kubectl get pods --output=wide --namespace shop`` ask the
API server for the same thing, so a quiz must accept both. A command is parsed with shell rules
(quotes, escapes) and then the way kubectl itself reads it: the command and its subcommands are
found first (``kubectl config use prod`` is ``config use-context``), then every flag is read with
*that* command's flags, which come from kubectl's own definitions in ``kubectl_flags.json`` (written
by ``scripts/kubectl_flags.py``): ``-p`` is ``--previous`` for ``logs`` and ``--patch`` for
``patch``, and ``--prefix`` takes no value, so the word after it is not swallowed.

The result is a canonical form: the command path, the resource types spelled one way
(``sts``, ``StatefulSets``, ``statefulset.apps`` → ``statefulsets``, while ``STS`` stays unknown, as
kubectl's RESTMapper has it), and a set of flags with their long names and values reduced to their
meaning (selector terms in any order, ``./web.yaml`` = ``web.yaml``, ``--verb=get,list`` = ``--verb=get
--verb=list``, ``--watch=false`` and ``explain -o plaintext`` = no flag, ``delete --force`` =
``--grace-period=0 --force``). Two commands are the same request when their forms are equal; the
rules are checked against kubectl itself by tests/test_kubectl_requests.py.
"""

import csv
import json
import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

MAX_COMMAND_LENGTH = 500
FLAGS_FILE = Path(__file__).with_name("kubectl_flags.json")


class CommandParseError(ValueError):
    """The text is not a kubectl command we can read; the message says why, for a learner."""


# --- Resource types -------------------------------------------------------------------------------
# As `kubectl api-resources` lists them: plural name → (API group, preferred version, kind, short names).
# kubectl's RESTMapper reads a type word the way it matches them (checked against a recording API
# server): the plural and the singular (the kind in lower case) in any case (`PODS`, `Pod`), but a short
# name, a category (`all`), an API group and a version only as written (`PO`, `deployment.APPS`: "the
# server doesn't have a resource type").
RESOURCES = {
    "pods": ("", "v1", "Pod", ("po",)),
    "services": ("", "v1", "Service", ("svc",)),
    "endpoints": ("", "v1", "Endpoints", ("ep",)),
    "namespaces": ("", "v1", "Namespace", ("ns",)),
    "nodes": ("", "v1", "Node", ("no",)),
    "configmaps": ("", "v1", "ConfigMap", ("cm",)),
    "secrets": ("", "v1", "Secret", ()),
    "serviceaccounts": ("", "v1", "ServiceAccount", ("sa",)),
    "persistentvolumes": ("", "v1", "PersistentVolume", ("pv",)),
    "persistentvolumeclaims": ("", "v1", "PersistentVolumeClaim", ("pvc",)),
    "resourcequotas": ("", "v1", "ResourceQuota", ("quota",)),
    "limitranges": ("", "v1", "LimitRange", ("limits",)),
    "events": ("", "v1", "Event", ("ev",)),
    "replicationcontrollers": ("", "v1", "ReplicationController", ("rc",)),
    "podtemplates": ("", "v1", "PodTemplate", ()),
    "deployments": ("apps", "v1", "Deployment", ("deploy",)),
    "replicasets": ("apps", "v1", "ReplicaSet", ("rs",)),
    "statefulsets": ("apps", "v1", "StatefulSet", ("sts",)),
    "daemonsets": ("apps", "v1", "DaemonSet", ("ds",)),
    "controllerrevisions": ("apps", "v1", "ControllerRevision", ()),
    "jobs": ("batch", "v1", "Job", ()),
    "cronjobs": ("batch", "v1", "CronJob", ("cj",)),
    "ingresses": ("networking.k8s.io", "v1", "Ingress", ("ing",)),
    "ingressclasses": ("networking.k8s.io", "v1", "IngressClass", ()),
    "networkpolicies": ("networking.k8s.io", "v1", "NetworkPolicy", ("netpol",)),
    "roles": ("rbac.authorization.k8s.io", "v1", "Role", ()),
    "rolebindings": ("rbac.authorization.k8s.io", "v1", "RoleBinding", ()),
    "clusterroles": ("rbac.authorization.k8s.io", "v1", "ClusterRole", ()),
    "clusterrolebindings": ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", ()),
    "horizontalpodautoscalers": ("autoscaling", "v2", "HorizontalPodAutoscaler", ("hpa",)),
    "poddisruptionbudgets": ("policy", "v1", "PodDisruptionBudget", ("pdb",)),
    "storageclasses": ("storage.k8s.io", "v1", "StorageClass", ("sc",)),
    "customresourcedefinitions": ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", ("crd", "crds")),
    "priorityclasses": ("scheduling.k8s.io", "v1", "PriorityClass", ("pc",)),
    "certificatesigningrequests": ("certificates.k8s.io", "v1", "CertificateSigningRequest", ("csr",)),
    "endpointslices": ("discovery.k8s.io", "v1", "EndpointSlice", ()),
    "leases": ("coordination.k8s.io", "v1", "Lease", ()),
}
# Matched in any case: the plural and the singular (the kind, lower-cased).
RESOURCE_NAMES = {name: plural for plural, (_, _, kind, _) in RESOURCES.items() for name in (plural, kind.lower())}
# Matched only as written: short names and the category `all`.
RESOURCE_SHORT_NAMES = {name: plural for plural, (*_, shorts) in RESOURCES.items() for name in shorts} | {"all": "all"}

# --- What the positional words of a command are (kubectl's flag data says nothing about these) ----
# Commands whose arguments are `TYPE NAME...`, `TYPE/NAME...` or `TYPE1,TYPE2`, maybe followed by
# `key=value` / `key-` terms (label, annotate, taint, set env, set image), whose order does not matter.
RESOURCE_COMMANDS = {
    ("get",), ("describe",), ("delete",), ("edit",), ("label",), ("annotate",), ("patch",), ("scale",),
    ("expose",), ("autoscale",), ("wait",), ("taint",), ("apply", "view-last-applied"),
    ("apply", "edit-last-applied"), ("rollout",), ("set",),
}  # fmt: skip
# Commands whose first argument is `POD` or `TYPE/NAME` (`pod/web` is the Pod `web`).
POD_COMMANDS = {("logs",), ("exec",), ("attach",), ("port-forward",)}
# Go's strconv.ParseBool, which pflag uses for boolean flags: these words and no others (not `yes`, not `tRUE`).
TRUE_WORDS = {"1", "t", "T", "TRUE", "true", "True"}
FALSE_WORDS = {"0", "f", "F", "FALSE", "false", "False"}
# What a valued flag given bare, or given a boolean, means: `--dry-run` alone is the old spelling of client.
# kubectl tries strconv.ParseBool on these three first (GetDryRunStrategy, GetValidationDirective,
# parseCascadingFlag), so `--dry-run=True` and `--dry-run=1` are client too; `--dry-run=Client` is refused.
VALUE_MEANINGS = {
    "dry-run": {"": "client", "unchanged": "client"}
    | dict.fromkeys(TRUE_WORDS, "client")
    | dict.fromkeys(FALSE_WORDS, "none"),
    "validate": {"": "strict"} | dict.fromkeys(TRUE_WORDS, "strict") | dict.fromkeys(FALSE_WORDS, "ignore"),
    "cascade": {"": "background"} | dict.fromkeys(TRUE_WORDS, "background") | dict.fromkeys(FALSE_WORDS, "orphan"),
}
# Valued flags whose default, given, is *not* the same as leaving them out: kubectl asks whether they were
# given (cobra's `Changed`). `logs -l app=web --tail=-1` prints every line, `logs -l app=web` the last 10;
# `apply --server-side --field-manager=kubectl-client-side-apply` keeps that manager, without it "kubectl".
# Required flags (`scale --replicas`) are marked in the flag table; `--output` is kept beside `--template`.
# Each maps to the flag beside which it matters (kubectl's logs.go and GetApplyFieldManagerFlag).
DEFAULT_GIVEN_MATTERS = {
    (("logs",), "tail"): "selector",
    (("apply",), "field-manager"): "server-side",
    (("diff",), "field-manager"): "server-side",
}
# The output formats that take a template, either after `=` or from --template.
TEMPLATE_FORMATS = {
    "jsonpath", "jsonpath-as-json", "jsonpath-file", "go-template", "go-template-file", "template", "templatefile",
}  # fmt: skip


@dataclass(frozen=True)
class Flag:
    name: str  # the long name, without dashes
    short: str
    kind: str  # "bool", "value", "optional" (a value, or bare); may repeat: "list", "csv", "map" (see _remember)
    default: str
    required: bool = False  # cobra refuses the command without it (`scale --replicas`)


@dataclass(frozen=True)
class CommandSpec:
    path: tuple
    flags: dict  # long name → Flag
    shorts: dict  # short letter → Flag
    subcommands: dict  # word (name or alias) → canonical name


class FlagTable:
    """kubectl's commands and flags, as ``scripts/kubectl_flags.py`` recorded them from a real kubectl."""

    def __init__(self, data):
        self.kubectl_version = data["kubectl_version"]
        self.global_flags = _flag_map(data["global_flags"])
        self.global_shorts = {flag.short: flag for flag in self.global_flags.values() if flag.short}
        commands = data["commands"]
        self.commands = {}
        for key, entry in commands.items():
            path = tuple(key.split())
            subcommands = {}
            for name in entry["subcommands"]:
                child = commands.get(" ".join((*path, name)), {})
                subcommands.update(dict.fromkeys(child.get("aliases", []), name))
                subcommands[name] = name
            flags = _flag_map(entry["flags"])
            shorts = {flag.short: flag for flag in flags.values() if flag.short}
            self.commands[path] = CommandSpec(path, flags, shorts, subcommands)

    def command(self, path):
        return self.commands.get(tuple(path)) or self.commands[()]

    def long_flag(self, path, name):
        return self.command(path).flags.get(name) or self.global_flags.get(name)

    def short_flag(self, path, letter):
        return self.command(path).shorts.get(letter) or self.global_shorts.get(letter)


def _flag_map(table):
    return {
        name: Flag(name, entry["short"], entry["type"], entry["default"], entry.get("required", False))
        for name, entry in table.items()
    }


@cache
def flag_table():
    return FlagTable(json.loads(FLAGS_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class KubectlCommand:
    words: tuple  # the command path (`config use-context`), then resource types and names, in order
    flags: frozenset  # (long flag, value) pairs; value "" for a boolean flag that is on
    after_dashdash: tuple  # the command run in a container: `kubectl exec web -- ls /`
    # How it was read, not what it means: left out of comparisons.
    command: tuple = field(default=(), compare=False)  # the command path kubectl knows, () if none
    unknown_flags: tuple = field(default=(), compare=False)  # flags this command does not have

    def __str__(self):
        """The canonical form as a command line that reads back to the same command."""
        flags = " ".join(self._flag_text(name, value) for name, value in sorted(self.flags))
        words = " ".join(shlex.quote(word) for word in self.words)
        tail = (" -- " + shlex.join(self.after_dashdash)) if self.after_dashdash else ""
        return " ".join(("kubectl", words, flags)).strip() + tail

    def _flag_text(self, name, value):
        if value:
            return f"{name}={shlex.quote(value)}"
        flag = flag_table().long_flag(self.command, name[2:]) if name.startswith("--") else None
        return name if flag is None or flag.kind == "bool" else f"{name}=''"  # `--selector=` is not `--watch`


# --- Reading the text ------------------------------------------------------------------------------


def _split_tokens(text):
    if len(text) > MAX_COMMAND_LENGTH:
        raise CommandParseError(f"The command is longer than {MAX_COMMAND_LENGTH} characters.")
    text = text.strip()
    if len(text) > 1 and text[0] == text[-1] == "`":
        text = text[1:-1].strip()  # pasted from Markdown
    text = text.removeprefix("$").strip()
    if not text:
        raise CommandParseError("Type a kubectl command.")
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise CommandParseError(f"The command could not be read: {exc} (check your quotes).") from None
    if not tokens or tokens[0] not in {"kubectl", "k", "kubectl.exe"}:
        raise CommandParseError("The command should start with kubectl.")
    return tokens[1:]


def _takes_no_value(flag):
    return flag is not None and flag.kind in ("bool", "optional")


def _next_word(args, path, table):
    """Index of the first argument that is not a flag or a flag's value, as cobra finds subcommands."""
    index = 0
    while index < len(args):
        part = args[index]
        if part == "--":
            return None
        if part.startswith("--") and "=" not in part and not _takes_no_value(table.long_flag(path, part[2:])):
            index += 2  # `--flag value` (cobra assumes a flag it does not know takes a value, too)
            continue
        if (
            part.startswith("-")
            and "=" not in part
            and len(part) == 2
            and not _takes_no_value(table.short_flag(path, part[1]))
        ):
            index += 2
            continue
        if part and not part.startswith("-"):
            return index
        index += 1
    return None


def _find_command(args, table):
    """The command path (`config use-context`) and the arguments left once its words are taken out."""
    path, rest = (), list(args)
    while True:
        subcommands = table.command(path).subcommands if path in table.commands else {}
        if not subcommands:
            return path, rest
        index = _next_word(rest, path, table)
        if index is None:
            return path, rest
        name = subcommands.get(rest[index])  # cobra matches command words as written: `GET` is unknown
        if name is None:
            return path, rest
        path = (*path, name)
        del rest[index]


def parse_kubectl(text):
    """Parse ``text`` into a KubectlCommand, or raise CommandParseError with a learner-facing reason."""
    tokens = _split_tokens(text)
    table = flag_table()
    path, rest = _find_command(tokens, table)
    words, after, unknown = [], (), []
    values = {}  # long name → value (the last one given wins) or set of values (flags that repeat)
    index = 0
    while index < len(rest):
        part = rest[index]
        index += 1
        if part == "--":
            after = tuple(rest[index:])
            break
        if part.startswith("--") and len(part) > 2:
            index = _long_flag(part, rest, index, path, table, values, unknown)
        elif part.startswith("-") and len(part) > 1:
            index = _short_flags(part, rest, index, path, table, values, unknown)
        else:
            words.append(part)
    if not path and not words:
        raise CommandParseError("The command has no subcommand, such as get, apply or describe.")
    _normalise_values(path, table, values)
    flags = set()
    for name, value in values.items():
        if isinstance(value, dict):
            flags.update((f"--{name}", f"{key}={item}") for key, item in value.items())
        elif isinstance(value, set):
            flags.update((name if name.startswith("-") else f"--{name}", item) for item in value)
        elif value is not None:
            flags.add((f"--{name}", value))
    return KubectlCommand(
        words=(*path, *_canonical_arguments(path, words)),
        flags=frozenset(flags),
        after_dashdash=after,
        command=path,
        unknown_flags=tuple(dict.fromkeys(unknown)),
    )


def _long_flag(part, rest, index, path, table, values, unknown):
    name, has_value, value = part[2:].partition("=")
    if not name or name.startswith("-"):
        raise CommandParseError(
            f"{_shown(part)} is not a flag: a flag is a name after - or --, such as -n or --namespace."
        )
    flag = table.long_flag(path, name)
    if flag is None:
        unknown.append(f"--{name}")
        if not has_value and index < len(rest) and not rest[index].startswith("-"):
            value, index = rest[index], index + 1  # a flag kubectl does not know: guess it takes the next word
        _remember(values, f"--{name}", None, value)
        return index
    if not has_value:
        if flag.kind == "bool":
            value = "true"
        elif flag.kind == "optional":
            value = ""
        elif index < len(rest) and rest[index] != "--":
            value, index = rest[index], index + 1
        else:
            raise CommandParseError(f"The flag {part} needs a value.")
    _remember(values, name, flag, value)
    return index


def _short_flags(part, rest, index, path, table, values, unknown):
    """`-it` is `-i -t`, `-owide` and `-o=wide` are `-o wide`, as pflag reads a cluster of short flags."""
    letters = part[1:]
    while letters:
        letter = letters[0]
        if letter in "-=":
            raise CommandParseError(
                f"{_shown(part)} is not a flag: a flag is a name after - or --, such as -n or --namespace."
            )
        flag = table.short_flag(path, letter)
        if len(letters) > 2 and letters[1] == "=":
            value, letters = letters[2:], ""
        elif flag is None or _takes_no_value(flag):
            value, letters = ("true" if flag is None or flag.kind == "bool" else ""), letters[1:]
        elif len(letters) > 1:
            value, letters = letters[1:], ""
        elif index < len(rest) and rest[index] != "--":
            value, letters = rest[index], ""
            index += 1
        else:
            raise CommandParseError(f"The flag -{letter} needs a value.")
        if flag is None:
            unknown.append(f"-{letter}")
            _remember(values, f"-{letter}", None, "" if value == "true" else value)
        else:
            _remember(values, flag.name, flag, value)
    return index


def _shown(text):
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _remember(values, name, flag, value):
    if flag is None:
        values.setdefault(name, set()).add(value)
        return
    if flag.kind == "map":
        # pflag's StringToString (`debug --env`): KEY=VALUE pairs, CSV when there is more than one `=`;
        # a key given again takes the later value.
        pairs = [value.strip('"')] if value.count("=") == 1 else csv_items(value)
        mapping = values.setdefault(flag.name, {})
        for pair in pairs:
            key, _, item = pair.partition("=")
            mapping.pop(key, None)
            mapping[key] = item
        return
    if flag.kind in ("list", "csv"):
        # pflag's StringArray keeps each value whole (`--from-literal=a=1,b=2` is one literal); its
        # StringSlice reads each value as a line of CSV (`--verb=get,list` is `--verb=get --verb=list`).
        items = csv_items(value) if flag.kind == "csv" else [value]
        values.setdefault(flag.name, set()).update(_canonical_value(flag.name, item) for item in items)
    else:
        values[flag.name] = _flag_value(flag, value)  # given twice, the last one counts; None: the default


def csv_items(value):
    """The items of a StringSlice flag's value, as pflag's readAsCSV splits it (Go's encoding/csv)."""
    if value == "":
        return []
    if '"' not in value:
        return value.split(",")
    try:
        rows = list(csv.reader([value], strict=True))
    except csv.Error:
        return [value]  # kubectl refuses it ("extraneous or missing \" in quoted-field"): keep it as typed
    return rows[0] if len(rows) == 1 else [value]


def _flag_value(flag, value):
    """The value's meaning, or None when it is the flag's default (`--watch=false`, `--dry-run=none`)."""
    if flag.kind == "bool":
        if value in TRUE_WORDS:
            value = "true"
        elif value in FALSE_WORDS:
            value = "false"
        else:
            raise CommandParseError(f"The flag --{flag.name} is true or false, not {value!r}.")
        if value == flag.default:
            return None
        return "" if value == "true" else value
    value = VALUE_MEANINGS.get(flag.name, {}).get(value, value)
    if flag.name in VALUE_MEANINGS and value == flag.default:
        return None
    return _canonical_value(flag.name, value)


def _normalise_values(path, table, values):
    """What kubectl does with the flags as a whole: defaults given, templates, how `delete` reads --force."""
    _join_template(values)
    for name, value in list(values.items()):
        flag = table.long_flag(path, name) if not name.startswith("-") else None
        if flag is None or flag.kind not in ("value", "optional") or value is None:
            continue
        if _is_default(path, flag, value, values):
            values[name] = None
    if path == ("delete",):
        _delete_grace_period(values)


def _is_default(path, flag, value, values):
    """A valued flag given its own command's default (`explain -o plaintext`) asks for what leaving it out does.

    Not when the default is empty (kubectl tells `config set-context --namespace=''` from no flag), when
    cobra requires the flag, when kubectl asks whether the flag was given, or for `--output` beside
    `--template` (`config view --template=X` uses the template, `config view -o yaml --template=X` does not).
    """
    if flag.default == "" or flag.required:
        return False
    beside = DEFAULT_GIVEN_MATTERS.get((tuple(path), flag.name))
    if beside and values.get(beside) is not None:
        return False
    if flag.name == "output" and values.get("template") is not None:
        return False
    return value == _canonical_value(flag.name, flag.default)


def _join_template(values):
    """`-o jsonpath --template='{.x}'` is `-o jsonpath='{.x}'`: kubectl takes the template from either place."""
    output, template = values.get("output"), values.get("template")
    if output in TEMPLATE_FORMATS and template:
        values["output"], values["template"] = f"{output}={template}", None
    if isinstance(values.get("output"), str):
        values["output"] = _canonical_output(values["output"])


JSONPATH_ROOT = re.compile(r"\{(\s*(?:range\s+)?)\$\.(?=[A-Za-z_\[*])")


def _canonical_output(value):
    """`jsonpath={$.spec}` prints what `jsonpath={.spec}` prints (`{$}` alone is not `{.}`: kept)."""
    kind, equals, template = value.partition("=")
    if equals and kind in ("jsonpath", "jsonpath-as-json"):
        return kind + "=" + JSONPATH_ROOT.sub(r"{\1.", template)
    return value


def _delete_grace_period(values):
    """kubectl delete: `--force` alone means `--grace-period=0`, and without --force 0 means 1, as does --now.

    Checked against a recording API server: `--force` and `--grace-period=0 --force` both send
    gracePeriodSeconds 0; `--grace-period=0`, `--grace-period=1` and `--now` all send 1. Contradictions
    kubectl refuses (`--force --grace-period=5`, `--now --grace-period=3`) are left as typed.
    """
    grace, force, now = values.get("grace-period"), values.get("force") is not None, values.get("now") is not None
    if grace is not None and not re.fullmatch(r"-?\d+", grace):
        return
    seconds = int(grace) if grace is not None else -1
    if now:
        if grace is not None:
            return
        seconds = 1
    if force and seconds > 0:
        return
    if force and seconds < 0:
        seconds = 0
    elif not force and seconds == 0:
        seconds = 1
    values["now"] = None
    values["grace-period"] = None if seconds < 0 else str(seconds)


# --- Values that can be written in more than one way -----------------------------------------------


def _canonical_value(name, value):
    if name == "filename":
        return canonical_path(value, stdin=True)
    if name in ("kustomize", "kubeconfig"):
        return canonical_path(value)
    if name == "selector":
        return canonical_selector(value)
    if name == "field-selector":
        return canonical_field_selector(value)
    if name == "labels":
        return ",".join(sorted(set(value.split(","))))
    if name in ("resource", "from"):
        return _canonical_resource_word(value)
    return value


def canonical_path(value, *, stdin=False):
    """`./web.yaml` and `web.yaml` name the same file, `dir/web.yaml` another; URLs stay as typed.

    For `-f`, `-` alone is standard input, while `./-` is a file named "-", so it keeps its `./`.
    """
    if value == "-" or "://" in value:
        return value
    parts = [part for part in value.split("/") if part not in ("", ".")]
    joined = "/".join(parts)
    if value.startswith("/"):
        return "/" + joined
    if stdin and joined == "-":
        return "./-"
    return joined or "."


SELECTOR_TERM = re.compile(
    r"""^\s*(?:
        !\s*(?P<absent>[^\s!=<>(),]+)
      | (?P<key>[^\s!=<>(),]+)\s*(?:
            (?P<op>==|=|!=|<|>)\s*(?P<value>[^\s!=<>(),]*)
          | \s(?P<setop>in|notin)\s*\((?P<values>[^()]*)\)
        )?
    )\s*$""",
    re.VERBOSE,
)


def _split_terms(text):
    """Split on commas outside parentheses; None when the parentheses do not balance."""
    terms, depth, start = [], 0, 0
    for position, character in enumerate(text):
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
            if depth < 0:
                return None
        elif character == "," and depth == 0:
            terms.append(text[start:position])
            start = position + 1
    if depth:
        return None
    terms.append(text[start:])
    return terms


def canonical_selector(text):
    """A label selector with its terms sorted: `tier=fe,app=web` = `app=web, tier==fe`; `in (a)` = `=a`.

    Text that is not a selector Kubernetes reads is kept as typed (with spaces trimmed).
    """
    terms = _split_terms(text)
    canonical = set()
    for term in terms or [None]:
        match = SELECTOR_TERM.match(term) if term is not None else None
        if match is None:
            return text.strip()
        if match["absent"]:
            canonical.add(f"!{match['absent']}")
        elif match["setop"]:
            items = sorted({item.strip() for item in match["values"].split(",")})
            if len(items) == 1:
                canonical.add(f"{match['key']}{'=' if match['setop'] == 'in' else '!='}{items[0]}")
            else:
                canonical.add(f"{match['key']} {match['setop']} ({','.join(items)})")
        elif match["op"]:
            op = "=" if match["op"] == "==" else match["op"]
            canonical.add(f"{match['key']}{op}{match['value']}")
        else:
            canonical.add(match["key"])
    return ",".join(sorted(canonical))


FIELD_TERM = re.compile(r"^\s*(?P<key>[^\s!=]+)\s*(?P<op>==|=|!=)\s*(?P<value>.*?)\s*$")


def canonical_field_selector(text):
    """A field selector with its terms sorted: `status.phase=Running,spec.nodeName==a` = the other order."""
    if "\\" in text:
        return text.strip()  # escaped commas and equals signs: compare as typed
    canonical = set()
    for term in text.split(","):
        match = FIELD_TERM.match(term)
        if match is None:
            return text.strip()
        op = "=" if match["op"] == "==" else match["op"]
        canonical.add(f"{match['key']}{op}{match['value']}")
    return ",".join(sorted(canonical))


def _resource_plural(word):
    """The plural a type word names, matched as kubectl matches it, or None (a type we do not know)."""
    return RESOURCE_SHORT_NAMES.get(word) or RESOURCE_NAMES.get(word.lower())


def _canonical_type(word):
    """`po` → `pods`; `statefulset.apps`, `StatefulSets.v1.apps` → `statefulsets`; `sts.batch`, `PO` stay apart."""
    head, dot, rest = word.partition(".")
    canonical = _resource_plural(head)
    if canonical is None:
        return word
    if not dot:
        return canonical
    group, version, *_ = RESOURCES.get(canonical, ("", "", "", ()))
    if group and rest in (group, f"{version}.{group}"):
        return canonical
    return f"{canonical}.{rest}"


def _canonical_field_path(word):
    """For `kubectl explain`: `deploy.spec.strategy` → `deployments.spec.strategy` (fields stay as typed)."""
    head, dot, rest = word.partition(".")
    canonical = _resource_plural(head)
    return f"{canonical}{dot}{rest}" if canonical else word


def _canonical_resource_word(word):
    """Canonicalise `po,svc`, `deploy/web` and plain types; leave names alone."""
    if "/" in word:
        kind, _, name = word.partition("/")
        return f"{_canonical_type(kind)}/{name}"
    if "," in word:
        return ",".join(sorted(_canonical_type(part) for part in word.split(",") if part))
    return _canonical_type(word)


def _can_i_resource(word):
    """`auth can-i VERB TYPE[/SUBRESOURCE]`: kubectl lower-cases TYPE before it looks it up (cani.go), so `PO`
    is `pods` there; a type it does not know, and the subresource, are sent as typed."""
    if word.startswith("/"):
        return word  # a non-resource URL
    kind, slash, subresource = word.partition("/")
    canonical = _canonical_type(kind.lower())
    if canonical == kind.lower() and _resource_plural(kind.lower().partition(".")[0]) is None:
        canonical = kind
    return f"{canonical}{slash}{subresource}"


def _is_term(word):
    """`app=web`, `app-` and `key=value:NoSchedule` change labels, annotations, taints or images."""
    return "=" in word or (word.endswith("-") and len(word) > 1)


def _type_and_names(rest):
    """`deploy web api` → `deployments/web deployments/api`; `po,svc` and `deploy/web` stay pairs.

    `key=value` terms after them (label, annotate, set env) are sorted: their order does not matter.
    """
    if not rest:
        return []
    names = [word for word in rest[1:] if not _is_term(word)]
    terms = sorted(word for word in rest[1:] if _is_term(word))
    first = rest[0]
    if "/" in first or "," in first or not names:
        resources = [_canonical_resource_word(first)] + [_canonical_resource_word(w) if "/" in w else w for w in names]
    else:
        kind = _canonical_type(first)
        resources = [f"{kind}/{name}" for name in names]
    return resources + terms


def _canonical_arguments(path, words):
    if not path:
        return words  # a command kubectl does not have: compared as typed
    if path == ("auth", "can-i") and len(words) >= 2:
        # The verb is sent as typed and RBAC compares verbs exactly: `LIST` is not `list`.
        return [words[0], _can_i_resource(words[1]), *words[2:]]
    if path == ("explain",) and words:
        return [_canonical_field_path(words[0]), *words[1:]]
    if path in POD_COMMANDS and words and "/" in words[0]:
        return [_canonical_resource_word(words[0]).removeprefix("pods/"), *words[1:]]
    if path in RESOURCE_COMMANDS or path[:1] in {("rollout",), ("set",)}:
        return _type_and_names(words)
    return words


def unknown_to_kubectl(command):
    """A sentence naming the command or flags kubectl would refuse as unknown, or "" when there are none."""
    version = flag_table().kubectl_version
    if not command.command:
        return f"kubectl ({version}) has no command {command.words[0]!r}."
    if command.unknown_flags:
        names = ", ".join(command.unknown_flags)
        plural = "flags" if len(command.unknown_flags) > 1 else "flag"
        return f"kubectl {' '.join(command.command)} ({version}) has no {plural} {names}."
    return ""


def parse_accepted_command(text):
    """Parse an author's accepted command; unlike a learner's, it must use only commands and flags kubectl has."""
    command = parse_kubectl(text)
    problem = unknown_to_kubectl(command)
    if problem:
        raise CommandParseError(problem)
    return command


def commands_match(submitted, accepted):
    """True when two kubectl command texts mean the same; raises CommandParseError for ``submitted``."""
    return parse_kubectl(submitted) == parse_kubectl(accepted)
