"""Properties of the kubectl parser over generated input: hostile text never breaks it, rewrites never fool it."""

import shlex
import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from journeys.quizzes.kubectl_command import (
    MAX_COMMAND_LENGTH,
    CommandParseError,
    canonical_selector,
    flag_table,
    parse_kubectl,
)

TABLE = flag_table()
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- Hostile input ---------------------------------------------------------------------------------

PIECES = [
    "kubectl", "k", "get", "logs", "patch", "create", "deployment", "config", "use", "apply", "view-last-applied",
    "auth", "can-i", "explain", "set", "image", "label", "-p", "-r", "--prefix", "-n", "-o", "-l", "-f", "-it",
    "-owide",
    "-o=", "--", "-", "--=", "---", "--dry-run", "--filename=", "--selector=", "-l=", "=", "'", '"', "\\", "(", ")",
    ",", "in", "notin", "!", "!=", "==", "statefulset.apps/web", "sts.", ".", "/", "./", "a,b", "\x00", "\t", "\n",
    "é", "\u202e", "\ufeff", "🙂", "$", "`", "-w=maybe", "--watch=", "-\x00", "--\x00=1",
]  # fmt: skip
hostile_commands = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), min_size=0, max_size=40).flatmap(
    lambda parts: st.sampled_from([" ", "  ", "\t", ""]).map(lambda gap: gap.join(parts))
)


def read_or_refuse(text):
    try:
        command = parse_kubectl(text)
    except CommandParseError as exc:
        assert str(exc)  # a reason a learner can read
        return None
    str(command)  # the canonical form can always be shown
    hash(command)
    return command


@SETTINGS
@given(st.text())
def test_any_text_is_read_or_refused_in_plain_words(text):
    read_or_refuse(text)
    read_or_refuse("kubectl " + text)


@SETTINGS
@given(hostile_commands)
def test_command_like_text_is_read_or_refused_in_plain_words(text):
    read_or_refuse(text)
    read_or_refuse("kubectl " + text)


@SETTINGS
@given(st.text(alphabet=st.sampled_from("-=,()!' \"\\lnpof"), max_size=60))
def test_flags_quotes_and_selectors_in_any_mix(text):
    read_or_refuse("kubectl get pods " + text)
    read_or_refuse("kubectl logs web " + text)
    read_or_refuse("kubectl get pods -l " + shlex.quote(text))
    canonical_selector(text)


@pytest.mark.parametrize("text", ["kubectl --=x get pods", "kubectl get pods ---watch", "kubectl get pods -w-"])
def test_a_dash_without_a_flag_name_is_refused(text):
    with pytest.raises(CommandParseError, match="is not a flag"):
        parse_kubectl(text)


@pytest.mark.parametrize(
    "text",
    [
        "kubectl get " + "x" * 10_000_000,
        "kubectl get pods -l '" + "(" * 400,
        'kubectl get "' + "x" * 400,
        "kubectl " + "-p " * 160,
        "kubectl get pods -l " + ",".join(["a in (b"] * 60),
        "kubectl\x00get\x00pods",
        "kubectl get pods -l " + "a" * 480,
        "kubectl " + " ".join(["config"] * 60),
        "kubectl create " + "-r " * 160,
    ],
    ids=[
        "10 MB",
        "open parentheses",
        "unbalanced quote",
        "many -p",
        "broken set terms",
        "NUL",
        "long key",
        "repeated word",
        "flags before a subcommand",
    ],
)
def test_huge_or_odd_input_is_answered_at_once(text):
    started = time.perf_counter()
    read_or_refuse(text)
    assert time.perf_counter() - started < 0.5
    if len(text) > MAX_COMMAND_LENGTH:
        with pytest.raises(CommandParseError, match="longer than"):
            parse_kubectl(text)


# --- Equal-meaning rewrites ------------------------------------------------------------------------

# Command paths with their positional words, each spelled in ways that mean the same (the first is plain).
POSITIONALS = {
    ("get",): [["pods"], ["po"], ["pod"]],
    ("describe",): [["statefulsets", "web"], ["sts", "web"], ["statefulset.apps/web"], ["statefulsets.v1.apps", "web"]],
    ("logs",): [["web-0"], ["pod/web-0"], ["pods/web-0"]],
    ("patch",): [["deployments", "web"], ["deploy/web"], ["deployment.apps", "web"]],
    ("create", "deployment"): [["web"]],
    ("create", "job"): [["manual"]],
    ("apply",): [[]],
    ("delete",): [["pods", "web", "api"], ["pod", "web", "api"]],
    ("config", "use-context"): [["prod"]],
    ("exec",): [["web"], ["pod/web"]],
    ("rollout", "status"): [["deployments/web"], ["deploy", "web"]],
    ("label",): [["pods/web", "a=1", "b=2"], ["pod", "web", "b=2", "a=1"]],
    ("top", "pod"): [[]],
}
PATH_WORDS = {("config", "use-context"): [["config", "use-context"], ["config", "use"]],
              ("create", "deployment"): [["create", "deployment"], ["create", "deploy"]],
              ("top", "pod"): [["top", "pod"], ["top", "pods"], ["top", "po"]]}  # fmt: skip
