"""One loader for every component config: YAML -> frozen dataclass, unknown keys rejected, `key=value` overrides.

Each component defines a frozen dataclass whose defaults are the documented defaults; the YAML file under
`configs/` sets (some of) its fields, and the command line may override any field as `key=value`, where the
value is parsed as YAML and checked against the field's type, and against its `Range` where the field is
annotated with one (`stride: Annotated[int, Range(1)] = 1`).
"""
from __future__ import annotations

import dataclasses
import datetime
import difflib
import math
import os
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Iterable, TypeVar

import yaml

from common.errors import UserError
from common.paths import find, read_text

YAML_ERRORS = (yaml.YAMLError, ValueError)  # PyYAML raises ValueError for a date that is no day (2026-02-30)

T = TypeVar("T")


class ConfigError(UserError):
    """A config file or override that does not fit its dataclass."""


@dataclass(frozen=True)
class Range:
    """The values a numeric config key admits, given as `Annotated[float, Range(0, 1)]`: from `lo` to `hi`
    inclusive (None: unbounded), `lo` itself excluded when `above` (a learning rate is over 0)."""
    lo: float | None = None
    hi: float | None = None
    above: bool = False

    def admits(self, value: float) -> bool:
        if math.isnan(value):  # YAML's .nan: no bound holds or fails for it
            return False
        if self.lo is not None and (value <= self.lo if self.above else value < self.lo):
            return False
        return self.hi is None or value <= self.hi

    def __str__(self) -> str:
        low = "" if self.lo is None else f"{'over' if self.above else 'at least'} {self.lo:g}"
        high = "" if self.hi is None else f"at most {self.hi:g}"
        if low and high and not self.above:
            return f"{self.lo:g} to {self.hi:g}"
        return " and ".join(x for x in (low, high) if x) or "any number"


_CLOCK = re.compile(r"(?:(\d+):([0-5]?\d):|(\d+):)([0-5]?\d(?:\.\d*)?)")  # h:mm:ss or m:ss, seconds with decimals


@dataclass(frozen=True)
class Clock:
    """Marks a key of seconds that also takes a time as text, `m:ss` or `h:mm:ss` (`start_s=1:02:30`), in
    `Annotated[float, Clock(), Range(0)]`."""

    def seconds(self, name: str, value: Any) -> Any:
        """`value` in seconds when it is such a time; other text but a number (`1e3`), and YAML's `.inf` and `.nan`,
        are a ConfigError."""
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"config key '{name}': {value!r} is not a time (seconds, m:ss or h:mm:ss)")
        if not isinstance(value, str) or exponent_number(value) is not None:
            return value
        m = _CLOCK.fullmatch(value.strip())
        if m is None:
            raise ConfigError(f"config key '{name}': {value!r} is not a time (seconds, m:ss or h:mm:ss)")
        hours, minutes, only_minutes, secs = m.groups()
        return int(hours or 0) * 3600 + int(minutes or only_minutes) * 60 + float(secs)


def closest(key: str, valid: Iterable[str]) -> str | None:
    """The valid name most like a misspelt `key`, if any is close enough."""
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
    return close[0] if close else None


def key_list(valid: Iterable[str]) -> str:
    """`valid` keys as a message lists them: sorted, comma-separated."""
    return ", ".join(sorted(valid))


def _suggest(key: str, valid: Iterable[str]) -> str:
    """The closest valid key, or, where none is close, every valid key: what to write instead of `key`."""
    valid = list(valid)
    close = closest(key, valid)
    return f" (did you mean '{close}'?)" if close else f" (none is close; the keys: {key_list(valid)})"


# a number in exponent form without a decimal point (1e-4, 5E2): PyYAML, which reads YAML 1.1, leaves it a string
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def exponent_number(value: Any) -> float | None:
    """`value` as the number it is when it is text in exponent form (`1e-4`, which YAML 1.1 leaves a string), else
    None."""
    return float(value) if isinstance(value, str) and _EXPONENT.fullmatch(value.strip()) else None


