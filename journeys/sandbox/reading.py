"""Pasted text → plain data (dicts, lists, strings, numbers), at a cost bounded by the input's size.

Why not ``yaml.load_all``: libyaml's composer recurses once per nesting level, so a 56 kB paste of
brackets overflows the C stack and kills the process, and it keeps a node with two marks for every
value (about 300 MB for a 1 MiB paste). Here the parser's events are read one by one and turned
into Python values directly: nesting is counted as it grows and refused past ``MAX_DEPTH`` before
anything deeper is read, the number of values is capped, and only JSON's types come out (a YAML
timestamp stays the text it was, `.inf` and binary are refused), so whatever is read can be stored
and shown.

Text that is not objects at all (the table `kubectl get` prints, `kubectl describe` output, an
error kubectl printed) is recognised first and answered with what to run instead.
"""

import json
import math
import re
from dataclasses import dataclass

import yaml

from .shapes import shortened

# `kubectl get -o yaml` nests about 20 levels deep at most (managedFields of a CronJob's template);
# 64 leaves room for any real manifest and stops hostile nesting long before it costs anything.
MAX_DEPTH = 64
# A 1 MiB paste of real kubectl output holds about 100,000 values; hostile text can pack 500,000
# (`[0,0,0,…]`). The cap bounds memory whatever the text looks like.
MAX_VALUES = 200_000
# Objects in one paste (documents and the items of Lists): a lab's namespace holds a few dozen.
MAX_OBJECTS = 5000
# Characters of a number: an int64 has 19 digits, a float a few more with its exponent.
MAX_NUMBER_LENGTH = 40

_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()

