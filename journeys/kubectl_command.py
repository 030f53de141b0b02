"""Understand a typed kubectl command well enough to compare two of them by meaning.

``kubectl get po -n shop -o wide`` and ``kubectl get pods --output=wide --namespace shop`` ask the
API server for the same thing, so a quiz must accept both. A command is parsed with shell rules
(quotes, escapes) and then the way kubectl itself reads it: the command and its subcommands are
found first (``kubectl config use prod`` is ``config use-context``), then every flag is read with
*that* command's flags, which come from kubectl's own definitions in ``kubectl_flags.json`` (written
by ``scripts/kubectl_flags.py``): ``-p`` is ``--previous`` for ``logs`` and ``--patch`` for
``patch``, and ``--prefix`` takes no value, so the word after it is not swallowed.

The result is a canonical form: the command path, the resource types spelled one way
(``sts``, ``statefulset.apps`` → ``statefulsets``), and a set of flags with their long names and
values reduced to their meaning (selector terms in any order, ``./web.yaml`` = ``web.yaml``,
``--watch=false`` = no ``--watch``). Two commands are the same request when their forms are equal.
"""

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
# As `kubectl api-resources` lists them: plural name → (API group, preferred version, other names).
RESOURCES = {
    "pods": ("", "v1", ("po", "pod")),
    "services": ("", "v1", ("svc", "service")),
    "endpoints": ("", "v1", ("ep",)),
    "namespaces": ("", "v1", ("ns", "namespace")),
    "nodes": ("", "v1", ("no", "node")),
    "configmaps": ("", "v1", ("cm", "configmap")),
    "secrets": ("", "v1", ("secret",)),
    "serviceaccounts": ("", "v1", ("sa", "serviceaccount")),
    "persistentvolumes": ("", "v1", ("pv", "persistentvolume")),
    "persistentvolumeclaims": ("", "v1", ("pvc", "persistentvolumeclaim")),
    "resourcequotas": ("", "v1", ("quota", "resourcequota")),
    "limitranges": ("", "v1", ("limits", "limitrange")),
    "events": ("", "v1", ("ev", "event")),
    "replicationcontrollers": ("", "v1", ("rc", "replicationcontroller")),
    "podtemplates": ("", "v1", ("podtemplate",)),
    "deployments": ("apps", "v1", ("deploy", "deployment")),
    "replicasets": ("apps", "v1", ("rs", "replicaset")),
    "statefulsets": ("apps", "v1", ("sts", "statefulset")),
    "daemonsets": ("apps", "v1", ("ds", "daemonset")),
    "controllerrevisions": ("apps", "v1", ("controllerrevision",)),
    "jobs": ("batch", "v1", ("job",)),
    "cronjobs": ("batch", "v1", ("cj", "cronjob")),
    "ingresses": ("networking.k8s.io", "v1", ("ing", "ingress")),
    "ingressclasses": ("networking.k8s.io", "v1", ("ingressclass",)),
    "networkpolicies": ("networking.k8s.io", "v1", ("netpol", "networkpolicy")),
    "roles": ("rbac.authorization.k8s.io", "v1", ("role",)),
    "rolebindings": ("rbac.authorization.k8s.io", "v1", ("rolebinding",)),
    "clusterroles": ("rbac.authorization.k8s.io", "v1", ("clusterrole",)),
    "clusterrolebindings": ("rbac.authorization.k8s.io", "v1", ("clusterrolebinding",)),
    "horizontalpodautoscalers": ("autoscaling", "v2", ("hpa", "horizontalpodautoscaler")),
    "poddisruptionbudgets": ("policy", "v1", ("pdb", "poddisruptionbudget")),
    "storageclasses": ("storage.k8s.io", "v1", ("sc", "storageclass")),
    "customresourcedefinitions": ("apiextensions.k8s.io", "v1", ("crd", "crds", "customresourcedefinition")),
    "priorityclasses": ("scheduling.k8s.io", "v1", ("pc", "priorityclass")),
    "certificatesigningrequests": ("certificates.k8s.io", "v1", ("csr", "certificatesigningrequest")),
    "endpointslices": ("discovery.k8s.io", "v1", ("endpointslice",)),
    "leases": ("coordination.k8s.io", "v1", ("lease",)),
}
RESOURCE_ALIASES = {name: plural for plural, (_, _, names) in RESOURCES.items() for name in (plural, *names)} | {
    "all": "all"
}

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
# What a valued flag given bare, or given a boolean, means: `--dry-run` alone is the old spelling of client.
VALUE_MEANINGS = {
    "dry-run": {"": "client", "unchanged": "client", "true": "client", "false": "none"},
    "validate": {"": "strict", "true": "strict", "false": "ignore"},
    "cascade": {"": "background", "true": "background", "false": "orphan"},
}
# pflag's strconv.ParseBool.
TRUE_WORDS = {"1", "t", "T", "TRUE", "true", "True"}
FALSE_WORDS = {"0", "f", "F", "FALSE", "false", "False"}


@dataclass(frozen=True)
class Flag:
    name: str  # the long name, without dashes
    short: str
    kind: str  # "bool", "value", "list" (may repeat) or "optional" (a value, or bare)
    default: str


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
    return {name: Flag(name, entry["short"], entry["type"], entry["default"]) for name, entry in table.items()}


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
        name = subcommands.get(rest[index]) or subcommands.get(rest[index].lower())
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
    flags = set()
    for name, value in values.items():
        if isinstance(value, set):
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
    value = _flag_value(flag, value)
    if flag.kind == "list":
        items = value.split(",") if flag.name == "filename" else [value]  # a StringSlice: commas separate
        values.setdefault(flag.name, set()).update(_canonical_value(flag.name, item) for item in items)
    else:
        values[flag.name] = value  # given twice, the last one counts; None: the default


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


# --- Values that can be written in more than one way -----------------------------------------------


def _canonical_value(name, value):
    if name in ("filename", "kustomize", "kubeconfig"):
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


def canonical_path(value):
    """`./web.yaml` and `web.yaml` name the same file, `dir/web.yaml` another; URLs and `-` stay as typed."""
    if value == "-" or "://" in value:
        return value
    parts = [part for part in value.split("/") if part not in ("", ".")]
    joined = "/".join(parts)
    if value.startswith("/"):
        return "/" + joined
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


def _canonical_type(word):
    """`po` → `pods`; `statefulset.apps` and `statefulsets.v1.apps` → `statefulsets`; `sts.batch` stays apart."""
    head, dot, rest = word.lower().partition(".")
    canonical = RESOURCE_ALIASES.get(head)
    if canonical is None:
        return word
    if not dot:
        return canonical
    group, version, _ = RESOURCES.get(canonical, ("", "", ()))
    if group and rest in (group, f"{version}.{group}"):
        return canonical
    return f"{canonical}.{rest}"


def _canonical_field_path(word):
    """For `kubectl explain`: `deploy.spec.strategy` → `deployments.spec.strategy`."""
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
        return [words[0].lower(), *words[1:]] if words else []
    if path == ("auth", "can-i") and len(words) >= 2:
        return [words[0].lower(), _canonical_resource_word(words[1]), *words[2:]]
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
