from dataclasses import dataclass
from typing import Annotated, Any

import pytest

from common.config import Clock, ConfigError, Range, apply_overrides, load_config


@dataclass(frozen=True)
class Cfg:
    lr: Annotated[float, Range(0, above=True)] = 0.001
    epochs: Annotated[int, Range(1)] = 10
    share: Annotated[float, Range(0, 1)] = 0.5
    name: str = "x"
    patterns: tuple[str, ...] = ()
    amp: bool = True


def test_defaults_without_file():
    assert load_config(Cfg) == Cfg()


def test_a_key_repeated_inside_a_value_is_no_repeat(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("name: x\npatterns: [LLLDDDD, LLLDDDD]\n")
    assert load_config(Cfg, p).patterns == ("LLLDDDD", "LLLDDDD")


def test_yaml_and_overrides(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("lr: 0.01\nepochs: 3\n")
    cfg = load_config(Cfg, p, ["epochs=5", "patterns=[LLLDDDD, LLLDLDD]", "lr=1", "amp=false"])
    assert cfg == Cfg(lr=1.0, epochs=5, patterns=("LLLDDDD", "LLLDLDD"), amp=False)
    p.write_text("lr: 3e-4  # as most papers write it\n")
    assert load_config(Cfg, p).lr == 3e-4


@pytest.mark.parametrize("text, message", [
    ("lrr: 0.1\n", "unknown key 'lrr' (did you mean 'lr'?)"),
    ("data: x\n", "c.yaml: unknown key 'data' (none is close; the keys: amp, epochs, lr, name, patterns, share)"),
    ("epochs: ten\n", "config key 'epochs': 'ten' is not a valid int"),
    ("- a\n- b\n", "expected a mapping"),
    ("lr: [1\n", "not valid YAML"),
    ("name: 2026-02-30\n", "c.yaml: not valid YAML (day is out of range for month)"),  # PyYAML: a ValueError
    ("# lr\nlr: 0.1\nepochs: 3\nlr: 0.2\n", "c.yaml line 4: key 'lr' given twice (first on line 2)"),
])
def test_bad_files(tmp_path, text, message):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(Cfg, p)
    assert message in str(exc.value)


@pytest.mark.parametrize("override, message", [
    ("epoch=3", "unknown key 'epoch' (did you mean 'epochs'?)"),
    ("data=x", "unknown key 'data' (none is close; the keys: amp, epochs, lr, name, patterns, share)"),
    ("epochs=2.5", "'epochs': 2.5 is not a valid int"),
    ("lr", "is not of the form key=value"),
    ("epochs=0", "config key 'epochs': 0 is out of range (at least 1)"),
    ("lr=0", "config key 'lr': 0 is out of range (over 0)"),
    ("share=25", "config key 'share': 25 is out of range (0 to 1)"),
    ("share=-0.1", "config key 'share': -0.1 is out of range (0 to 1)"),
])
def test_bad_overrides(override, message):
    with pytest.raises(ConfigError) as exc:
        apply_overrides(Cfg(), [override])
    assert message in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found: .*nope.yaml"):
        load_config(Cfg, tmp_path / "nope.yaml")


def test_range_bounds_are_inclusive_and_errors_name_the_component(tmp_path):
    assert apply_overrides(Cfg(), ["share=0", "epochs=1"]) == Cfg(share=0.0, epochs=1)
    assert apply_overrides(Cfg(), ["share=1"]).share == 1.0
    p = tmp_path / "c.yaml"
    p.write_text("share: 2\n")
    with pytest.raises(ConfigError, match=r"config key 'fusion.share': 2 is out of range \(0 to 1\)"):
        load_config(Cfg, p, prefix="fusion.")
    with pytest.raises(ConfigError, match=r"config key 'fusion.epochs': 'x' is not a valid int"):
        load_config(Cfg, None, ["epochs=x"], prefix="fusion.")


@pytest.mark.parametrize("override, value", [
    ("name=12", "12"), ("name=1.5", "1.5"),   # numbers given for a text key are its text
    ("patterns=[1, 2]", ("1", "2")),
    ("lr=2", 2.0),                            # an int for a float key
    ("lr=1e-4", 1e-4), ("lr=3E-4", 3e-4), ("lr=5e2", 500.0), ("lr=.5e1", 5.0),  # exponents YAML 1.1 leaves text
    ("name=1e-4", "1e-4"),                    # a text key keeps them as written
    ("name=2026-12-05", "2026-12-05"),        # dates and times YAML reads as such: their ISO text
    ("name=2026-02-30", "2026-02-30"),        # a date that is no day (PyYAML: a ValueError): its text
    ("name=2026-12-05T23:00:00+01:00", "2026-12-05T23:00:00+01:00"), ("name=2026-12-05T22:00:00Z",
                                                                        "2026-12-05T22:00:00+00:00"),
])
def test_overrides_of_a_kind_a_key_can_take(override, value):
    key = override.split("=")[0]
    assert getattr(load_config(Cfg, None, [override]), key) == value


@pytest.mark.parametrize("override, message", [
    ("lr=true", "config key 'lr': True is not a valid float"),
    ("lr=abc", "config key 'lr': 'abc' is not a valid float"),
    ("lr=1e-4x", "config key 'lr': '1e-4x' is not a valid float"),
    ("lr=inf", "config key 'lr': 'inf' is not a valid float"),
    ("lr=2026-02-30", "config key 'lr': '2026-02-30' is not a valid float"),  # a date that is no day: its text
    ("lr=.nan", "config key 'lr': nan is out of range (over 0)"),  # YAML's NaN: no bound holds for it
    ("epochs=.nan", "config key 'epochs': nan is not a valid int"),
    ("lr=-1e-4", "config key 'lr': -0.0001 is out of range (over 0)"),
    ("epochs=1e3", "config key 'epochs': '1e3' is not a valid int"),
    ("name=true", "config key 'name': True is not a valid str"),
    ("amp=1", "config key 'amp': 1 is not a valid bool"),
    ("epochs=true", "config key 'epochs': True is not a valid int"),
    ("patterns=abc", "config key 'patterns': expected a list, got 'abc' (a list is written in brackets: [abc])"),
    ("patterns={a: 1}", "config key 'patterns': expected a list, got {'a': 1}"),
])
def test_a_value_of_another_kind_is_refused(override, message):
    with pytest.raises(ConfigError) as exc:
        load_config(Cfg, None, [override])
    assert str(exc.value) == message


@dataclass(frozen=True)
class Window:
    start_s: Annotated[float, Clock(), Range(0)] = 0.0


@pytest.mark.parametrize("override, seconds", [
    ("start_s=90", 90.0), ("start_s=1.5", 1.5), ("start_s=1e3", 1000.0),
    ("start_s=0:30", 30.0), ("start_s='1:30'", 90.0), ("start_s=12:30.5", 750.5),  # m:ss (0:30 is text to YAML)
    ("start_s=1:02:30", 3750.0), ("start_s='0:00:30.25'", 30.25), ("start_s=' 2:00:00 '", 7200.0),  # h:mm:ss
])
def test_a_clock_key_takes_seconds_or_a_time(override, seconds):
    assert load_config(Window, None, [override]).start_s == seconds


@pytest.mark.parametrize("override, message", [
    ("start_s=abc", "config key 'start_s': 'abc' is not a time (seconds, m:ss or h:mm:ss)"),
    ("start_s=1:75", "config key 'start_s': '1:75' is not a time (seconds, m:ss or h:mm:ss)"),
    ("start_s='1:2:75'", "config key 'start_s': '1:2:75' is not a time (seconds, m:ss or h:mm:ss)"),
    ("start_s='-0:30'", "config key 'start_s': '-0:30' is not a time (seconds, m:ss or h:mm:ss)"),
    ("start_s=-3", "config key 'start_s': -3 is out of range (at least 0)"),
    ("start_s=true", "config key 'start_s': True is not a valid float"),
    ("start_s=.inf", "config key 'start_s': inf is not a time (seconds, m:ss or h:mm:ss)"),  # YAML's own
    ("start_s=.nan", "config key 'start_s': nan is not a time (seconds, m:ss or h:mm:ss)"),
])
def test_a_clock_key_refuses_other_text_naming_the_forms(override, message):
    with pytest.raises(ConfigError) as exc:
        load_config(Window, None, [override])
    assert str(exc.value) == message


@dataclass(frozen=True)
class Optional_:
    seed: int | None = 3


def test_an_optional_key_takes_null_or_its_kind():
    assert load_config(Optional_, None, ["seed=null"]).seed is None
    assert load_config(Optional_, None, ["seed=5"]).seed == 5
    with pytest.raises(ConfigError):
        load_config(Optional_, None, ["seed=abc"])


@pytest.mark.parametrize("text, line", [("a: b: c\n", 1), ("lr: 0.1\nepochs: [3\n", 3)])
def test_a_yaml_error_names_its_line(tmp_path, text, line):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(Cfg, p)
    assert str(exc.value) == f"{p} line {line}: not valid YAML"


def test_a_config_cannot_be_changed():
    with pytest.raises(AttributeError):
        load_config(Cfg).lr = 1.0  # type: ignore[misc]


@dataclass(frozen=True)
class Sources:
    train: tuple[dict[str, Any] | str, ...] = ()
    limit: float | None = None


@pytest.mark.parametrize("override, message", [
    ("train=[null]", "config key 'train[0]': None is not a mapping or a text"),
    ("train=[[a]]", "config key 'train[0]': ['a'] is not a mapping or a text"),
    ("limit=abc", "config key 'limit': 'abc' is not a number or null"),
])
def test_a_key_of_several_kinds_names_them_in_words(override, message):
    """`dict[str, Any] | str` was named as Python writes it in the error (`is not of type dict[str, typing.Any] |
    str`)."""
    with pytest.raises(ConfigError) as exc:
        load_config(Sources, None, [override])
    assert str(exc.value) == message
    assert load_config(Sources, None, ["train=[a, {path: b}]", "limit=2"]) == Sources(("a", {"path": "b"}), 2.0)


def test_environment_variables_in_a_file_and_in_overrides(tmp_path, monkeypatch):
    """A camera's password or a webhook's token kept out of the config file (Docker Compose's `environment:`,
    systemd's `Environment=`): `${NAME}` was passed on as it is written, and the camera refused the login."""
    monkeypatch.setenv("CAM_PASSWORD", "0123")
    monkeypatch.setenv("LR", "3e-4")
    monkeypatch.setenv("EMPTY", "")
    p = tmp_path / "c.yaml"
    p.write_text('name: "rtsp://admin:${CAM_PASSWORD}@cam/${CHANNEL:-101}"\nlr: ${LR}\npatterns: ["${CAM_PASSWORD}"]\n')
    cfg = load_config(Cfg, p, ["epochs=${EPOCHS:-7}", "amp=${AMP:-false}", "share=${EMPTY:-0.25}"])
    assert cfg == Cfg(name="rtsp://admin:0123@cam/101", lr=3e-4, patterns=("0123",), epochs=7, amp=False, share=0.25)
    assert type(cfg.name) is str and type(cfg.patterns[0]) is str  # a key of text keeps it as text (not octal 83)
    assert load_config(Cfg, None, ["name=$${CAM_PASSWORD}:${EMPTY}"]).name == "${CAM_PASSWORD}:"
    assert load_config(Sources, None, ["train=[{path: '${CAM_PASSWORD}/x'}]"]).train == ({"path": "0123/x"},)
    assert type(load_config(Sources, None, ["train=[{path: '${LR}'}]"]).train[0]["path"]) is str  # dumpable
    nested = load_config(Sources, None, ["train=[{path: a, more: ['${LR}'], sub: {k: '${LR}'}}]"]).train[0]
    assert nested == {"path": "a", "more": ["3e-4"], "sub": {"k": "3e-4"}}  # at any depth of a mapping: plain text,
    assert type(nested["more"][0]) is str and type(nested["sub"]["k"]) is str  # as a checkpoint's config must hold


@pytest.mark.parametrize("text, override, message", [
    ("name: ${CAM_PASSWORD}\n", None, "c.yaml: key 'name': environment variable CAM_PASSWORD is not set (write "
                                      "${CAM_PASSWORD:-default} for a default, $${CAM_PASSWORD} for the text itself)"),
    (None, "lr=${CAM_PASSWORD}", "override lr: environment variable CAM_PASSWORD is not set"),
    (None, "lr=${EMPTY}", "config key 'lr': '' is not a valid float"),
    (None, "epochs=${WORD}", "config key 'epochs': 'ten' is not a valid int"),
    (None, "epochs=${LIST}", "config key 'epochs': '[1, 2' is not a valid int"),
    (None, "share=${TWO}", "config key 'share': 2 is out of range (0 to 1)"),
])
def test_an_unset_or_unfitting_environment_variable_is_one_line(text, override, message, tmp_path, monkeypatch):
    monkeypatch.delenv("CAM_PASSWORD", raising=False)
    for name, value in {"EMPTY": "", "WORD": "ten", "LIST": "[1, 2", "TWO": "2"}.items():
        monkeypatch.setenv(name, value)
    p = tmp_path / "c.yaml"
    if text:
        p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(Cfg, p if text else None, [override] if override else [])
    assert str(exc.value).removeprefix(str(tmp_path) + "/").startswith(message)