STR, INT, FLOAT, BOOL, NULL = (f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null"))
MAP, SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
# Tags whose values stay the text they were written as: Kubernetes reads YAML as JSON, where a
# timestamp is a string and `<<` an ordinary key.
AS_TEXT = {STR, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"}


class ReadError(ValueError):
    """The text cannot be read as Kubernetes objects; ``message`` says why in a learner's words."""

    def __init__(self, message, *, code="bad-file"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Document:
    """One YAML document or JSON value, and the line it starts on (for messages)."""

    data: object
    line: int = 0
    # Lines where the items of a List start, by position: messages about an item can name its line.
    item_lines: tuple = ()


def read_documents(text):
    """Every non-empty document in ``text``, as plain data."""
    stripped = text.strip()
    if not stripped:
        raise ReadError("Nothing was pasted. Paste the output of `kubectl get ... -o yaml`.")
    recognise_other_output(stripped)
    if stripped[0] in "{[":
        return [Document(data, line=1) for data in _json_documents(text)]
    return _yaml_documents(text)


# --- Output that is not objects ---

# The header of a `kubectl get` table: NAME (or NAMESPACE NAME) and more upper-case columns.
_TABLE_HEADER = re.compile(r"^(NAMESPACE\s+)?NAME\s{2,}[A-Z][A-Z0-9() -]*$")
# `kubectl get -o name`: one kind/name per line.
_NAME_LINE = re.compile(r"^[a-z0-9.-]+/[a-z0-9.-]+$")
_DESCRIBE_LINE = re.compile(r"^(Name|Namespace|Labels|Annotations|Selector|Events|Status|Type):\s")
_KUBECTL_ERROR = re.compile(r"^(error:|Error from server|The connection to the server|Unable to connect to the server)")


def recognise_other_output(text):
    """Refuse, with what to run instead, text that kubectl printed but that is not objects."""
    lines = [line for line in text.splitlines() if line.strip()]
    first = lines[0].strip()
    if first.startswith(("$ kubectl", "kubectl ", "% kubectl", "> kubectl")):
        raise ReadError(
            "The first line is a command (" + shortened(first, 60) + "). Paste only what kubectl printed, "
            "not the command: run it with `-o yaml` and copy the output below the command."
        )
    if first.startswith("No resources found"):
        raise ReadError(
            "kubectl found nothing: " + shortened(first, 100) + " Create the lab's objects first, and check that "
            "you are in the right namespace (-n <namespace>)."
        )
    if _KUBECTL_ERROR.match(first):
        raise ReadError(
            "This is an error kubectl printed, not objects: " + shortened(first, 120) + " Fix what it says, then "
            "run `kubectl get ... -o yaml` again and paste its output."
        )
    if _TABLE_HEADER.match(first[:400]):
        raise ReadError(
            "This is the table `kubectl get` prints, which shows only a few columns. The checks need the whole "
            "objects: run the same command with `-o yaml` at the end (for example `kubectl get deployments -o "
            "yaml`) and paste that."
        )
    if all(_NAME_LINE.match(line.strip()) for line in lines[:20]):
        raise ReadError(
            "This is the list of names `kubectl get -o name` prints. The checks need the whole objects: run "
            "the same command with `-o yaml` instead and paste that."
        )
    if re.match(r"^Name:\s{2,}\S", first) and sum(bool(_DESCRIBE_LINE.match(line)) for line in lines[:40]) >= 3:
        raise ReadError(
            "This is `kubectl describe` output, which is written for people and leaves fields out. The checks "
            "need the objects themselves: run `kubectl get <kind> <name> -o yaml` and paste that."
        )


# --- JSON ---


def _reject_constant(name):
    raise ReadError(f"This JSON holds {name}, which is not a number Kubernetes accepts.")


def _bounded_int(value, event=None):
    # Hexadecimal and binary integers escape Python's limit on decimal digits; no field needs more
    # than 64 bits, and a larger number cannot even be shown in a message.
    if value.bit_length() > 64:
        where = f" at line {_line(event)}" if event is not None else ""
        raise ReadError(f"A number{where} is larger than any Kubernetes field holds; quote it if it is text.")
    return value


def _json_int(text):
    if len(text) > 20:
        raise ReadError("This JSON holds a number larger than any Kubernetes field holds.")
    return _bounded_int(int(text))


def _finite_float(text):
    value = float(text)
    if math.isinf(value):
        raise ReadError(f"This JSON holds the number {shortened(text, 40)}, too large for any Kubernetes field.")
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(text):
    """JSON text as plain data within the reader's bounds; raises ReadError. Also for JSON inside objects."""
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_json_int)
    except RecursionError:
        raise _too_deep() from None
    except ReadError:
        raise
    except json.JSONDecodeError as exc:
        raise ReadError(
            f"This looks like JSON but is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}. "
            "Paste the whole output of `kubectl get ... -o json`, from the first { to the last }."
        ) from None
    except ValueError:
        raise ReadError("This JSON holds a number too long to be a Kubernetes value.") from None
    _check_json_bounds(data)
    if _SURROGATE_ESCAPE.search(text):
        data = _without_lone_surrogates(data)
    return data


def _without_lone_surrogates(data):
    """Lone UTF-16 halves (\\ud800) cannot be stored or shown; like Kubernetes, read them as U+FFFD."""

    def fixed(value):
        return _LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value

    stack = [data] if isinstance(data, (dict, list)) else []
    while stack:
        container = stack.pop()
        if isinstance(container, dict):
            items = [(fixed(key), fixed(value)) for key, value in container.items()]
            container.clear()
            container.update(items)
            children = container.values()
        else:
            container[:] = [fixed(value) for value in container]
            children = container
        stack.extend(child for child in children if isinstance(child, (dict, list)))
    return fixed(data)


def _json_documents(text):
    data = parse_json(text)
    return data if isinstance(data, list) else [data]


def _check_json_bounds(data):
    """Depth and size of parsed JSON, walked without recursion; only collections are kept to visit."""
    count, stack = 1, [(data, 1)] if isinstance(data, (dict, list)) else []
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if depth > MAX_DEPTH:
            raise _too_deep()
        count += len(children)
        if count > MAX_VALUES:
            raise _too_many()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


# --- YAML ---


def _too_deep(line=None):
    where = f" (at line {line})" if line else ""
    return ReadError(
        f"This is nested more than {MAX_DEPTH} levels deep{where}; kubectl output never is. "
        "Paste the output of `kubectl get ... -o yaml` as it was printed."
    )


def _too_many_objects():
    return ReadError(
        f"More than {MAX_OBJECTS:,} objects were pasted; paste only this lab's (`kubectl get <kinds> -o yaml`).",
        code="too-large",
    )


def _too_many():
    return ReadError(
        f"This holds more than {MAX_VALUES:,} values, more than the objects of one lab ever need. "
        "Paste only this lab's objects (`kubectl get <kinds> -o yaml`).",
        code="too-large",
    )


class _Builder:
    """Turns parser events into values, one event at a time, within the depth and size bounds."""

    def __init__(self):
        self.documents = []
        self.stack = []  # open collections: [container, pending key (maps), start line]
        self.values = 0
        # Documents and List items so far, counted as they open: 27,000 tiny documents are refused
        # at the 5,001st instead of after all of them were read.
        self.objects = 0
        self.item_lines = []

    def feed(self, event):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            top = self.stack[-1] if self.stack else None
            if top is not None and type(top[0]) is dict and top[1] is _NO_KEY:
                # A key stays the text it was written as (JSON keys are strings): never converted.
                self._count()
                self._refuse_anchor(event)
                top[1] = event.value
            else:
                self._add(self._scalar(event), event)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self._open(event, {} if kind is yaml.MappingStartEvent else [])
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            container, _key, line = self.stack.pop()
            if type(container) is _Key:
                raise ReadError(f"A key at line {line} is a list or a mapping; keys must be plain text.")
            self._add(container, event, line=line, opened=True)
        elif kind is yaml.AliasEvent:
            raise ReadError(
                f"YAML aliases (*name) are not accepted here (line {_line(event)}); paste plain kubectl output."
            )
        elif kind is yaml.DocumentStartEvent:
            self.item_lines = []

    def _open(self, event, container):
        if event.anchor is not None:
            # Anchors are only useful with aliases, which are refused; naming one is refused alike.
            raise ReadError(
                f"YAML anchors (&name) are not accepted here (line {_line(event)}); paste plain kubectl output."
            )
        tag = event.tag
        if tag not in (None, "!", MAP if isinstance(container, dict) else SEQ):
            raise _unknown_tag(tag, event)
        if len(self.stack) >= MAX_DEPTH:
            raise _too_deep(_line(event))
        self._count()
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent[0], dict) and parent[1] is _NO_KEY:
            # A collection where a mapping expects its key: read it, then refuse it when it closes.
            container = _Key()
        self.stack.append([container, _NO_KEY, _line(event)])
        depth = len(self.stack)
        if depth == 1 and isinstance(container, dict):
            self._count_object()
        elif depth == 2 and isinstance(container, list) and self.stack[0][1] == "items":
            self.objects -= 1  # the document is a List: its items are the objects
        elif depth == 3 and isinstance(container, dict) and self.stack[0][1] == "items":
            self.item_lines.append(_line(event))
            self._count_object()

    def _count_object(self):
        self.objects += 1
        if self.objects > MAX_OBJECTS:
            raise _too_many_objects()

    def _add(self, value, event, *, line=None, opened=False):
        if not opened:
            self._count()
        if not self.stack:
            if value is not None:
                self.documents.append(Document(value, line=line or _line(event), item_lines=tuple(self.item_lines)))
            return
        top = self.stack[-1]
        container = top[0]
        if isinstance(container, list):
            container.append(value)
        elif isinstance(container, _Key):
            pass
        elif top[1] is _NO_KEY:
            top[1] = event.value if type(event) is yaml.ScalarEvent else value
        else:
            container[top[1]] = value
            top[1] = _NO_KEY

    def _count(self):
        self.values += 1
        if self.values > MAX_VALUES:
            raise _too_many()

    @staticmethod
    def _refuse_anchor(event):
        if event.anchor is not None:
            raise ReadError(
                f"YAML anchors (&name) are not accepted here (line {_line(event)}); paste plain kubectl output."
            )

    def _scalar(self, event):
        self._refuse_anchor(event)
        tag = event.tag
        if tag is None or tag == "!":
            tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag in AS_TEXT:
            return event.value
        if tag == NULL:
            return None
        if tag not in (INT, FLOAT, BOOL):
            raise _unknown_tag(tag, event)
        if tag != BOOL and ":" in event.value:
            # YAML 1.1's base-60 numbers (1:30): Kubernetes reads them as text, and converting one
            # costs time that grows with the square of its length.
            return event.value
        if tag != BOOL and len(event.value) > MAX_NUMBER_LENGTH:
            raise ReadError(
                f"The number {shortened(event.value, 40)} at line {_line(event)} is longer than any Kubernetes "
                "field holds; quote it if it is text."
            )
        node = yaml.ScalarNode(tag, event.value)
        try:
            if tag == BOOL:
                return _constructor.construct_yaml_bool(node)
            if tag == INT:
                return _bounded_int(_constructor.construct_yaml_int(node), event)
            value = _constructor.construct_yaml_float(node)
        except (ValueError, OverflowError):
            raise ReadError(
                f"The number {shortened(event.value, 40)} at line {_line(event)} is larger than any Kubernetes field "
                "holds; quote it if it is text."
            ) from None
        if math.isinf(value) or math.isnan(value):
            raise ReadError(
                f"{event.value} at line {_line(event)} is not a number Kubernetes accepts; quote it if it is text."
            )
        return value


class _Key(list):
    """Stands for a collection used as a mapping key, which Kubernetes objects never have."""


_NO_KEY = object()


def _line(event):
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else 0


def _unknown_tag(tag, event):
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return ReadError(
        f"The YAML tag {shortened(shown, 40)} at line {_line(event)} is not accepted here; kubectl output has no "
        "tags. Remove it, or quote the value if it is text."
    )


# What the parser's problems mean, in words a learner can act on.
_YAML_PROBLEMS = (
    ("found character '\\t'", "a tab character: YAML indents with spaces only"),
    ("mapping values are not allowed", "a colon where a value was expected: check the indentation, or put quotes "
     "around a value that contains \": \""),
    ("could not find expected ':'", "a line without the colon of key: value, or with the wrong indentation"),
    ("did not find expected key", "the indentation does not line up with the lines above"),
    ("did not find expected '-' indicator", "a list item that does not line up with the items above"),
    ("did not find expected ',' or ']'", "a [ that is never closed with ]"),
    ("did not find expected ',' or '}'", "a { that is never closed with }"),
    ("found unexpected end of stream", "the text ends in the middle of a quoted value or a bracket"),
    ("found unexpected ':'", "a colon in an unexpected place: put quotes around a value that contains one"),
    ("special characters are not allowed", "a control character (such as a NUL byte) that text may not contain"),
    ("found undefined tag handle", "a ! that starts a tag: put quotes around a value that starts with !"),
    ("found character '@' that cannot start any token", "a value starting with @: put quotes around it"),
    ("found character '`' that cannot start any token", "a value starting with `: put quotes around it"),
)  # fmt: skip


def _explain(exc, lines):
    problem = exc.problem or exc.context or "it cannot be read"
    words = next((plain for marker, plain in _YAML_PROBLEMS if marker in problem), problem)
    mark = exc.problem_mark or exc.context_mark
    if words.startswith("a [") or words.startswith("a {"):
        # The parser notices at the end of the text; the learner needs the line the bracket opened on.
        mark = exc.context_mark or mark
    if mark is not None and mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t":
        words = "a tab character: YAML indents with spaces only"
    if mark is None:
        return f"This is not valid YAML: {words}."
    number = mark.line + 1
    shown = lines[mark.line].strip() if mark.line < len(lines) else ""
    quoted = f' ("{shortened(shown, 60)}")' if shown else ""
    return (
        f"This is not valid YAML: line {number}{quoted} has {words}."
        if words != problem
        else (f"This is not valid YAML: line {number}{quoted}: {problem}.")
    )


def _yaml_documents(text):
    builder = _Builder()
    try:
        for event in yaml.parse(text, Loader=_Parser):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        raise ReadError(_explain(exc, text.splitlines())) from None
    except yaml.reader.ReaderError as exc:
        raise ReadError(
            f"This holds a character text may not contain ({_describe_character(exc.character)}, "
            f"character {exc.position + 1}). Copy the output again from your terminal."
        ) from None
    except yaml.YAMLError as exc:
        raise ReadError(f"This is not valid YAML ({exc.__class__.__name__}).") from None
    return builder.documents


def _describe_character(character):
    if isinstance(character, int):
        return f"byte {character:#04x}"
    return "a NUL byte" if character == "\0" else f"U+{ord(character):04X}"