values = st.from_regex(r"[a-z0-9][a-z0-9.:-]{0,8}", fullmatch=True)


@st.composite
def command_and_rewrite(draw):
    """A command in its plain spelling, and the same command with flags reordered and respelled."""
    if draw(st.booleans()):
        path = draw(st.sampled_from(sorted(POSITIONALS)))
        spellings = POSITIONALS[path]
    else:  # any command kubectl has, with no positional words
        path = draw(st.sampled_from(sorted(key for key in TABLE.commands if key)))
        spellings = [[]]
    local = TABLE.command(path).flags
    candidates = sorted(local) + sorted(name for name in TABLE.global_flags if name not in local)
    names = draw(st.lists(st.sampled_from(candidates), unique=True, max_size=6))
    chosen = []
    for name in names:
        flag = TABLE.long_flag(path, name)
        value = None if flag.kind == "bool" else draw(values)
        chosen.append((flag, value))

    plain = ["kubectl", *path, *spellings[0]]
    for flag, value in sorted(chosen, key=lambda item: item[0].name):
        plain.append(f"--{flag.name}" if value is None else f"--{flag.name}={shlex.quote(value)}")

    items = [draw(spell(flag, value, cluster_ok=True)) for flag, value in chosen]
    # A boolean flag set to its default changes nothing.
    defaults = [flag for name, flag in sorted(local.items()) if flag.kind == "bool" and name not in names]
    for flag in draw(st.lists(st.sampled_from(defaults), unique=True, max_size=2)) if defaults else []:
        items.append([f"--{flag.name}={flag.default}"])
    items = draw(st.permutations(items))
    # Interleave the flags with the positional words, whose own order is kept.
    positional = list(draw(st.sampled_from(spellings)))
    tail = list(positional)
    for item in items:
        tail.insert(draw(st.integers(0, len(tail))), item)
    words = [part for entry in tail for part in (entry if isinstance(entry, list) else [entry])]
    path_words = draw(st.sampled_from(PATH_WORDS.get(path, [list(path)])))
    # Global flags may also come before the command (`kubectl -n shop get pods`).
    before = []
    for flag, value in chosen:
        if flag.name in TABLE.global_flags and flag.name not in local and value is not None and draw(st.booleans()):
            item = [f"--{flag.name}", value]
            words = _remove_item(words, flag)
            before.extend(item)
    rewrite = ["kubectl", *before, *path_words, *words]
    return " ".join(plain), " ".join(shlex.quote(word) if " " in word else word for word in rewrite)


def _remove_item(words, flag):
    """Take a flag (in whatever spelling it was placed) out of the word list, to place it elsewhere."""
    out, skip = [], False
    for index, word in enumerate(words):
        if skip:
            skip = False
            continue
        long = word == f"--{flag.name}" or word.startswith(f"--{flag.name}=")
        short = flag.short and (word == f"-{flag.short}" or word.startswith(f"-{flag.short}"))
        if long or (short and not word.startswith("--")):
            skip = word in (f"--{flag.name}", f"-{flag.short}") and index + 1 < len(words)
            continue
        out.append(word)
    return out


@st.composite
def spell(draw, flag, value, cluster_ok):
    """One flag written any way kubectl reads it the same: long or short, `=` or a space, `=true`."""
    long, short = f"--{flag.name}", f"-{flag.short}" if flag.short else None
    names = [long] + ([short] if short else [])
    name = draw(st.sampled_from(names))
    if value is None:  # a boolean
        return [draw(st.sampled_from([name, f"{name}=true", f"{name}=1", f"{name}=True"]))]
    quoted = draw(st.sampled_from([value, f"'{value}'", f'"{value}"']))
    if flag.kind == "optional":  # a space would leave the value as a word of its own
        return [f"{name}={quoted}"]
    forms = [[f"{name}={quoted}"], [name, quoted]]
    if name == short:
        forms.append([f"{name}{quoted}"])
    return draw(st.sampled_from(forms))


@SETTINGS
@given(command_and_rewrite())
def test_equal_meaning_rewrites_compare_equal(pair):
    plain, rewrite = pair
    assume(len(rewrite) <= MAX_COMMAND_LENGTH)
    command = parse_kubectl(plain)
    assert parse_kubectl(rewrite) == command, f"{rewrite!r} is read as {parse_kubectl(rewrite)}"
    assert parse_kubectl(str(command)) == command  # the canonical form shown reads back the same


selector_terms = st.one_of(
    st.builds("{}={}".format, st.sampled_from("abcde"), values),
    st.builds("{}!={}".format, st.sampled_from("abcde"), values),
    st.sampled_from(["app", "!canary", "tier in (fe,be)", "env notin (qa, dev)", "k==v"]),
)


@SETTINGS
@given(st.lists(selector_terms, min_size=1, max_size=6, unique=True), st.randoms(use_true_random=False))
def test_selector_terms_in_any_order_and_spacing_compare_equal(terms, random):
    shuffled = list(terms)
    random.shuffle(shuffled)
    spaced = (", " if random.random() < 0.5 else ",").join(shuffled)
    first = parse_kubectl("kubectl get pods -l " + shlex.quote(",".join(terms)))
    second = parse_kubectl("kubectl get pods --selector=" + shlex.quote(spaced))
    assert first == second
