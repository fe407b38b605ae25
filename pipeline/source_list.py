"""Sources listed in a YAML file, each with its own settings (`python run_pipeline.py --sources cameras.yaml`): the
cameras of one site, each with its own region of interest, counting line or threshold, and its own output folder.

    - source: rtsp://user:pass@10.0.0.5/stream1
      name: gate-in                 # its output folder under output_dir (default: named after the source)
      roi: [[0, 0.4], [1, 0.4], [1, 1], [0, 1]]
      line: [[0.5, 0.4], [0.5, 1]]
    - source: 0
      rotate: 180                   # a camera hung upside down
      detector.conf: 0.3            # any key of configs/*.yaml, as on the command line
      fusion: {min_reads: 2}        # or a component's keys as a mapping

An entry's keys apply on top of the command line's `key=value` overrides, for that source alone. A folder is one
source (its images; with `follow: true`, its tree watched); `log_file` is the whole run's, on the command line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from common.config import YAML_ERRORS, closest, expand_env, refuse_repeated_keys
from common.errors import UserError
from common.paths import read_text
from pipeline.addresses import local_path

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # an output folder's name: no path, nothing hidden
WHOLE_RUN = ("log_file",)  # keys of the whole run, given on the command line only


@dataclass(frozen=True)
class ListedSource:
    """One entry: the source, its output folder's name ("": the default) and its `key=value` overrides."""
    spec: str
    name: str = ""
    overrides: tuple[str, ...] = ()


def as_override(key: str, value: Any) -> str:
    """`key=value` with `value` written as YAML that reads back as itself (`1e-05`, `"yes"`, lists)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 20).strip()
    return f"{key}={text.removesuffix('...').strip()}"


def read_source_list(path: str | Path) -> list[ListedSource]:
    """The entries of a sources file; a mistake in it is one error line naming the file and the entry."""
    from pipeline.settings import config_keys

    p = Path(path)
    if not p.is_file():
        raise UserError(f"sources file not found: {p}")
    text = read_text(p, "a YAML list of sources; a video is given as a plain argument")
    try:
        entries = yaml.safe_load(text)
        refuse_repeated_keys(p, text)
    except YAML_ERRORS as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{p}{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(entries, list) or not entries:
        raise UserError(f"{p}: expected a list of sources, each a mapping with a 'source' key")
    out, names, known = [], set(), set(config_keys())
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or "source" not in entry:
            raise UserError(f"{p}, entry {i}: expected a mapping with a 'source' key, got {entry!r}")
        source = str(expand_env(str(entry["source"]), f"{p}, entry {i}: source"))  # rtsp://admin:${CAM_PASSWORD}@
        spec, name = local_path(source), str(expand_env(str(entry.get("name", "") or ""), f"{p}, entry {i}: name"))
        if name and not NAME.match(name):
            raise UserError(f"{p}, entry {i}: name {name!r} is not a folder name (letters, digits, . _ -)")
        if name in names:
            raise UserError(f"{p}, entry {i}: name {name!r} is taken by an earlier entry")
        if name:
            names.add(name)
        keys = _flat({k: v for k, v in entry.items() if k not in ("source", "name")})
        for k in keys:  # a misspelt source or name (a misspelt config key is said by the config loader)
            close = closest(str(k), ("source", "name", *known)) if str(k) not in known else None
            if close in ("source", "name"):
                raise UserError(f"{p}, entry {i}: unknown key {k!r} (did you mean '{close}'?)")
        for k in WHOLE_RUN:
            if k in keys:
                raise UserError(f"{p}, entry {i}: {k} is the whole run's: give it on the command line ({k}=...)")
        out.append(ListedSource(spec, name, tuple(as_override(str(k), v) for k, v in keys.items())))
    return out


def _flat(keys: dict[str, Any]) -> dict[str, Any]:
    """A component's keys given as a mapping (`fusion: {min_reads: 2}`) as they are written flat (`fusion.min_reads`)."""
    from pipeline.settings import COMPONENTS

    out: dict[str, Any] = {}
    for k, v in keys.items():
        if k in COMPONENTS and k != "pipeline" and isinstance(v, dict):
            out.update({f"{k}.{sub}": value for sub, value in v.items()})
        else:
            out[k] = v
    return out
