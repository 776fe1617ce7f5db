"""Lower layers never import upper ones (docs STYLE, README « Layers »).

The bottom layer (``tenants``, ``accounts``) prepares platforms and users and says so through
signals (``tenants.signals.platform_prepared``); it imports none of the apps above it, neither
at module level nor inside a function (an import hidden in a function still couples the
layers), nor through ``importlib.import_module``/``__import__`` with a literal name.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOTTOM = ("tenants", "accounts")
ABOVE = (
    "organisms",
    "forms_cms",
    "workflow",
    "declarations",
    "exchanges",
    "partners",
    "subscriptions",
    "faq_wiki",
    "operations",
    "reversibility",
)


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


def upward_imports(app: str) -> list[str]:
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, module in imported_modules(tree):
            if module.split(".")[0] in ABOVE:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("app", BOTTOM)
def test_the_bottom_layer_imports_no_app_above_it(app):
    assert list((ROOT / app).rglob("*.py")), f"{app}/ has no module"
    assert upward_imports(app) == []


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