# `${NAME}`, `${NAME:-default}` (the default where NAME is unset or empty), and `$${NAME}`, which is `${NAME}` itself
_ENV = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class EnvText(str):
    """A config value's text with the environment variables it named put in (`rtsp://admin:${CAM_PASSWORD}@cam`): a
    key of text takes it as text (a password `0123` stays `0123`), any other key reads it as YAML (`conf: ${CONF}`)."""


def expand_env(value: Any, where: str, in_mapping: bool = False) -> Any:
    """`value` (a YAML value: text, or lists and mappings of them) with each `${NAME}` in its text replaced by that
    environment variable, as Docker Compose and systemd write it, so that a camera's password or a webhook's token
    stays out of config files and the process list; an unset variable without a default is a ConfigError naming
    `where` (the file and key) and the variable. Text anywhere inside a mapping (`in_mapping`) stays plain text: no
    key's type reads it there, and an `EnvText` left in it would reach a checkpoint, which `weights_only` refuses."""
    if isinstance(value, dict):
        return {k: expand_env(v, where, True) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, where, in_mapping) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value

    def put(m: re.Match[str]) -> str:
        escaped, name, default = m.groups()
        if escaped:
            return m.group(0)[1:]
        got = os.environ.get(name)
        if got is None or (got == "" and default is not None):
            if default is None:
                raise ConfigError(f"{where}: environment variable {name} is not set (write ${{{name}:-default}} "
                                  f"for a default, $${{{name}}} for the text itself)")
            return default
        return got

    text = _ENV.sub(put, value)
    return text if in_mapping else EnvText(text)


def _kind(tp: Any) -> str:
    """How an error names what a key's type takes (`dict[str, Any] | str`: a mapping or a text)."""
    origin = typing.get_origin(tp) or tp
    kinds = {dict: "a mapping", str: "a text", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", tuple: "a list", type(None): "null"}
    return kinds.get(origin, str(tp))


def _check_type(name: str, value: Any, tp: Any) -> Any:
    """Return `value` converted to `tp` where that is lossless, else raise ConfigError."""
    if isinstance(value, EnvText):  # taken as text where `tp` takes that, else read as YAML (a number, a list)
        try:
            return _check_type(name, str(value), tp)
        except ConfigError as as_text:
            try:
                read = yaml.safe_load(str(value))
            except YAML_ERRORS:
                raise as_text from None
            if read is None or isinstance(read, str):
                raise
            return _check_type(name, read, tp)
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is Annotated:
        inner, *extras = typing.get_args(tp)
        for clock in (x for x in extras if isinstance(x, Clock)):
            value = clock.seconds(name, value)
        checked = _check_type(name, value, inner)
        for r in extras:
            if isinstance(r, Range) and isinstance(checked, (int, float)) and not r.admits(checked):
                shown = value if isinstance(value, (int, float)) else checked  # as given, or as read (`1e-4`)
                raise ConfigError(f"config key '{name}': {shown!r} is out of range ({r})")
        return checked
    if origin is typing.Literal:
        choices = typing.get_args(tp)
        if value in choices:
            return value
        raise ConfigError(f"config key '{name}': {value!r} is not one of {', '.join(map(str, choices))}")
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            try:
                return _check_type(name, value, arg)
            except ConfigError:
                continue
        raise ConfigError(f"config key '{name}': {value!r} is not {' or '.join(map(_kind, typing.get_args(tp)))}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"config key '{name}': expected null, got {value!r}")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            scalar = isinstance(value, (str, int, float)) and not isinstance(value, bool)
            hint = f" (a list is written in brackets: [{value}])" if scalar else ""
            raise ConfigError(f"config key '{name}': expected a list, got {value!r}{hint}")
        (arg, *_) = typing.get_args(tp) or (Any,)
        return tuple(_check_type(f"{name}[{i}]", v, arg) for i, v in enumerate(value))
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"config key '{name}': expected a mapping, got {value!r}")
        return dict(value)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        number = exponent_number(value)  # `lr=1e-4`: YAML 1.1 reads it as a string
        if number is not None:
            return number
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, datetime.date):  # YAML reads `2026-12-05T22:00:00Z` as a time: its ISO text
            return value.isoformat()
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"config key '{name}': {value!r} is not a valid {getattr(tp, '__name__', tp)}")


