"""Lower layers never import upper ones (docs STYLE, README « Layers »).

The bottom layer (``tenants``, ``accounts``) prepares platforms and users and says so through
signals (``tenants.signals.platform_prepared``); it imports none of the apps above it, neither
at module level nor inside a function (an import hidden in a function still couples the
layers), nor through ``importlib.import_module``/``__import__`` with a literal name. Above it,
an app imports only its own layer or lower ones, except the known imports listed below, which
are still to be removed: a new one fails.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# bottom first; the same layers as the README's diagram
LAYERS = (
    ("tenants", "accounts"),
    ("organisms", "forms_cms"),
    ("workflow",),
    ("declarations", "exchanges", "partners", "subscriptions", "faq_wiki"),
    ("operations", "reversibility", "dashboards", "api"),
)
LAYER = {app: level for level, apps in enumerate(LAYERS) for app in apps}
BOTTOM = LAYERS[0]

# upward imports that exist and are still to be removed: (module's path, app it imports)
KNOWN_UPWARD = {}


def imported_modules(tree: ast.AST):
    """(line, module name) of every import in ``tree``, wherever it sits."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def upward_imports(app: str, known=frozenset()) -> list[str]:
    """``path:line imports module`` for each import of an app of a higher layer in ``app``,
    but those ``known`` as (path, imported app)."""
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, module in imported_modules(tree):
            top = module.split(".")[0]
            if LAYER.get(top, -1) > LAYER[app] and (relative, top) not in known:
                found.append(f"{relative}:{line} imports {module}")
    return found


@pytest.mark.parametrize("app", BOTTOM)
def test_the_bottom_layer_imports_no_app_above_it(app):
    assert list((ROOT / app).rglob("*.py")), f"{app}/ has no module"
    assert upward_imports(app) == []


@pytest.mark.parametrize("app", [app for apps in LAYERS[1:] for app in apps])
def test_no_new_upward_import(app):
    """Upward news travel through signals (workflow.signals.dossier_*,
    forms_cms.signals.version_*, tenants.signals.platform_prepared), not imports."""
    assert upward_imports(app, KNOWN_UPWARD) == []


def test_the_check_sees_imports_inside_functions():
    tree = ast.parse(
        "import workflow\n"
        "def f():\n"
        "    from faq_wiki.models import PlatformHomePage\n"
        "    import_module('partners.services')\n"
        "from . import models\n"
    )
    modules = [module for _, module in imported_modules(tree)]
    assert modules == ["workflow", "faq_wiki.models", "partners.services"]


def imports_hidden_in_functions(app: str) -> list[str]:
    """``path:line imports module`` for each import of another app made inside a function,
    except in ``AppConfig.ready()`` (Django's place to connect receivers once apps load)."""
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "migrations" in path.parts or path.name == "apps.py":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for line, module in imported_modules(function):
                top = module.split(".")[0]
                if top in LAYER and top != app:
                    found.append(f"{relative}:{line} imports {module}")
    return sorted(set(found))


@pytest.mark.parametrize("app", list(LAYER))
def test_no_import_of_another_app_hidden_in_a_function(app):
    """Cross-app imports sit at the top of the module, where a cycle would show at once."""
    assert imports_hidden_in_functions(app) == []


def test_the_engine_is_reached_only_through_its_interface():
    """Outside forms_cms/engine/, the engine is ``forms_cms.engine`` (its ``__all__``), never
    one of its modules: the pure package can change inside without the platform noticing."""
    found = []
    for app in LAYER:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("forms_cms/engine/"):
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for line, module in imported_modules(tree):
                if module.startswith("forms_cms.engine."):
                    found.append(f"{relative}:{line} imports {module}")
    assert found == []


def test_no_import_cycle_between_apps():
    """Follow every app's imports of other apps: no app reaches itself again."""
    graph: dict[str, set[str]] = {app: set() for app in LAYER}
    for app in LAYER:
        for path in (ROOT / app).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for _, module in imported_modules(tree):
                top = module.split(".")[0]
                if top in graph and top != app:
                    graph[app].add(top)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return False

    cycles = [(app, other) for app in graph for other in graph[app] if reaches(other, app)]
    assert cycles == []
