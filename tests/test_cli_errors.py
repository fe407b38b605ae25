"""Every command-line tool says an expected mistake as one line `error: ...` on stderr, with a non-zero exit."""
import importlib

import pytest


@pytest.mark.parametrize("module, argv, says", [
    ("detection.scenes", ["--backgrounds", "nope", "--out", "{tmp}/s", "--n", "1"], "labels file not found"),
    ("detection.evaluate", ["--weights", "nope.pt", "--labels", "x.csv"], "detector weights not found: nope.pt"),
    ("detection.export", ["--weights", "nope.pt"], "detector weights not found: nope.pt"),
    ("detection.export", ["--weights", "weights/detector.pt", "--calib", "samples/stills"],
     "--calib and --exclude calibrate the --int8 export: add --int8"),
    ("detection.export", ["--weights", "weights/detector.onnx"],
     "export needs the detector's trained .pt weights, not detector.onnx"),
    ("ocr.export", ["--weights", "nope.pth", "--format", "onnx"], "checkpoint not found: nope.pth"),
    ("ocr.export", ["--weights", "weights/ocr_digits.pth", "--format", "torchscript", "--out", "{tmp}/x.onnx"],
     "x.onnx: a torchscript export is named *.pt (the readers tell an export's kind by its suffix)"),
    ("ocr.synth", ["--out", "{tmp}/p", "--n", "2", "--mix", "bogus"], "unknown synthetic layout 'bogus'"),
    ("ocr.synth", ["--out", "{tmp}/p", "--n", "2", "--mix", "us=-1,eu=1"], "layout weight -1 for 'us' must be 0 or more"),
    ("ocr.synth", ["--out", "{tmp}/p", "--n", "2", "--mix", "us=0"],
     "synthetic mix 'us=0': every layout weighs 0, so none would be drawn"),
    ("ocr.synth", ["--out", "{tmp}/p", "--n", "2", "--mix", "us=inf"], "layout weight inf for 'us' must be 0 or more"),
    ("ocr.synth", ["--out", "{tmp}/p", "--n", "2", "--mix", "us=x"], "layout weight 'x' for 'us' is not a number"),
    ("pipeline.evaluate", ["--labels", "nope.csv"], "labels file not found: nope.csv"),
    ("pipeline.evaluate", ["--labels", "data_gen/never_drawn/labels.csv"],
     "labels file not found: data_gen/never_drawn/labels.csv (a generated set: bash bench/make_sets.sh"),
    ("pipeline.evaluate", ["--labels", "x.csv", "narrow_both_ways=maybe"],
     "config key 'narrow_both_ways': 'maybe' is not one of stills, always, never"),
    ("pipeline.evaluate", ["--labels", "x.csv", "detector.still_zoom_out=0.5"],
     "detector.still_zoom_out must be 0 (off) or over 1, not 0.5"),
    ("pipeline.synth_clip", ["--backgrounds", "nope", "--plates", "nope", "--out", "{tmp}/c"], "labels file not found"),
    ("ocr.train", ["bogus_key=1"], "bogus_key"),
    ("ocr.train", ["seed=-5"], "config key 'seed': -5 is out of range (at least 0)"),
    ("ocr.train", ["resume=-5"], "checkpoint not found: -5"),  # a number is a file name too
    ("ocr.train", ["alphabet=ABC", "patterns=[]", "out_dir={tmp}/run"],  # (the digits' pattern refused first)
     "data source synth: digits: its plates have characters outside the alphabet 'ABC': '0123456789'"),
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--data", "samples/plates", "--device", "gpu"],
     "device 'gpu': expected auto, cpu, cuda, cuda:N (the Nth GPU) or mps"),
    ("run_pipeline", ["samples/stills", "detector.device=0"], "device '0': expected auto, cpu, cuda"),
    ("run_pipeline", ["samples/clip.mp4", "samples/stills", "ocr_backend=tensorrt"],
     "config key 'ocr_backend': 'tensorrt' is not one of auto, torch, onnx"),
    ("run_pipeline", ["samples/stills", "fusion={min_reads: 2}"],
     "override 'fusion={min_reads: 2}': give each of fusion's keys as fusion.KEY=VALUE"),
    # a bad roi is said once, before any source (it was said by each source as it started)
    ("run_pipeline", ["samples/clip.mp4", "samples/stills", "roi=[[0,0],[1,1]]"], "roi needs at least 3 points, got 2"),
    ("ocr.train", ["--config", "configs/ocr_finetune.yaml", "out_dir={tmp}/run"],
     "dataset folder not found: my_plates/train (your plates: python -m pipeline.harvest --out my_plates writes it"),
    ("ocr.evaluate", ["--weights", "nope.pth", "--data", "x"], "checkpoint not found: nope.pth"),
    # an output that cannot be written is said before the evaluation runs, not after it
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--data", "samples/plates", "--json", "{tmp}"],
     "is a folder: name the file to write"),
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--data", "samples/plates", "--predictions",
                      "/proc/p.csv"], "cannot write /proc/p.csv: "),
    ("detection.evaluate", ["--weights", "weights/detector.pt", "--labels", "samples/stills/labels.csv", "--json",
                            "/proc/d.json"], "cannot write /proc/d.json: "),
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--ensemble", "nope2.pth", "--data", "x"],
     "checkpoint not found: nope2.pth"),
    ("pipeline.evaluate", ["--labels", "x.csv", "ocr_ensemble=[nope3.pth]"], "checkpoint not found: nope3.pth"),
    ("pipeline.evaluate", ["--labels", "x.csv", "ocr_ensemble=[b.pth]", "fusion.posterior_top_k=3"],
     "fusion.posterior_top_k averages posteriors frame by frame"),
    ("pipeline.evaluate", ["--labels", "x.csv", "ocr_ensemble_below=0.9"],
     "ocr_ensemble_below=0.9 asks the other models of ocr_ensemble for a second read, and ocr_ensemble names none"),
    ("pipeline.evaluate", ["--labels", "x.csv", "ocr_ensemble_below=1.5"], "ocr_ensemble_below"),
    ("pipeline.evaluate", ["--video", "samples/clip.mp4"], "give --labels CSV, or --video CLIP with --expected CSV"),
    ("pipeline.evaluate", ["--expected", "samples/clip_expected.csv"],
     "give --labels CSV, or --video CLIP with --expected CSV"),
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--ensemble-below", "0.9", "--data", "x"],
     "a cascade below 0.9 needs a second OCR model to ask, and only weights/ocr_latin.pth is given"),
    ("ocr.interpolate", ["--a", "nope.pth", "--b", "nope.pth", "--alpha", "0.5", "--out", "{tmp}/i.pth"],
     "checkpoint not found: nope.pth"),
    ("detection.train", ["bogus_key=1"], "bogus_key"),
    ("detection.train", ["extra={mosiac: 0}"], "extra: 'mosiac' is not an ultralytics train argument (did you mean "
                                               "'mosaic'?)"),
    ("detection.train", ["extra={lr0: -1}"], "extra: 'lr0=-1' is an invalid value. Valid 'lr0' values are between"),
    ("detection.train", ["resume=configs/models/plate_yolo11.yaml"],
     "resume needs an interrupted run's weights/last.pt: configs/models/plate_yolo11.yaml is not a .pt file"),
    ("detection.train", ["resume=runs/nope/weights/last.pt"],
     "resume needs an interrupted run's weights/last.pt: runs/nope/weights/last.pt not found"),
    ("run_pipeline", ["samples/nope.mp4"], "nope.mp4"),
    # a bad model file is said once before any source starts, not by each source
    ("run_pipeline", ["samples/stills", "samples/plates", "ocr_weights=nope.pth"], "checkpoint not found: nope.pth"),
    ("run_pipeline", ["samples/stills", "ocr_weights="], "checkpoint not given: the path is empty"),
    ("run_pipeline", ["samples/stills", "detector.weights="], "detector.weights is empty"),
    ("run_pipeline", ["samples/stills", "samples/plates", "detector.weights=nope.onnx"],
     "detector weights not found: nope.onnx"),
    ("run_pipeline", ["samples/stills", "samples/plates", "detector.weights=configs/detector.yaml"],
     "detector weights must be .pt or .onnx, not detector.yaml"),
    ("ocr.splits", ["--data", "{tmp}/nope", "--out", "{tmp}/splits"], "nope/us_crops/labels.csv: No such file"),
    # a split file of other folders picks nothing: said, not a report of 0 of 0 plates
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--data", "samples/plates", "--split-file",
                      "configs/splits/real_crops_holdout.csv", "--split", "holdout"],
     "samples/plates: the split file configs/splits/real_crops_holdout.csv lists images of the folders ar_crops, "
     "us_crops, none of a folder 'plates' (split files name a folder by its name)"),
])
def test_one_error_line(module, argv, says, tmp_path, capsys):
    main = importlib.import_module(module).main
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and says in err[0], err


