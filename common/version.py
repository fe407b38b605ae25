"""Which code a run was made with: a run's stored config means what that code made of it (a default changed later
changes what the same config trains)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from common.config import config_to_dict
from common.paths import ROOT


def code_version(root: Path = ROOT) -> str:
    """The git commit `root` is checked out at (12 hex digits), `+dirty` when tracked files differ from it;
    `unknown` outside a git checkout or without git."""
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20)

    try:
        head = git("rev-parse", "--short=12", "HEAD")
        if head.returncode:
            return "unknown"
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty else "")


def code_lines(previous: str = "") -> str:
    """`# code: ...` header lines for a run's config.yaml: those of `previous` (the file a resumed run rewrites)
    and one for the code running now, when it differs from the last."""
    lines = [ln for ln in previous.splitlines() if ln.startswith("# code: ")]
    now = f"# code: {code_version()}"
    if not lines or lines[-1] != now:
        lines.append(now)
    return "\n".join(lines) + "\n"


def stored_config(config: object, previous: str = "") -> str:
    """A run's stored config file: `code_lines(previous)`, then `config` (a config dataclass) as YAML, its text
    holding `${` written `$${`: the environment's variables were put in when it was loaded, and loading the file
    again (a resumed detector run, `--config` of a run's copy) gives the same text."""
    def kept(v: Any) -> Any:
        if isinstance(v, str):
            return v.replace("${", "$${")
        if isinstance(v, list):
            return [kept(x) for x in v]
        return {k: kept(x) for k, x in v.items()} if isinstance(v, dict) else v

    return code_lines(previous) + yaml.safe_dump(kept(config_to_dict(config)), sort_keys=False)
