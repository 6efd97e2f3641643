"""The architecture, as a specification: one package per concern, imports only downward (no
cycle between modules, not even through imports inside functions), a CLI of straight-line
commands, and quick commands that never load TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Each package and the packages it may import: the floors of the house, lowest first.
LAYERS = {
    "models": set(),
    "metadata": set(),
    "components": {"models", "metadata"},
    "pipeline": {"components", "metadata", "models"},
    "datatools": {"pipeline", "components", "metadata", "models"},
    "kubeflow": {"pipeline", "components", "metadata", "models"},
    "serving": {"pipeline", "components", "metadata", "models"},
    "reports": {"pipeline", "components", "metadata", "models"},
    "monitoring": {"reports", "serving", "pipeline", "components", "metadata", "models"},
    "cli": {
        "datatools",
        "kubeflow",
        "monitoring",
        "reports",
        "serving",
        "pipeline",
        "components",
        "metadata",
        "models",
    },
}


def _module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for package in LAYERS for p in (ROOT / package).rglob("*.py")}


def _imports(module: str) -> set[str]:
    """Project modules `module` imports anywhere in its file (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {name for name in names if name in MODULES and name != module}
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def test_every_package_opens_with_a_paragraph_saying_what_it_owns():
    for package in LAYERS:
        docstring = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text()))
        assert docstring and len(docstring.split()) >= 12, package


def test_no_module_imports_itself_back_through_others():
    visiting, done, cycles = [], set(), []

    def visit(module):
        if module in visiting:
            cycles.append(visiting[visiting.index(module) :] + [module])
            return
        if module in done:
            return
        visiting.append(module)
        for imported in sorted(GRAPH[module]):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)
    assert cycles == []


@pytest.mark.parametrize("package", LAYERS)
def test_a_package_imports_only_the_floors_below_it(package):
    upward = sorted(
        f"{module} -> {imported}"
        for module, imports in GRAPH.items()
        if module.split(".")[0] == package
        for imported in imports
        if imported.split(".")[0] not in LAYERS[package] | {package}
    )
    assert upward == []


def test_only_the_metadata_package_opens_ml_metadata():
    openers = sorted(
        module
        for module, path in MODULES.items()
        if "MetadataStore(" in path.read_text() and module.split(".")[0] != "metadata"
    )
    assert openers == []


def _handlers():
    for module, path in MODULES.items():
        if module.startswith("cli."):
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.FunctionDef) and node.name.startswith("handle"):
                    yield f"{module}.{node.name}", node


def test_cli_commands_are_straight_line_parse_call_render():
    """No statement-level branching or looping in a command; choosing among arguments (a
    conditional expression over `args`) is argument handling."""
    branching = (ast.If, ast.For, ast.While, ast.Try, ast.With)
    handlers = dict(_handlers())
    assert len(handlers) >= 10
    assert {
        name
        for name, node in handlers.items()
        if any(isinstance(n, branching) for n in ast.walk(node))
    } == set()


def test_quick_commands_and_one_line_errors_do_not_load_tensorflow():
    """Parsing arguments, planning a run (where most mistakes are found) and listing runs
    never import TensorFlow (~5 s and a screen of its log lines before a one-line error)."""
    script = (
        "import sys, cli.main, metadata.lineage; "
        "planned = cli.main.main(['run', '--span', '99']); "
        "listed = cli.main.main(['runs', '--metadata', 'no-such-store.sqlite']); "
        "print(planned, listed, 'tensorflow' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["2", "2", "False"], done.stderr
    assert "span 99 not found" in done.stderr and "no ML Metadata store there" in done.stderr
