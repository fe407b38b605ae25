"""A sources file: several cameras, each with its own settings and output folder."""
import re

import pytest
import yaml

from common.errors import UserError
from pipeline.source_list import ListedSource, as_override, read_source_list


def test_entries_become_sources_with_their_own_overrides(tmp_path):
    f = tmp_path / "cameras.yaml"
    f.write_text("""
- source: rtsp://user:pass@10.0.0.5/stream1
  name: gate-in
  roi: [[0, 0.4], [1, 0.4], [1, 1], [0, 1]]
  detector.conf: 0.3
- source: 0
  webhook: "yes"
  fusion: {min_reads: 2, lost_frames: 20}
""")
    assert read_source_list(f) == [
        ListedSource("rtsp://user:pass@10.0.0.5/stream1", "gate-in",
                     ("roi=[[0, 0.4], [1, 0.4], [1, 1], [0, 1]]", "detector.conf=0.3")),
        ListedSource("0", "", ("webhook='yes'", "fusion.min_reads=2", "fusion.lost_frames=20")),
    ]


def test_a_file_url_in_a_sources_file_is_its_path(tmp_path):
    f = tmp_path / "cameras.yaml"
    f.write_text("- source: file:///srv/rec/gate%20in.mp4\n  name: gate\n")
    assert read_source_list(f) == [ListedSource("/srv/rec/gate in.mp4", "gate", ())]


@pytest.mark.parametrize("value", [1e-05, "yes", "no", "0.5", [[0.5, 0], [0.5, 1]], True, "rtsp://a:b@c/d", ""])
def test_an_override_reads_back_as_its_value(value):
    key, _, text = as_override("k", value).partition("=")
    assert key == "k" and (yaml.safe_load(text) if text else "") == value


@pytest.mark.parametrize("text, message", [
    ("", "expected a list of sources"),
    ("source: 0", "expected a list of sources"),
    ("- name: a", "entry 1: expected a mapping with a 'source' key"),
    ("- source: 0\n  name: ../up", "entry 1: name '../up' is not a folder name"),
    ("- {source: 0, name: a}\n- {source: 1, name: a}", "entry 2: name 'a' is taken by an earlier entry"),
    ("- source: [0\n", "line 2: not valid YAML (expected ',' or ']', but got '<stream end>')"),
    ("- {source: 0, name: 2026-13-01}", "cameras.yaml: not valid YAML (month must be in 1..12)"),
    ("- {source: 0, log_file: a.log}", "entry 1: log_file is the whole run's: give it on the command line"),
    ("- {source: 0, nme: a}", "entry 1: unknown key 'nme' (did you mean 'name'?)"),
    ("- source: 0\n- source: 1\n  roi: [[0, 0], [1, 0], [1, 1]]\n  roi: [[0, 0], [1, 0], [0, 1]]\n",
     "cameras.yaml line 4: key 'roi' given twice (first on line 3)"),
    ("- {sorce: 0, source: 1}", "entry 1: unknown key 'sorce' (did you mean 'source'?)"),
])
def test_a_mistake_in_the_file_is_one_line_naming_it(tmp_path, text, message):
    f = tmp_path / "cameras.yaml"
    f.write_text(text)
    with pytest.raises(UserError, match=re.escape(message)):
        read_source_list(f)
    with pytest.raises(UserError, match="sources file not found"):
        read_source_list(tmp_path / "none.yaml")


def test_a_sources_files_camera_login_from_the_environment(tmp_path, monkeypatch):
    """`source: rtsp://admin:${CAM_PASSWORD}@...`: the password kept in the environment (Docker's, systemd's) was sent
    as the text `${CAM_PASSWORD}`; its other keys' variables are put in when they are read as overrides."""
    monkeypatch.setenv("CAM_PASSWORD", "s3cret")
    monkeypatch.setenv("SITE", "north")
    f = tmp_path / "cameras.yaml"
    f.write_text("- source: rtsp://admin:${CAM_PASSWORD}@10.0.0.5/1\n  name: ${SITE}-gate\n"
                 "  webhook_headers: ['Authorization: Bearer ${TOKEN}']\n- source: 0\n")
    assert read_source_list(f) == [
        ListedSource("rtsp://admin:s3cret@10.0.0.5/1", "north-gate",
                     ("webhook_headers=['Authorization: Bearer ${TOKEN}']",)),
        ListedSource("0", "", ())]
    monkeypatch.delenv("CAM_PASSWORD")
    with pytest.raises(UserError, match=re.escape("cameras.yaml, entry 1: source: environment variable CAM_PASSWORD "
                                                  "is not set")):
        read_source_list(f)
