"""The commands the READMEs show still run as shown: each names a script or module that exists, each `--flag` is one
its parser defines, and each `key=value` a key of the config it overrides (a renamed flag or key fails here, not in a
user's hands)."""
import ast
import os
import re
import shlex
import sys
from functools import cache
from pathlib import Path

import pytest

from common.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "weights/README.md", "samples/README.md")
SCRIPTS = sorted(p for folder in (".", "ocr", "detection", "pipeline", "bench") for p in (ROOT / folder).glob("*.py")
                 if p.name != "__init__.py")
CONSOLE = dict(re.findall(r'^(plate-[a-z-]+) = "([a-z_.]+):main"', (ROOT / "pyproject.toml").read_text(), re.M))


def doc_commands() -> list[tuple[str, str]]:
    """(document, command) for every `python ...` or console command in the documents' code blocks and inline code,
    continuation lines joined and trailing comments dropped."""
    found = []
    for doc in DOCS:
        lines = (ROOT / doc).read_text().split("\n")
        inside, i = False, 0
        while i < len(lines):
            line, i = lines[i], i + 1
            if line.startswith("```"):
                inside = not inside
                continue
            if not inside:
                found += [(doc, m) for m in re.findall(r"`((?:python3?|plate-[a-z-]+) [^`]+)`", line)]
                continue
            while line.rstrip().endswith("\\") and i < len(lines):
                line, i = line.rstrip()[:-1] + " " + lines[i].strip(), i + 1
            line = line.split("  #")[0].strip()
            if re.match(r"(python3? |plate-)", line):
                found.append((doc, line))
    for script in SCRIPTS:  # the usage lines of each script's docstring, which its --help prints
        doc = ast.get_docstring(ast.parse(script.read_text())) or ""
        found += [(script.relative_to(ROOT).as_posix(), line.strip()) for line in doc.split("\n")
                  if re.match(r"\s*(python3? |plate-)", line) and not line.rstrip().endswith("\\")]
    return found


def source_of(words: list[str]) -> tuple[Path | None, list[str]]:
    """The source file a command runs and the arguments after it (None: not one of ours, e.g. pip or pytest)."""
    if words[0].startswith("plate-"):
        module, rest = CONSOLE.get(words[0]), words[1:]
        if module is None:
            return ROOT / f"{words[0]} (no such console command)", rest
    elif words[1] == "-m":
        module, rest = words[2], words[3:]
        if module.split(".")[0] not in ("ocr", "detection", "pipeline", "common", "run_pipeline"):
            return None, rest
    elif words[1].endswith(".py"):
        return ROOT / re.sub(r"^.*/(?=run_pipeline\.py$)", "", words[1]), words[2:]
    else:
        return None, words[1:]
    return ROOT / (module.replace(".", "/") + ".py"), rest


def config_check(source: Path, words: list[str]):
    """A function that loads `key=value` into the config `source` overrides, or None when it takes none."""
    name = source.relative_to(ROOT).as_posix()
    if name in ("run_pipeline.py", "pipeline/evaluate.py", "pipeline/serve.py"):
        from pipeline.settings import load_configs

        return lambda o: load_configs(ROOT / "configs", [o])
    if name == "ocr/train.py":
        from ocr.config import OCRConfig

        return lambda o: load_config(OCRConfig, None, [o])
    if name == "detection/train.py":
        from detection.train_config import DetectorTrainConfig

        return lambda o: load_config(DetectorTrainConfig, None, [o])
    return None


def words_of(command: str) -> list[str]:
    return shlex.split(command.split("&&")[-1].strip(), comments=True)


HELPS = """
import contextlib, io, json, runpy, sys
helps = {}
for source in sys.argv[1:]:
    out = io.StringIO()
    sys.argv, sys.path[:0] = [source, "--help"], [source.rsplit("/", 1)[0]]
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(source, run_name="__main__")
        except SystemExit:
            pass
    helps[source] = out.getvalue()
print(json.dumps(helps))
"""


@cache
def helps() -> dict[str, str]:
    """What each script's `--help` prints, all run in one other process (their imports shared; what they set up,
    such as ultralytics' logging, kept out of the tests' process)."""
    import json
    import subprocess

    done = subprocess.run([sys.executable, "-c", HELPS, *map(str, SCRIPTS)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "YOLO_OFFLINE": "1"}, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def help_of(source: Path) -> str:
    return helps()[str(source)]


COMMANDS = [c for c in doc_commands() if source_of(words_of(c[1]))[0] is not None]


def test_the_documents_show_commands():
    assert len(COMMANDS) >= 150, len(COMMANDS)  # the parser finds them: the READMEs and docstrings show ~200


@pytest.mark.parametrize("doc, command", COMMANDS, ids=[f"{d}:{c[:60]}" for d, c in COMMANDS])
def test_a_documented_command_names_what_exists(doc, command):
    words = words_of(command)
    source, rest = source_of(words)
    assert source is not None and source.is_file(), f"{doc}: {command}: {source} not found"
    for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", " ".join(rest)):
        assert re.search(rf"{flag}\b(?!-)", help_of(source)), f"{doc}: {command}: {source.name} has no {flag}"
    check = config_check(source, words)
    for word in map(unbracket, rest):
        key = word.split("=", 1)[0]
        if check is None or word == "key=value" or "=" not in word or not re.fullmatch(r"[a-z_][a-z0-9_.]*", key):
            continue
        try:
            check(word)
        except ConfigError as exc:  # a value may name a file of the user's: its key and kind are checked here,
            wrong = r"unknown key|has no key|unknown component"  # and its kind where it is written out (not `...`)
            wrong += "" if "..." in word else r"|is not a valid|is out of range|expected a"
            assert not re.search(wrong, str(exc)), f"{doc}: {command}: {exc}"


def unbracket(word: str) -> str:
    """A word of a command without the brackets that mark it optional (`[stride=2`, `conf=0.3]`), a list's kept."""
    word = word[1:] if word.startswith("[") else word
    while word.endswith("]") and word.count("]") > word.count("["):
        word = word[:-1]
    return word
