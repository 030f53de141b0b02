"""Run one lab's checks from the command line.

Why: operators verify that the portal can read a namespace (RBAC, network, credentials) before
learners depend on it, and authors test a lab against a real cluster or a saved `kubectl get -o yaml`
dump. Exit codes are a contract: 0 every required check passes, 1 some fail, 2 could not evaluate.
On exit 2, stderr carries one line starting with "sandbox_check: " that says what went wrong and
what to do; with --json, stdout carries the JSON report and nothing else.

`--from-file -` reads standard input, so kubectl's output can be piped in directly:

    kubectl get cronjob -o yaml | python manage.py sandbox_check --lab nightly-backup --from-file -
"""

import contextlib
import json as json_module
import logging
import os
import select
import stat
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from journeys.sandbox.labs import LABS, evaluate, kinds_for
from journeys.sandbox.report import ERROR, PASS
from journeys.sandbox.reviewer import advice_groups
from journeys.sandbox.sources import (
    MAX_PASTE_BYTES,
    ClusterSettings,
    ClusterSource,
    FileSource,
    SourceError,
    decode_text,
)

logger = logging.getLogger(__name__)

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
MARKS = {"pass": "✓", "fail": "✗", "error": "?", "skip": "–"}
STDIN = "-"
# A named pipe nobody writes to would otherwise block the command forever.
FIFO_WAIT_SECONDS = 30.0


class Command(BaseCommand):
    help = "Check a lab against a namespace (through the Kubernetes API) or against a saved kubectl dump."
    # The checks read no database, templates or URLs; a system-check failure would end the command
    # with exit 1, which callers would read as "some checks fail".
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--lab", required=True, choices=sorted(LABS), help="The lab to check.")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--namespace", help="Read this namespace through the Kubernetes API.")
        where.add_argument(
            "--from-file",
            metavar="PATH",
            help="Read objects from this file (kubectl get ... -o yaml or -o json, or manifests); "
            "'-' reads standard input, e.g. kubectl get cronjob -o yaml | ... --from-file -. At most 1 MiB.",
        )
        parser.add_argument(
            "--kubeconfig", help="kubeconfig file (default: SANDBOX_KUBECONFIG, then $KUBECONFIG, then ~/.kube/config)."
        )
        parser.add_argument(
            "--context", help="kubeconfig context (default: SANDBOX_CONTEXT, then the current context)."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, lab, namespace=None, from_file=None, kubeconfig=None, context=None, json=False, **options):
        verbose = options.get("verbosity", 1) >= 2
        with contextlib.ExitStack() as stack:
            # The portal's LOGGING streams to stdout (right for a server, whose stdout is its log), and
            # Django routes warnings through logging: on a command line they would mix into the report.
            stack.enter_context(_logs_on_stderr(self.stdout))
            if json:
                # Anything else that prints (a library, a warning hook) lands on stderr; self.stdout still
                # holds the real stdout, so the JSON document is the only thing written there.
                stack.enter_context(contextlib.redirect_stdout(sys.stderr))
            code, output, reason, detail = self._run(LABS[lab], namespace, from_file, kubeconfig, context, json)
            if output is not None:
                self.stdout.write(output)
            if reason:
                self.stderr.write(f"sandbox_check: {_one_line(reason)}")
                if verbose and detail and detail != reason:
                    self.stderr.write(f"sandbox_check: detail: {_one_line(detail)}")
        sys.exit(code)

    def _run(self, lab, namespace, from_file, kubeconfig, context, json):
        """(exit code, stdout text or None, one-line reason or "", detail for operators)."""
        source_kind = "api" if from_file is None else "file"
        try:
            if from_file is not None:
                snapshot = FileSource(text=_read_text(from_file)).snapshot(kinds_for(lab))
            else:
                snapshot = self._from_cluster(namespace, lab, kubeconfig, context)
            report = evaluate(lab, snapshot, source=source_kind)
            # Rendered before anything is written, so a failure here cannot leave half a report behind.
            output = _json(report.as_dict()) if json else "\n".join(self._lines(report))
        except SourceError as error:
            return EXIT_ERROR, None, error.message, error.detail
        except Exception as exc:  # noqa: BLE001 - any input must end in exit 2 and one line, never a traceback
            logger.debug("sandbox_check could not evaluate lab %s", lab.slug, exc_info=True)
            name = exc.__class__.__name__
            if source_kind == "file":
                reason = (
                    f"the checks could not read these objects ({name}); check that the input is unmodified "
                    "kubectl output (kubectl get ... -o yaml)"
                )
            else:
                reason = (
                    f"the objects read from the Kubernetes API could not be checked ({name}); try again, and if "
                    "it keeps happening run with LOG_LEVEL=DEBUG and report the traceback"
                )
            return EXIT_ERROR, None, reason, f"{name}: {exc}"
        if report.outcome == ERROR:
            if source_kind == "file":
                reason = (
                    "some required checks could not read these objects (the report says which); check that the "
                    "input is unmodified kubectl output"
                )
            else:
                reason = "some required checks could not be evaluated; the report says which and why"
            return EXIT_ERROR, output, reason, ""
        return (EXIT_PASS if report.outcome == PASS else EXIT_FAIL), output, "", ""

    def _from_cluster(self, namespace, lab, kubeconfig, context):
        if not namespace.strip():
            raise SourceError("bad-namespace", "the namespace name is empty; pass --namespace NAME")
        cluster = ClusterSettings.from_django()
        kubeconfig = kubeconfig or cluster.kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        kubeconfig = kubeconfig or str(Path.home() / ".kube" / "config")
        if not cluster.in_cluster and not Path(kubeconfig).is_file():
            raise SourceError("not-configured", f"no kubeconfig found at {kubeconfig}; pass --kubeconfig")
        cluster.kubeconfig = "" if cluster.in_cluster and not kubeconfig else kubeconfig
        cluster.context = context or cluster.context
        return ClusterSource(cluster).snapshot(kinds_for(lab), namespace)

    def _lines(self, report):
        yield f"Lab {report.lab} in namespace {report.namespace} ({'API' if report.source == 'api' else 'file'})"
        for check in report.checks:
            optional = "" if check.required else " (optional)"
            yield f"  {MARKS.get(check.status, '?')} {check.title}{optional}: {check.actual}"
            if check.status != PASS and check.hint:
                yield f"      expected: {check.expected}"
                yield f"      fix: {check.hint}"
        advice = advice_groups(report.advisories)
        if advice.objects or advice.notes:
            yield "  What a production reviewer would say (advice only):"
        for found in advice.objects:
            yield f"    {found.kind} {found.name}"
            yield from (f"      ! {point}" for point in found.points)
            for container in found.containers:
                yield f"      {container.kind} {container.name}"
                yield from (f"        ! {point}" for point in container.points)
        yield from (f"    {note}" for note in advice.notes)
        yield self.style.SUCCESS("PASSED") if report.passed else self.style.ERROR("NOT PASSED")