def _build(cls: type[T], values: dict[str, Any], source: str, prefix: str = "") -> T:
    hints = typing.get_type_hints(cls, include_extras=True)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]  # T is a config dataclass
    for key in values:
        if key not in names:
            raise ConfigError(f"{source}: unknown key '{key}'{_suggest(key, names)}")
    checked = {k: _check_type(prefix + k, v, hints[k]) for k, v in values.items()}
    return cls(**checked)


def config_from_dict(cls: type[T], values: dict[str, Any], source: str, overrides: Iterable[str] = ()) -> T:
    """Build `cls` from a plain dict (a config stored in a checkpoint), checked as a YAML file is, then apply
    `overrides`; `source` names it in errors."""
    return apply_overrides(_build(cls, values, source), overrides)


def parse_override(text: str, prefix: str = "") -> tuple[str, Any]:
    """Split `key=value` and parse the value as YAML (`lr=1e-3`, `patterns=[LLLDDDD]`, `device=cpu`), its
    environment variables put in (an error names the key as `prefix` + key)."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' is not of the form key=value")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw != "" else ""
    except YAML_ERRORS:  # not YAML (`[1, 2`, a date that is no day): the text itself, which the key's type checks
        value = raw
    return key.strip(), expand_env(value, f"override {prefix}{key.strip()}")


def apply_overrides(config: T, overrides: Iterable[str], prefix: str = "") -> T:
    """Return a copy of `config` with each `key=value` applied and type-checked (`prefix` names the component
    in errors: `detector.`)."""
    values = config_to_dict(config)
    for text in overrides:
        key, value = parse_override(text, prefix)
        if key not in values:
            raise ConfigError(f"override: unknown key '{key}'{_suggest(key, values)}")
        values[key] = value
    return _build(type(config), values, "override", prefix)


def refuse_repeated_keys(path: Path, text: str) -> None:
    """A key given twice in one mapping of a YAML file (a config, or an entry of a sources list) is a ConfigError
    naming both lines: YAML keeps the last without a word, so a key added at the end of a file while the file sets it
    further up would be read or dropped depending on order."""
    node = yaml.compose(text)
    for mapping in node.value if isinstance(node, yaml.SequenceNode) else [node]:
        seen: dict[Any, int] = {}
        for key, _ in mapping.value if isinstance(mapping, yaml.MappingNode) else ():
            line = key.start_mark.line + 1
            if key.value in seen:
                raise ConfigError(f"{path} line {line}: key '{key.value}' given twice (first on line "
                                  f"{seen[key.value]})")
            seen[key.value] = line


def load_config(cls: type[T], path: str | Path | None = None, overrides: Iterable[str] = (), prefix: str = "") -> T:
    """Load `cls` from the YAML file at `path` (or its defaults when None) and apply `overrides`; errors name a key
    as `prefix` + key."""
    values: dict[str, Any] = {}
    if path is not None:
        p = find(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        text = read_text(p, "a YAML config")
        try:
            loaded = yaml.safe_load(text) or {}
        except YAML_ERRORS as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            where = f" line {line + 1}" if line is not None else ""
            why = f" ({exc})" if isinstance(exc, ValueError) else ""
            raise ConfigError(f"{p}{where}: not valid YAML{why}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: expected a mapping of key: value")
        refuse_repeated_keys(p, text)
        values = {k: expand_env(v, f"{p}: key '{k}'") for k, v in loaded.items()}
    config = _build(cls, values, str(path) if path else cls.__name__, prefix)
    return apply_overrides(config, overrides, prefix)


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain dict of a config dataclass (tuples become lists), for YAML/JSON and checkpoints."""

    def plain(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return {f.name: plain(getattr(config, f.name)) for f in dataclasses.fields(config)}
