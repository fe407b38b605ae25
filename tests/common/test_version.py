import shutil
import subprocess
from dataclasses import dataclass

import pytest

from common.version import code_lines, code_version, stored_config

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@needs_git
def test_code_version_is_the_commit_and_says_when_tracked_files_differ(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert code_version(tmp_path) == head[:12]
    (tmp_path / "new.py").write_text("")  # untracked: not a change to the code that ran
    assert code_version(tmp_path) == head[:12]
    (tmp_path / "a.py").write_text("x = 2\n")
    assert code_version(tmp_path) == head[:12] + "+dirty"


def test_code_version_outside_a_checkout_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))  # git looks no higher than tmp_path
    assert code_version(tmp_path) == "unknown"
    assert code_version(tmp_path / "missing") == "unknown"


def test_code_lines_keep_a_resumed_runs_history(monkeypatch):
    monkeypatch.setattr("common.version.code_version", lambda: "bbbbbbbbbbbb")
    assert code_lines() == "# code: bbbbbbbbbbbb\n"
    old = "# code: aaaaaaaaaaaa\nalphabet: latin\n"
    assert code_lines(old) == "# code: aaaaaaaaaaaa\n# code: bbbbbbbbbbbb\n"
    assert code_lines("# code: bbbbbbbbbbbb\nalphabet: latin\n") == "# code: bbbbbbbbbbbb\n"
    a_then_b = "# code: aaaaaaaaaaaa\n# code: bbbbbbbbbbbb\n"
    assert code_lines(a_then_b + "alphabet: latin\n") == a_then_b  # resumed on b again: b is the last line
    b_then_a = "# code: bbbbbbbbbbbb\n# code: aaaaaaaaaaaa\n"
    assert code_lines(b_then_a) == b_then_a + "# code: bbbbbbbbbbbb\n"  # begun on b, resumed on a, now on b


@dataclass(frozen=True)
class Run:
    name: str = "latin"
    epochs: int = 3
    lr: float = 0.001


def test_a_stored_config_is_its_code_lines_then_the_config_in_field_order(monkeypatch):
    monkeypatch.setattr("common.version.code_version", lambda: "bbbbbbbbbbbb")
    assert stored_config(Run(), "# code: aaaaaaaaaaaa\nepochs: 2\n") == (
        "# code: aaaaaaaaaaaa\n# code: bbbbbbbbbbbb\nname: latin\nepochs: 3\nlr: 0.001\n")


@dataclass(frozen=True)
class Paths:
    data: str = ""
    more: tuple[str, ...] = ()
    sources: tuple[dict, ...] = ()


def test_a_stored_config_loads_back_as_the_text_it_holds(tmp_path, monkeypatch):
    """A value holding `${` (a password from the environment that holds it, or `$${NAME}` as written) was stored as
    it is, and loading the run's file again put in a variable that was never meant."""
    from common.config import load_config

    monkeypatch.setattr("common.version.code_version", lambda: "bbbbbbbbbbbb")
    monkeypatch.setenv("X", "put in")
    run = Paths(data="a${X}b $${X}", more=("${X}",), sources=({"path": "${X}"},))
    stored = tmp_path / "config.yaml"
    stored.write_text(stored_config(run))
    assert load_config(Paths, stored) == run
