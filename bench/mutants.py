"""Mutation testing: which small changes to a module its tests let through.

    python bench/mutants.py SOURCE.py TEST [TEST ...] [--only LINE[,FIRST-LAST...]] [--json OUT]

Each mutant changes one place of SOURCE: a comparison turned (< and <=, > and >=, == and !=, in and not in, is and
is not), an arithmetic operator swapped (+ and -, * and /), `and` for `or` or back, a number changed (0 to 1, 1 to
0, any other doubled), a boolean flipped, a `not` dropped. The TESTs (files or folders, as pytest takes them) then
run against it in a copy of the tracked tree made once in a temporary folder, so the checkout is never touched and
a stop leaves nothing changed behind. A mutant the tests pass "lives": a change of behaviour that nothing checks, or
an equivalent one (a bound never met, a default every config overrides): each living one is a line to read. Prints
one line per mutant, then how many lived.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.errors import UserError  # noqa: E402

COMPARE: dict[type, type] = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                             ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot,
                             ast.IsNot: ast.Is}
ARITH: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
                           ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv}


@dataclass(frozen=True)
class Mutant:
    """One change: where, what kind, and the test run's outcome."""
    line: int
    kind: str
    code: str
    lived: bool


def _number(value: float) -> float:
    return 1 if value == 0 else 0 if value == 1 else value * 2


def mutations(tree: ast.AST) -> list[tuple[ast.AST, str, Callable[[], Callable[[], None]]]]:
    """(node, kind, apply) for every mutation point of `tree`; `apply()` changes the node and returns its undo."""
    found: list[tuple[ast.AST, str, Callable[[], Callable[[], None]]]] = []

    def swap(node: ast.AST, attr: str, new: ast.AST) -> Callable[[], Callable[[], None]]:
        def apply() -> Callable[[], None]:
            old = getattr(node, attr)
            setattr(node, attr, new)
            return lambda: setattr(node, attr, old)
        return apply

    def swap_op(node: ast.Compare, i: int) -> Callable[[], Callable[[], None]]:
        def apply() -> Callable[[], None]:
            old = node.ops[i]
            node.ops[i] = COMPARE[type(old)]()
            return lambda: node.ops.__setitem__(i, old)
        return apply

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            found += [(node, "compare", swap_op(node, i)) for i, op in enumerate(node.ops) if type(op) in COMPARE]
        elif isinstance(node, ast.BinOp) and type(node.op) in ARITH:
            found.append((node, "arithmetic", swap(node, "op", ARITH[type(node.op)]())))
        elif isinstance(node, ast.BoolOp):
            found.append((node, "and/or", swap(node, "op", ast.Or() if isinstance(node.op, ast.And) else ast.And())))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            found.append((node, "boolean", swap(node, "value", not node.value)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            found.append((node, "number", swap(node, "value", _number(node.value))))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            found.append((node, "not", swap(node, "op", ast.UAdd())))
    return found


def copy_tree(dest: Path) -> None:
    """The tracked files copied into `dest`, the shipped weights too: a change that defeats a guard may write where
    the code as it is never does (a mutant of detection/export.py re-exported weights/detector.onnx through a link)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in filter(None, files.stdout.split("\0")):
        if not (ROOT / name).is_file():
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)


def run(source: str, tests: list[str], only: set[int], say: Callable[[str], None]) -> list[Mutant]:
    """Every mutant of `source` (on the lines `only`, when given) against `tests`."""
    text = (ROOT / source).read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines()
    points = [p for p in mutations(tree) if not only or getattr(p[0], "lineno", 0) in only]
    out: list[Mutant] = []
    with tempfile.TemporaryDirectory(prefix="mutants_") as tmp:
        copy = Path(tmp)
        copy_tree(copy)
        env = {**os.environ, "PYTHONPATH": str(copy), "YOLO_OFFLINE": "1"}
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
        began = time.monotonic()
        if subprocess.run(cmd, cwd=copy, env=env, capture_output=True).returncode != 0:
            raise UserError(f"the tests fail on {source} as it is, so no change can be judged: {' '.join(tests)}")
        limit = max(60.0, 10 * (time.monotonic() - began))  # a change that makes the tests hang is caught by this
        for n, (node, kind, apply) in enumerate(points, 1):
            undo = apply()
            (copy / source).write_text(ast.unparse(tree), encoding="utf-8")
            undo()
            try:
                lived = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, timeout=limit).returncode == 0
            except subprocess.TimeoutExpired:
                lived = False  # the tests hang on it (10 times their time on the code as it is, at least 60 s)
            line = getattr(node, "lineno", 0)
            out.append(Mutant(line, kind, lines[line - 1].strip() if line else "", lived))
            say(f"{n}/{len(points)} {'LIVES' if lived else 'killed'} {source}:{line} {kind}: {out[-1].code[:100]}")
        (copy / source).write_text(text, encoding="utf-8")
    return out


def line_numbers(spec: str) -> set[int]:
    """The lines `--only` names: numbers and ranges, comma-separated (`12,40-45`); UserError naming a bad one."""
    lines: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        first, dash, last = part.partition("-")
        if not (first.strip().isdigit() and (not dash or last.strip().isdigit())):
            raise UserError(f"--only {spec}: {part!r} is not a line number or a range of them (12, 40-45)")
        if int(last or first) < int(first):
            raise UserError(f"--only {spec}: {part!r} ends before it starts")
        lines.update(range(int(first), int(last or first) + 1))
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", help="a module of the repo, e.g. pipeline/fusion.py")
    ap.add_argument("tests", nargs="+", help="test files or folders")
    ap.add_argument("--only", default="",
                    help="line numbers and ranges, comma-separated (12,40-45): mutate these lines only")
    ap.add_argument("--json", type=Path, help="also write the mutants and their outcomes here")
    args = ap.parse_args()
    if not (ROOT / args.source).is_file():
        raise UserError(f"no such source file in the repo: {args.source}")
    mutants = run(args.source, args.tests, line_numbers(args.only), print)
    lived = [m for m in mutants if m.lived]
    print(f"{args.source}: {len(lived)} of {len(mutants)} mutants lived ({', '.join(args.tests)})")
    if args.json:
        args.json.write_text(json.dumps({"source": args.source, "tests": args.tests, "mutants": len(mutants),
                                         "lived": [m.__dict__ for m in lived]}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    # an expected mistake: one error line, exit 2; a stop: one line, the checkout untouched
    raise SystemExit(run_main(main, on_interrupt="interrupted: the checkout is untouched (the changes were made in a "
                                                 "temporary copy); run the command again"))