def _read_text(path):
    """The file's text, refused as soon as it passes the size limit (so /dev/zero cannot exhaust memory)."""
    if not path:
        raise SourceError("bad-file", "the --from-file path is empty; give the path of a file, or - for standard input")
    where = "standard input" if path == STDIN else f"the file {path}"
    try:
        if path == STDIN:
            data = _read_stdin()
        else:
            with _open(path) as stream:
                data = stream.read(MAX_PASTE_BYTES + 1)
    except FileNotFoundError:
        raise SourceError("bad-file", f"the file {path} does not exist; check the path") from None
    except IsADirectoryError:
        raise SourceError("bad-file", f"{path} is a directory; give the path of a file inside it") from None
    except PermissionError:
        raise SourceError(
            "bad-file", f"you may not read the file {path} (permission denied); check its permissions"
        ) from None
    except TimeoutError:
        raise SourceError(
            "bad-file",
            f"nothing was written to the pipe {path} within {FIFO_WAIT_SECONDS:g} seconds; start the program "
            "that writes to it, or save its output to a file",
        ) from None
    except OSError as exc:
        raise SourceError("bad-file", f"{where} cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_PASTE_BYTES:
        raise SourceError(
            "bad-file",
            f"{where} is larger than 1 MiB; save only this lab's objects (kubectl get <kind> <name> -o yaml)",
        )
    text = decode_text(data, what=where)
    if not text.strip():
        raise SourceError(
            "bad-file", f"{where} is empty; save the output of kubectl get ... -o yaml into it and try again"
        )
    return text


def _read_stdin():
    if sys.stdin is None:
        raise OSError("there is no standard input")
    if sys.stdin.isatty():
        sys.stderr.write("sandbox_check: reading objects from standard input; end with Ctrl-D\n")
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        # A text stream (tests, embedded callers): read one character more than the limit in bytes, at most.
        return sys.stdin.read(MAX_PASTE_BYTES + 1).encode("utf-8")
    return stream.read(MAX_PASTE_BYTES + 1)


def _open(path):
    """Open for binary reading; a named pipe is waited on for a bounded time instead of forever."""
    if not stat.S_ISFIFO(os.stat(path).st_mode):
        return open(path, "rb")
    # Opening the read end of a pipe blocks until a writer appears; non-blocking, it returns at once and
    # select() waits for the first data (or the writer closing) for a bounded time.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        ready, _, _ = select.select([descriptor], [], [], FIFO_WAIT_SECONDS)
        if not ready:
            raise TimeoutError
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


@contextlib.contextmanager
def _logs_on_stderr(stdout_wrapper):
    stdout_streams = {id(sys.stdout), id(sys.__stdout__), id(getattr(stdout_wrapper, "_out", None))}
    loggers = [logging.getLogger()] + [
        item for item in logging.Logger.manager.loggerDict.values() if isinstance(item, logging.Logger)
    ]
    moved = []
    for each in loggers:
        for handler in each.handlers:
            if isinstance(handler, logging.StreamHandler) and id(handler.stream) in stdout_streams:
                moved.append((handler, handler.setStream(sys.stderr)))
    try:
        yield
    finally:
        # In-process callers (tests, call_command) keep their logging as it was.
        for handler, stream in moved:
            handler.setStream(stream)


def _one_line(text):
    """The reason as one line: the contract promises one, but a reader's message may list offenders on lines."""
    parts = [" ".join(line.split()).removeprefix("- ") for line in str(text).splitlines()]
    joined = ""
    for part in filter(None, parts):
        joined += part if not joined else (" " if joined.endswith(":") else "; ") + part
    return joined


def _json(data):
    return json_module.dumps(data, indent=2, ensure_ascii=False)
