import json
from pathlib import Path

import pytest

from run_pipeline import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="weights/ocr_latin.pth not shipped")
def test_bundled_plate_crops(tmp_path):
    assert main(["--crops", str(ROOT / "samples" / "plates"), f"output_dir={tmp_path}"]) == 0
    lines = [json.loads(x) for x in (tmp_path / "plates" / "reads.jsonl").read_text().splitlines()]
    assert len(lines) == 8 and all(len(x["reads"]) == 1 for x in lines)
    right = sum(x["reads"][0]["text"] == x["source"].split("_")[0] for x in lines)
    assert right >= 4, lines  # synthetic crops of mixed layouts; see weights/README.md for accuracy figures
    assert (tmp_path / "plates" / "reads.csv").read_text().startswith("source,x1,y1,x2,y2,text,confidence")


@pytest.mark.parametrize("args, code", [
    (["nope.mp4"], 1),
    (["--crops", "samples/plates", "bogus_key=1"], 2),
    (["--crops", "samples/plates", "detector.confidence=0.3"], 2),
    (["--crops", "samples/plates", "stride=two"], 2),
])
def test_bad_input_is_one_line_and_non_zero(args, code, tmp_path, capsys):
    assert main(args + [f"output_dir={tmp_path}"]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


@pytest.mark.parametrize("override, hint", [
    ("conf=0.3", "'detector.conf'"),            # a key of another component, given bare
    ("min_read_conf=0.1", "'fusion.min_conf'"),  # a key that moved to fusion
    ("strid=2", "'stride'"),                     # a misspelt pipeline key
])
def test_unknown_bare_key_suggests_where_it_belongs(override, hint):
    from common.config import ConfigError
    from pipeline.app import load_configs

    with pytest.raises(ConfigError, match=f"did you mean {hint}"):
        load_configs(ROOT / "configs", [override])