@pytest.mark.parametrize("module, needed", [
    ("detection.evaluate", "--weights, --labels"), ("ocr.evaluate", "--weights, --data"),
    ("ocr.interpolate", "--a, --b, --alpha, --out"), ("detection.scenes", "--backgrounds, --out"),
    ("pipeline.synth_clip", "--backgrounds, --plates, --out"), ("pipeline.harvest", "--out"), ("ocr.synth", "--out"),
    ("ocr.export", "--weights")])
def test_a_command_says_every_argument_it_needs(module, needed, capsys):
    with pytest.raises(SystemExit) as exc:
        importlib.import_module(module).main([])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"error: the following arguments are required: "
                                                                     f"{needed}")


@pytest.mark.parametrize("module, argv, made", [
    ("detection.scenes", ["--backgrounds", "samples/stills", "--n", "1"], "labels.csv"),
    ("pipeline.synth_clip", ["--backgrounds", "samples/stills", "--plates", "samples/plates", "--vehicles", "1"],
     "expected.csv"),
])
def test_a_generator_never_writes_over_a_set_drawn_before(module, argv, made, tmp_path, capsys):
    (tmp_path / made).write_text("drawn before\n")
    main = importlib.import_module(module).main
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {tmp_path} already holds a set ({made}): give another --out, or delete it first"]
    assert [p.name for p in tmp_path.iterdir()] == [made] and (tmp_path / made).read_text() == "drawn before\n"


