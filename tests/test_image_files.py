"""The image's files agree with each other: what the Dockerfile copies and the portal imports is in the
build context, and nothing else is; both stages build on BASE_IMAGE; the README's commands are the ones
deploy/check-image.sh runs (that script needs podman and runs in CI; these tests need nothing)."""

import ast
import fnmatch
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SCRIPT = (ROOT / "deploy" / "check-image.sh").read_text()
README = (ROOT / "README.md").read_text()


# --- The build context (.dockerignore) ---


def dockerignore_rules():
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            rules.append((negated, line.lstrip("!").strip("/")))
    return rules


def _matches(pattern, path):
    """Docker's rule: a pattern matches a path or any directory above it; ** spans directories."""
    parts = path.split("/")
    for end in range(1, len(parts) + 1):
        candidate = "/".join(parts[:end])
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatchcase(part, pattern[3:]) for part in parts[:end]):
                return True
        elif fnmatch.fnmatchcase(candidate, pattern) and candidate.count("/") == pattern.count("/"):
            return True
    return False


def in_context(path):
    """The last rule that matches decides, as in Docker and buildah."""
    included = True
    for negated, pattern in dockerignore_rules():
        if _matches(pattern, path):
            included = negated
    return included


@pytest.fixture(scope="module")
def repository_files():
    result = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.skip(f"not a git checkout: {result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if (ROOT / line).is_file()]


def test_the_context_is_an_allowlist():
    rules = dockerignore_rules()
    assert rules[0] == (False, "*"), "the first rule must leave everything out"


@pytest.mark.parametrize(
    "path",
    [
        "tests/conftest.py",
        "deploy/check-image.sh",
        "deploy/chart/kube-journeys/Chart.yaml",
        "bench/web_bench.py",
        "docs/screenshots",
        "scripts/kubectl_flags.py",
        ".ci/run",
        "Makefile",
        "requirements-dev.txt",
        "README.md",
        "BENCHMARKS.md",
        "pyproject.toml",
        "docker-compose.yml",
        "Dockerfile",
        ".venv/bin/python",
        ".tools/bin/helm",
        ".git/HEAD",
        "db.sqlite3",
        "staticfiles/css/site.css",
        "journeys/__pycache__/models.cpython-311.pyc",
    ],
)
def test_what_the_portal_does_not_run_on_stays_out(path):
    assert not in_context(path), f"{path} would be sent to the image build"


def test_everything_the_portal_runs_on_goes_in(repository_files):
    needed = [
        path
        for path in repository_files
        if path in ("manage.py", "requirements.txt", "docker/entrypoint.sh")
        or path.split("/")[0] in ("portal", "journeys", "templates", "static")
    ]
    assert len(needed) > 100
    left_out = [path for path in needed if not in_context(path)]
    assert left_out == []
    assert "journeys/content/intermediate-app-developer/journey.yaml" in needed


def test_what_goes_in_is_only_what_the_portal_runs_on(repository_files):
    allowed_tops = {"manage.py", "requirements.txt", "docker", "portal", "journeys", "templates", "static"}
    extra = [path for path in repository_files if in_context(path) and path.split("/")[0] not in allowed_tops]
    assert extra == []
    assert [path for path in repository_files if in_context(path) and path.startswith("docker/")] == [
        "docker/entrypoint.sh"
    ]


def dockerfile_instructions():
    """(instruction, arguments) with continuation lines joined and comments left out."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.splitlines() if not line.startswith("#")))
    return [tuple(line.split(None, 1)) for line in text.splitlines() if line.strip()]


def test_every_file_the_dockerfile_copies_is_in_the_context():
    sources = []
    for instruction, arguments in dockerfile_instructions():
        if instruction == "COPY" and "--from=" not in arguments:
            words = [word for word in arguments.split() if not word.startswith("--")]
            sources += words[:-1]
    assert sources, "the Dockerfile copies nothing from the context?"
    for source in sources:
        if source != ".":
            assert in_context(source), f"COPY {source}: left out by .dockerignore"
    entrypoint = next(args for name, args in dockerfile_instructions() if name == "ENTRYPOINT")
    assert in_context(ast.literal_eval(entrypoint)[0].removeprefix("/app/"))


def first_party_imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def test_every_top_level_package_the_portal_imports_is_in_the_context(repository_files):
    tops = {path.split("/")[0].removesuffix(".py") for path in repository_files if "/" in path or path.endswith(".py")}
    imported = set()
    for path in repository_files:
        if path.endswith(".py") and path.split("/")[0] in ("portal", "journeys") and "/migrations/" not in path:
            imported |= set(first_party_imports(ROOT / path)) & tops
    # Dotted paths in settings and in the entrypoint name packages too (portal.wsgi, python:portal.gunicorn_config).
    text = (ROOT / "portal" / "settings.py").read_text() + (ROOT / "docker" / "entrypoint.sh").read_text()
    imported |= {name for name in re.findall(r"[\"':]([a-z_]+)\.[a-z_]+", text) if name in tops}
    assert {"portal", "journeys"} <= imported
    missing = sorted(name for name in imported if not any(in_context(p) for p in (name, f"{name}.py")))
    assert missing == [], "the portal imports these, but .dockerignore leaves them out"


# --- The Dockerfile ---


def test_both_stages_build_on_the_base_image_argument():
    instructions = dockerfile_instructions()
    first_from = next(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    arguments = [args for name, args in instructions[:first_from] if name == "ARG"]
    assert any(re.fullmatch(r"BASE_IMAGE=python:3\.11[\w.-]*", arg) for arg in arguments), arguments
    froms = [args.split()[0] for name, args in instructions if name == "FROM"]
    assert len(froms) == 2
    assert set(froms) == {"${BASE_IMAGE}"}


def test_the_runtime_virtualenv_gets_no_installer():
    run = next(args for name, args in dockerfile_instructions() if name == "RUN" and "venv" in args)
    assert re.search(r"-m venv /opt/venv --without-pip", run)
    # pip reads --python only before the command: after `install` it is ignored, and pip installs
    # into its own virtualenv instead, without a word.
    pip = shlex.split(run[run.index("/opt/installer/bin/pip") :].split("&&")[0])
    assert pip.index("--python") < pip.index("install")
    assert pip[pip.index("--python") + 1] == "/opt/venv/bin/python"


def test_the_image_keeps_its_healthcheck_user_and_volume():
    names = [name for name, _ in dockerfile_instructions()]
    assert "HEALTHCHECK" in names
    assert ("USER", "10001:10001") in dockerfile_instructions()
    assert ("VOLUME", '["/app/data"]') in dockerfile_instructions()
    # --format docker is what keeps HEALTHCHECK in a podman build (OCI images have no such field).
    assert "--format docker" in SCRIPT


def test_the_script_checks_app_holds_exactly_the_allowlist():
    expected = re.search(r'^expected="([^";]+);', SCRIPT, re.M).group(1).split()
    allowlisted = {pattern.split("/")[0] for negated, pattern in dockerignore_rules() if negated}
    assert set(expected) == allowlisted | {"data", "staticfiles"}


# --- The README says what the script does ---


def self_hosting_section():
    start = README.index("## Self-hosting")
    return README[start : README.index("\n## ", start + 1)]


def commands(text, prefix):
    """Each shell command starting with prefix (continuation lines joined), as words up to the
    first redirection or separator."""
    joined = re.sub(r"\\\n\s*", " ", text).replace('"${COMPOSE[@]}"', "podman-compose")
    found = []
    for line in joined.splitlines():
        line = line.strip().removeprefix("until ")
        if not line.startswith(prefix):
            continue
        words = []
        for word in shlex.split(line, comments=True):
            if word[0] in "<>|&" or word.startswith("2>") or word in ("||", "&&"):
                break
            words.append(word.rstrip(";"))
            if word.endswith(";"):
                break
        found.append(words)
    return found


def run_options(words):
    """A `run`'s options (environment by name, volumes by where they mount) and its arguments
    after the image, which differs between the README and the script."""
    options, positional, i = set(), [], 2
    while i < len(words):
        word = words[i]
        if word in ("-e", "-v", "-p", "--tmpfs", "--name", "--entrypoint"):
            value = words[i + 1]
            if word == "-e":
                options.add(f"-e {value.split('=')[0]}")
            elif word == "-v":
                options.add(f"-v :{value.split(':', 1)[1]}")
            elif word in ("--tmpfs", "--entrypoint"):
                options.add(f"{word} {value}")
            else:
                options.add(word)
            i += 2
        elif word.startswith("-") and not positional:
            options.add(word)
            i += 1
        else:
            positional.append(word)
            i += 1
    return options, positional[1:]


def test_readme_run_commands_are_the_scripts():
    section = self_hosting_section()
    [script_run, *_] = commands(SCRIPT, "podman run -d --name")
    expected = run_options(script_run)
    assert {"--read-only", "--tmpfs /tmp", "-v :/app/data", "-e SECRET_KEY"} <= expected[0]
    readme_runs = commands(section, "docker run -d") + commands(section, "podman run -d")
    assert len(readme_runs) == 2
    for readme_run in readme_runs:
        assert run_options(readme_run) == expected


def test_readme_builds_with_podman_as_the_script_does():
    [readme_build] = commands(self_hosting_section(), "podman build")
    assert readme_build[readme_build.index("--format") + 1] == "docker"


def test_readme_sqlite_backup_and_restore_are_the_scripts():
    in_script = [run_options(words) for words in commands(SCRIPT, "podman run --rm")]
    readme = commands(self_hosting_section(), "docker run --rm")
    assert len(readme) == 2, "a backup and a restore"
    for words in readme:
        options, arguments = run_options(words)
        assert (options | {"--name"}, arguments) in in_script, " ".join(words)


@pytest.mark.parametrize("tool", ["pg_dump", "pg_restore", "pg_isready"])
def test_readme_database_commands_are_the_scripts(tool):
    def invocations(text, prefix):
        return {" ".join(words[words.index(tool) :]) for words in commands(text, prefix) if tool in words}

    in_script = invocations(SCRIPT, "podman-compose")
    in_readme = invocations(self_hosting_section(), "docker compose") | invocations(
        self_hosting_section(), "podman-compose"
    )
    assert in_readme, f"the README shows no {tool}"
    assert in_readme <= in_script


# --- The Compose override keeps the project's Compose file as it is ---


def test_the_ci_override_only_swaps_images():
    project = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    override = yaml.safe_load((ROOT / "deploy" / "compose.ci.yml").read_text())
    assert set(override) == {"services"}
    for name, service in override["services"].items():
        assert name in project["services"]
        assert set(service) == {"image"}, f"{name}: the override changes more than the image"
    portal = project["services"]["portal"]
    assert portal["read_only"] is True
    assert portal["tmpfs"] == ["/tmp"]  # noqa: S108 - a tmpfs of its own, not a shared directory
    assert "-f deploy/compose.ci.yml" in SCRIPT and "-f docker-compose.yml" in SCRIPT
