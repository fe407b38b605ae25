"""bench/mutants.py: the mutation points of a module, each change made and undone exactly."""
import ast

import pytest

from common.errors import UserError
from tests.bench_loader import BENCH, bench_module

mutants = bench_module("mutants")

SOURCE = "def f(a, b):\n    return a < b and not a + 1 == 2.5 or True\n"


def test_each_mutation_point_changes_one_thing_and_its_undo_restores_it():
    tree = ast.parse(SOURCE)
    points = mutants.mutations(tree)
    assert sorted(kind for _, kind, _ in points) == sorted(
        ["compare", "compare", "and/or", "and/or", "not", "arithmetic", "number", "number", "boolean"])
    original = ast.unparse(tree)
    changed = set()
    for _, _, apply in points:
        undo = apply()
        changed.add(ast.unparse(tree))
        undo()
        assert ast.unparse(tree) == original
    assert len(changed) == len(points) and original not in changed
    made = "".join(changed)
    assert all(change in made for change in ("a <= b", "a + 0 == 2.5", "a + 1 == 5.0", "a - 1", "!= 2.5", "or False"))


def test_the_copy_holds_its_own_weights_so_a_change_cannot_write_to_the_shipped_ones(tmp_path):
    mutants.copy_tree(tmp_path)
    onnx = tmp_path / "weights" / "detector.onnx"
    assert onnx.is_file() and not onnx.is_symlink() and not (tmp_path / "weights").is_symlink()
    onnx.write_bytes(b"changed")  # what a mutant of detection/export.py did through a link
    assert (BENCH.parent / "weights" / "detector.onnx").read_bytes() != b"changed"


def test_the_lines_asked_for_are_numbers_and_ranges_and_a_bad_one_is_named():
    assert mutants.line_numbers("") == set()
    assert mutants.line_numbers("12, 40-43,7") == {7, 12, 40, 41, 42, 43}
    assert mutants.line_numbers("5-5") == {5}
    for bad in ("12-x", "a", "3-", "-4", "1.5"):
        with pytest.raises(UserError, match=f"'{bad}' is not a line number"):
            mutants.line_numbers(f"1,{bad}")
    with pytest.raises(UserError, match="'45-40' ends before it starts"):
        mutants.line_numbers("45-40")
