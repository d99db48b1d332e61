"""The test tree's own rules: shared code lives in tests/fixtures/ or a conftest.py, never in another test module."""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

from tests.fixtures.xdist_scheduling import scope_of, slow_first, whole_modules

TESTS = Path(__file__).resolve().parents[1]
REDEFINED = re.compile(r"#\s*noqa:.*\bF811\b")
BUDGET = re.compile(r"\bmax_examples\s*=")


def _python(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if "__pycache__" not in p.parts)


@lru_cache(maxsize=None)
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) for every import in a file; `import a.b` gives names []."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found.append((node.lineno, module, [alias.name for alias in node.names]))
    return found


def _is_fixture(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return ast.unparse(target) in ("pytest.fixture", "fixture")


def _fixtures(path: Path) -> set[str]:
    return {node.name for node in _tree(path).body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and any(_is_fixture(d) for d in node.decorator_list)}


def test_no_test_module_imports_another_test_module():
    offenders = []
    for path in _python(TESTS, "*.py"):
        for line, module, names in _imports(path):
            ours = module == "tests" or module.startswith(("tests.", "."))
            if ours and any(part.startswith("test_") for part in module.split(".") + names):
                offenders.append(f"{path.relative_to(TESTS)}:{line} imports {module} {names or ''}".rstrip())
    assert offenders == [], "move shared helpers to tests/fixtures/ or a conftest.py:\n" + "\n".join(offenders)


def test_fixtures_are_never_imported_only_named():
    fixtures = {f"tests.fixtures.{p.stem}": _fixtures(p) for p in _python(TESTS / "fixtures", "*.py")}
    offenders = []
    for path in _python(TESTS, "*.py"):
        text = path.read_text()
        for line, module, names in _imports(path):
            imported = sorted(set(names) & fixtures.get(module, set()))
            source = text.splitlines()[line - 1]
            if imported or "noqa: F401" in source:
                offenders.append(f"{path.relative_to(TESTS)}:{line}: {source.strip()}")
        # F811 (redefinition) is what naming an imported fixture as an argument looks like to a linter.
        offenders += [f"{path.relative_to(TESTS)}:{n}: {row.strip()}"
                      for n, row in enumerate(text.splitlines(), 1) if REDEFINED.search(row)]
    assert offenders == [], "fixtures come from tests/conftest.py's pytest_plugins:\n" + "\n".join(offenders)


def test_every_fixture_module_is_registered_in_the_root_conftest():
    tree = ast.parse((TESTS / "conftest.py").read_text())
    plugins = next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                   and [ast.unparse(t) for t in node.targets] == ["pytest_plugins"])
    with_fixtures = {f"tests.fixtures.{p.stem}" for p in _python(TESTS / "fixtures", "*.py") if _fixtures(p)}
    assert with_fixtures and sorted(with_fixtures - set(plugins)) == []


def test_modules_with_a_module_scoped_fixture_go_to_one_worker_whole(tmp_path):
    files = {"tests/unit/test_shared.py": '@pytest.fixture(scope="module")\ndef world():\n    return 1\n',
             "tests/unit/test_alone.py": "@pytest.fixture\ndef world():\n    return 1\n",
             "tests/browser/test_pages.py": "def test_page(browser):\n    pass\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    whole = whole_modules(tmp_path)
    assert whole == {"tests/unit/test_shared.py", "tests/browser/test_pages.py"}
    assert scope_of("tests/unit/test_shared.py::test_a[x::y]", whole) == "tests/unit/test_shared.py"
    assert scope_of("tests/unit/test_alone.py::test_b", whole) == "tests/unit/test_alone.py::test_b"


def test_hypothesis_budgets_come_only_from_the_profiles_in_the_root_conftest():
    """HYPOTHESIS_PROFILE=ci|nightly sets max_examples; a number in a test module would override both."""
    offenders = [f"{path.relative_to(TESTS)}:{n}: {row.strip()}" for path in _python(TESTS, "test_*.py")
                 for n, row in enumerate(path.read_text().splitlines(), 1) if BUDGET.search(row)]
    assert offenders == [], "drop max_examples; tests/conftest.py's profiles set it:\n" + "\n".join(offenders)


def test_slow_single_tests_go_first_and_whole_modules_keep_their_order():
    class Item:
        def __init__(self, nodeid: str, slow: bool = False) -> None:
            self.nodeid, self.slow = nodeid, slow

        def get_closest_marker(self, name: str):
            return object() if name == "slow" and self.slow else None

    items = [Item("tests/a/test_x.py::one"), Item("tests/a/test_whole.py::slow", slow=True),
             Item("tests/a/test_whole.py::quick"), Item("tests/a/test_y.py::kill", slow=True),
             Item("tests/a/test_y.py::two")]
    slow_first(items, {"tests/a/test_whole.py"})
    assert [i.nodeid.split("/")[-1] for i in items] == [
        "test_y.py::kill", "test_x.py::one", "test_whole.py::slow", "test_whole.py::quick", "test_y.py::two"]