BINARY = bytes(range(128, 256)) * 4  # no UTF-8 text: a video, an image or a spreadsheet given where text is read


@pytest.mark.parametrize("module, argv, file, says", [
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--data", "{tmp}/set"], "set/labels.csv",
     "not a UTF-8 text file (expected CSV image,plate_text): byte 0x80 at offset 0"),
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--data", "samples/plates", "--split-file", "{tmp}/s.csv",
                      "--split", "holdout"], "s.csv",
     "not a UTF-8 text file (expected a split file, CSV dataset,image)"),
    ("pipeline.evaluate", ["--labels", "{tmp}/boxes.csv"], "boxes.csv",
     "not a UTF-8 text file (expected CSV image,plate_text,x1,y1,x2,y2)"),
    ("run_pipeline", ["--config-dir", "{tmp}/cfg", "samples/plates", "--crops"], "cfg/pipeline.yaml",
     "not a UTF-8 text file (expected a YAML config)"),
    ("ocr.splits", ["--data", "{tmp}/data", "--out", "{tmp}/splits"], "data/us_crops/labels.csv",
     "not a UTF-8 text file (expected CSV image,plate_text): byte 0x80 at offset 0"),
    ("detection.scenes", ["--backgrounds", "samples/stills", "--plates", "{tmp}/set", "--out", "{tmp}/scenes", "--n",
                          "1"], "set/labels.csv", "not a UTF-8 text file (expected CSV image,plate_text)"),
])
def test_a_file_that_is_not_text_is_one_error_line(module, argv, file, says, tmp_path, capsys):
    import shutil

    shutil.copytree("configs", tmp_path / "cfg")
    (tmp_path / "set" / "images").mkdir(parents=True)
    (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / file).write_bytes(BINARY)
    main = importlib.import_module(module).main
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {tmp_path / file}: ") and says in err[0], err


