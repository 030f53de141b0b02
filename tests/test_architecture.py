"""The house rules of ``journeys``, read from its source (ast, nothing imported):

- a view module never imports another view module;
- a domain (curriculum, quizzes, progress, sandbox, accounts, pages) never imports another domain's views;
- only ``journeys/sandbox/sources.py`` (reads) and ``provisioning.py`` (writes) import the Kubernetes client;
- no two modules import each other, however indirectly.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "journeys"
DOMAINS = {"curriculum", "quizzes", "progress", "sandbox", "accounts", "pages"}
KUBERNETES_CLIENT_MODULE = "journeys.sandbox.sources"
KUBERNETES_CLIENT_MODULES = {KUBERNETES_CLIENT_MODULE, "journeys.sandbox.provisioning"}


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules():
    """{module name: (path, is a package)} for every module of the package, migrations left out."""
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        found[module_name(path)] = (path, path.name == "__init__.py")
    return found


def imported_names(name, path, is_package, modules):
    """Every module ``name`` imports (anywhere in it, lazy imports included), as absolute names."""
    package = name if is_package else name.rpartition(".")[0]
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            imported.add(target)
            # ``from package import module`` imports the module too.
            imported.update(f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in modules)
    return imported


def import_graph():
    modules = package_modules()
    graph = {}
    for name, (path, is_package) in modules.items():
        graph[name] = imported_names(name, path, is_package, modules)
    return modules, graph


def own_edges(name, imported, modules):
    """The modules of the package that importing ``imported`` runs, seen from ``name``: the module
    and the packages above it that ``name`` is not already inside of."""
    edges = set()
    for target in imported:
        if not target.startswith(PACKAGE):
            continue
        while target not in modules and "." in target:
            target = target.rpartition(".")[0]  # ``from journeys.x import some_function``
        parts = target.split(".")
        for end in range(1, len(parts) + 1):
            ancestor = ".".join(parts[:end])
            if ancestor in modules and ancestor != name and not (name + ".").startswith(ancestor + "."):
                edges.add(ancestor)
    return edges


def is_view_module(name):
    return name.rpartition(".")[2] == "views" or name.endswith("_views")


def domain_of(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in DOMAINS else None


def view_imports(graph, modules):
    return {
        name: {target for target in own_edges(name, imported, modules) if is_view_module(target)}
        for name, imported in graph.items()
    }


def views_importing_views(graph, modules):
    return sorted(
        f"{name} imports {target}"
        for name, targets in view_imports(graph, modules).items()
        if is_view_module(name)
        for target in targets
    )


def domains_importing_other_views(graph, modules):
    return sorted(
        f"{name} imports {target}"
        for name, targets in view_imports(graph, modules).items()
        if domain_of(name) is not None
        for target in targets
        if domain_of(target) != domain_of(name)
    )


def kubernetes_importers(graph):
    return sorted(
        name
        for name, imported in graph.items()
        if name not in KUBERNETES_CLIENT_MODULES
        and any(target == "kubernetes" or target.startswith("kubernetes.") for target in imported)
    )


def import_cycles(graph, modules):
    """Each group of modules that import one another (strongly connected components of two or more)."""
    edges = {name: own_edges(name, imported, modules) for name, imported in graph.items()}
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(name):
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for target in edges[name]:
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return cycles


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_walk_sees_the_whole_package(graph):
    modules, imports = graph
    assert "journeys.curriculum.views" in modules
    assert "journeys.sandbox.sources" in modules
    assert "journeys.pages.learner_page" in own_edges("journeys.pages", imports["journeys.pages"], modules), (
        "a relative import of a sibling module is followed"
    )
    assert "kubernetes" in imports[KUBERNETES_CLIENT_MODULE], "imports inside functions are read too"


def test_no_view_module_imports_another(graph):
    modules, imports = graph
    assert views_importing_views(imports, modules) == []


def test_no_domain_imports_another_domains_views(graph):
    modules, imports = graph
    assert domains_importing_other_views(imports, modules) == []


def test_only_the_sources_module_imports_the_kubernetes_client(graph):
    _, imports = graph
    assert kubernetes_importers(imports) == []


def test_no_import_cycles(graph):
    modules, imports = graph
    assert import_cycles(imports, modules) == []


def test_each_rule_catches_a_violation(graph):
    modules, imports = graph
    broken = {name: set(imported) for name, imported in imports.items()}
    broken["journeys.quizzes.views"].add("journeys.progress.views")
    broken["journeys.curriculum.selectors"].add("kubernetes.client")
    broken["journeys.pages.content_version"].add("journeys.curriculum.selectors")
    assert views_importing_views(broken, modules) == ["journeys.quizzes.views imports journeys.progress.views"]
    assert domains_importing_other_views(broken, modules) == ["journeys.quizzes.views imports journeys.progress.views"]
    assert kubernetes_importers(broken) == ["journeys.curriculum.selectors"]
    assert import_cycles(broken, modules)
