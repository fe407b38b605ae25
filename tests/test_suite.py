"""The test suite itself: every test it holds runs."""
import ast
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def shadowed(source: str) -> list[str]:
    """The names defined twice in one scope of `source` (the module or a class): the first of each never runs."""
    tree = ast.parse(source)
    scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef))]
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return sorted(name for scope in scopes
                  for name, n in Counter(d.name for d in scope.body if isinstance(d, kinds)).items() if n > 1)


def test_a_name_defined_twice_in_one_scope_is_found():
    assert shadowed("def test_a():\n    pass\n\n\ndef test_a():\n    pass\n\n\ndef test_b():\n    pass\n") == ["test_a"]
    method = "    def test_x(self):\n        pass\n"
    assert shadowed(f"class T:\n{method}\n{method}") == ["test_x"]
    assert shadowed("def test_a():\n    pass\n\n\nclass T:\n    def test_a(self):\n        pass\n") == []


def test_no_test_is_shadowed_by_a_second_of_its_name():
    """A second `def` of a test's name replaces the first, which then never runs (one did, found in session 83)."""
    found = {str(f.relative_to(TESTS)): names for f in sorted(TESTS.rglob("*.py"))
             if (names := shadowed(f.read_text(encoding="utf-8")))}
    assert found == {}