CROPS = ("CSV image,plate_text", "image,plate_text")


@pytest.mark.parametrize("module, argv, file, says", [
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--data", "{tmp}/set"], "set/labels.csv", CROPS),
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--data", "samples/plates", "--split-file", "{tmp}/s.csv",
                      "--split", "holdout"], "s.csv", ("a split file, CSV dataset,image", "dataset,image")),
    ("pipeline.evaluate", ["--labels", "{tmp}/boxes.csv"], "boxes.csv",
     ("CSV image,plate_text,x1,y1,x2,y2", "image,x1,y1,x2,y2")),
    ("pipeline.evaluate", ["--video", "samples/clip.mp4", "--expected", "{tmp}/exp.csv"], "exp.csv",
     ("CSV plate_text,first_frame[,last_frame]", "plate_text")),
    ("ocr.splits", ["--data", "{tmp}/data", "--out", "{tmp}/splits"], "data/us_crops/labels.csv", CROPS),
    ("detection.scenes", ["--backgrounds", "samples/stills", "--plates", "{tmp}/set", "--out", "{tmp}/scenes", "--n",
                          "1"], "set/labels.csv", CROPS),
])
@pytest.mark.parametrize("header", ["", "name,reading\n"])  # (text is another tool's name for plate_text)
def test_a_csv_without_its_columns_is_one_error_line(module, argv, file, says, header, tmp_path, capsys):
    """An empty file, or one whose header names other columns (a spreadsheet's own export), is said with the
    columns it lacks, not a KeyError or 'no images' further on."""
    what, columns = says
    (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / file).write_text(header + ("a.jpg,AB123\n" if header else ""))
    main = importlib.import_module(module).main
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    lacks = "empty file" if not header else f"missing column(s) {', '.join(columns.split(','))}"
    assert err == [f"error: {tmp_path / file}: {lacks} (expected {what})"], err


@pytest.mark.parametrize("module, argv", [
    ("run_pipeline", ["--conf", "0.3", "samples/stills"]),  # ultralytics' conf, typed as a flag
    ("ocr.train", ["--conf", "nope.yaml"]),
    ("detection.evaluate", ["--weights", "weights/detector.pt", "--labels", "samples/stills/labels.csv", "--conf",
                            "0.3"]),
])
def test_a_flag_is_never_taken_for_a_longer_one_it_begins(module, argv, capsys):
    """`--conf` was argparse's abbreviation of --config / --config-dir: `--conf 0.3` read a config file named 0.3."""
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("error: unrecognized arguments: --conf")


def test_crops_of_a_folder_of_videos_say_so(tmp_path, capsys):
    import shutil
    from pathlib import Path

    from run_pipeline import main

    shutil.copy(Path(__file__).resolve().parents[1] / "samples" / "clip.mp4", tmp_path)
    assert main(["--crops", str(tmp_path), f"output_dir={tmp_path / 'out'}"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path} holds videos, not plate crops: --crops reads images of plates (videos run "
                   f"without it)"], err


def test_overrides_may_come_before_and_between_flags(tmp_path):
    """`python -m pipeline.evaluate a=1 --labels L b=2`: overrides on either side of the flags."""
    import json
    from pathlib import Path

    from pipeline.evaluate import main

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "e.json"
    assert main(["detector.conf=0.3", "--labels", str(root / "samples" / "stills" / "labels.csv"), "crop_margin=0.06",
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["n_plates"] > 0


@pytest.mark.parametrize("script, argv, says", [
    ("ocr_speed.py", ["--weights", "nope.pth"], "error: checkpoint not found: nope.pth"),
    ("detector_speed.py", ["--weights", "nope.pt"], "error: detector weights not found: nope.pt"),
    ("ocr_soup.py", ["--a", "nope.pth", "--b", "nope.pth", "--out", "x.pth"], "error: checkpoint not found: nope.pth"),
    ("confidence.py", ["--split", "val", "--weights", "nope.pth"], "error: checkpoint not found: nope.pth"),
    ("ocr_sets_diff.py", ["nope.txt", "a", "b"], "error: no results file nope.txt"),
    ("warmup_compare.py", ["nope.json"], "error: no training history nope.json"),
])
def test_bench_scripts_say_one_error_line(script, argv, says, tmp_path):
    """The benchmarks that reproduce the README's figures answer a bad path like the tools do."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, str(root / "bench" / script), *argv], cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, "YOLO_OFFLINE": "1"}, timeout=120)
    assert run.returncode == 2 and run.stderr.strip().splitlines() == [says], run.stderr[-2000:]


def test_every_console_command_is_an_entry_point_with_main():
    """pyproject's commands (plate-reader, plate-ocr-*, plate-detector-*, plate-search, plate-stays, plate-harvest,
    plate-serve) each name a module's main(argv)."""
    import inspect
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later

    scripts = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
    assert len(scripts) == 12
    for name, target in scripts.items():
        module, func = target.split(":")
        main = getattr(importlib.import_module(module), func)
        assert list(inspect.signature(main).parameters) == ["argv"], name


@pytest.mark.parametrize("module, argv", [
    ("ocr.evaluate", ["--weights", "weights/ocr_latin.pth", "--data", "samples/plates"]),
    ("detection.evaluate", ["--weights", "weights/detector.pt", "--labels", "samples/stills/labels.csv"]),
    ("pipeline.evaluate", ["--labels", "samples/stills/labels.csv"]),
])
def test_an_evaluation_stopped_says_so_in_one_line(module, argv, monkeypatch, capsys):
    """Ctrl-C or SIGTERM during an evaluation: status 130 and one line, not a KeyboardInterrupt traceback."""
    mod = importlib.import_module(module)

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mod, "prepare_outputs", stop)
    assert mod.main(argv) == 130
    captured = capsys.readouterr()
    assert (captured.out + captured.err).strip().splitlines() == ["interrupted before the end: no metrics reported"]


class FullFile:
    """A file on a full disk: what it is given to write, or flush when closed, fails as the system says (no name)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, text):
        raise OSError(28, "No space left on device")

    def close(self):
        raise OSError(28, "No space left on device")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.mark.parametrize("module, argv, report", [
    ("ocr.evaluate", ["--weights", "weights/ocr_digits.pth", "--data", "samples/digits", "--json", "{out}"], "r.json"),
    ("ocr.evaluate", ["--weights", "weights/ocr_digits.pth", "--data", "samples/digits", "--predictions", "{out}"],
     "p.csv"),
    ("detection.evaluate", ["--weights", "weights/detector.pt", "--labels", "samples/stills/labels.csv", "--json",
                            "{out}"], "r.json"),
    ("detection.evaluate", ["--weights", "weights/detector.pt", "--labels", "samples/stills/labels.csv",
                            "--predictions", "{out}"], "p.jsonl"),
    ("pipeline.evaluate", ["--labels", "samples/stills/labels.csv", "--json", "{out}"], "r.json"),
    ("pipeline.evaluate", ["--labels", "samples/stills/labels.csv", "--predictions", "{out}"], "p.jsonl"),
])
def test_a_report_written_onto_a_full_disk_is_one_line_naming_it(module, argv, report, tmp_path, monkeypatch,
                                                                   capsys):
    """The evaluation runs; its report cannot be written (the disk filled meanwhile): `[Errno 28]` named nothing."""
    import pathlib

    out = tmp_path / report
    opened = pathlib.Path.open

    def full_open(self, mode="r", *args, **kwargs):
        return FullFile(str(self)) if self == out and "w" in mode else opened(self, mode, *args, **kwargs)

    def full_write(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "open", full_open)
    monkeypatch.setattr(pathlib.Path, "write_text", full_write)
    main = importlib.import_module(module).main
    assert main([a.replace("{out}", str(out)) for a in argv]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: {out}: No space left on device"
