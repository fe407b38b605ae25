"""Train the plate detector: a thin driver over ultralytics' own trainer, from our YAML.

    python detection/train.py --config configs/detector_train.yaml [key=value ...]
    python detection/train.py --config configs/detector_train.yaml resume=runs/detector/train/weights/last.pt

Builds the ultralytics dataset from our labels.csv folders, or labelling tools' YOLO, Pascal VOC or COCO exports
(their train split to train, their val split to val; `detection/yolo_labels.py`, `voc_labels.py`, `coco_labels.py`),
held-out frames of `split_file` going to val, never to train; trains from the model YAML (no pretrained weights),
then copies best.pt (or last.pt, `publish`) to `weights_out` with the resolved config beside it and its SHA-256 in
weights/MANIFEST.sha256.
"""
from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from loguru import logger

from common.cli import bars_as_lines, entry_parser, interrupted_line, run_main, stopped_when_full
from common.config import closest, exponent_number, load_config, parse_override
from common.device import resolve_device
from common.errors import UserError
from common.paths import find, written_whole
from common.version import stored_config
from detection.dataset import (add_unboxed, export_yolo, folder_labels, read_box_labels, split_labels,
                               write_dataset_yaml)
from detection.train_config import PUBLISH, DetectorTrainConfig
from detection.ultra import yolo_class
from detection.weights import record


def build_dataset(cfg: DetectorTrainConfig) -> Path:
    """Write the ultralytics dataset (symlinks + label txt files) and return its dataset.yaml."""
    held: dict[str, set[str]] = {}
    if cfg.split_file:
        from ocr.data import read_split_file

        for ds, img in read_split_file(cfg.split_file):
            held.setdefault(ds, set()).add(img)
    out = Path(cfg.dataset_dir)
    if out.exists():
        shutil.rmtree(out)
    unboxed = {p: read_box_labels(p, check_images=False) for p in cfg.unboxed}  # each CSV read once
    used: set[tuple[str, str]] = set()
    for split, folders in (("train", cfg.train), ("val", cfg.val)):
        if not folders:
            raise UserError(f"detector training config: no '{split}' folders given")
        for folder in map(find, folders):
            labels = folder_labels(folder / "labels.csv", (split,))  # ours, or a labelling tool's export
            for path, extra in unboxed.items():  # the real plates these labels leave out
                labels = add_unboxed(labels, extra)
                used |= {(path, n) for n in extra if n in labels}
            train, val = split_labels(labels, held.get(folder.name, set()))
            part = (train if split == "train" else val) if folder.name in held else labels
            export_yolo([(folder / "labels.csv", part)], out, split, prefix=f"{folder.name}__",  # scene_000001.jpg twice
                        gray_share=cfg.gray_share if split == "train" else 0.0)
    for path, extra in unboxed.items():
        missing = sorted(n for n in extra if (path, n) not in used)
        if missing:  # e.g. training on other folders with the default config: those rows do not apply
            logger.warning(f"{path}: {len(missing)} of its images are in none of the train or val folders "
                           f"(first: {missing[0]}); their boxes are not used")
    return write_dataset_yaml(out)


RUN_CONFIG = "detector_train.yaml"  # a run's own config, in its folder beside ultralytics' args.yaml


def remake_dataset(run_dir: Path, data: str, resume: str) -> Path:
    """The ultralytics dataset.yaml an interrupted run trains on (`data`, as its checkpoint names it), made again from
    the run's own config when it is gone or its links are broken (`data_gen/` is not in git: a fresh machine, or the
    run folder moved to one, has none)."""
    yaml_path, stored = Path(data), run_dir / RUN_CONFIG
    images = yaml_path.parent / "images"
    if data and yaml_path.is_file() and images.is_dir() and all(p.exists() for p in images.rglob("*")
                                                                 if p.is_symlink()):
        return yaml_path
    if not stored.is_file():  # a run begun before the config was kept with it
        raise UserError(f"{resume}: the run's dataset {data or '(not named)'} is gone or broken and the run keeps no "
                        f"{RUN_CONFIG} to make it from; make it again with the run's config, or start a new run")
    run_cfg = load_config(DetectorTrainConfig, stored)
    out = yaml_path.parent if data else Path(run_cfg.dataset_dir)
    logger.info(f"Making the run's dataset again in {out} (from {stored})")
    return build_dataset(replace(run_cfg, dataset_dir=str(out)))


def run_config(overrides: list[str]) -> DetectorTrainConfig | None:
    """With `resume=PATH` among `overrides`: the interrupted run's own config (kept in its folder), with the
    overrides on top, so that it publishes where it was to (`weights_out`), not to the shipped weights. None
    without `resume`, or for a run that keeps no config."""
    last = Path(str(dict(map(parse_override, overrides)).get("resume") or ""))  # as ocr.resume.resume_config reads it
    if last.suffix != ".pt" or not last.is_file():  # not a run's last.pt: train() says so
        return None
    stored = last.resolve().parent.parent / RUN_CONFIG
    return load_config(DetectorTrainConfig, stored, overrides) if stored.is_file() else None


def _offline_amp_check() -> None:
    """ultralytics' AMP check loads a downloaded yolo26n.pt on CUDA; we never download, so skip it."""
    import ultralytics.engine.trainer as trainer

    if hasattr(trainer, "check_amp"):
        trainer.check_amp = lambda model: True


def publish(best: Path, cfg: DetectorTrainConfig) -> Path:
    """Copy best.pt to weights_out, write the resolved config beside it and update the manifest."""
    dst = Path(cfg.weights_out)
    dst.parent.mkdir(parents=True, exist_ok=True)
    written_whole(dst, lambda part: shutil.copy2(best, part))  # the weights a pipeline runs: replaced only whole
    dst.with_suffix(".yaml").write_text(stored_config(cfg))
    record(dst)
    return dst


def architecture(model: str) -> str:
    """The architecture YAML `model` names (a file, or one of ultralytics' own names such as `yolo11n.yaml`), checked
    to be one (`backbone` and `head`) before anything is built: weights are never named (nothing is downloaded)."""
    yolo_class()  # ultralytics imported with its offline switches set
    from ultralytics.nn.tasks import yaml_model_load

    if Path(model).suffix.lower() not in (".yaml", ".yml"):
        raise UserError(f"model: {model!r} is not an architecture YAML (the detector is trained from scratch, from "
                        f"a .yaml such as configs/models/plate_yolo11.yaml; weights are never downloaded)")
    arch = str(find(model)) if "/" in model else model  # else one of ultralytics' own YAML names
    if "/" in model and not Path(arch).is_file():
        raise UserError(f"model architecture YAML not found: {model}")
    try:
        spec = yaml_model_load(arch)
    except FileNotFoundError:
        raise UserError(f"model architecture YAML not found: {model} (neither a file nor one of ultralytics' own "
                        f"names such as yolo11n.yaml)") from None
    except Exception as exc:  # not YAML at all
        raise UserError(f"model {model}: not a readable architecture YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(spec, dict) or not {"backbone", "head"} <= set(spec):
        raise UserError(f"model {model}: not an architecture YAML (no backbone and head: a detector config?)")
    return arch


def numeric(value: Any, default: Any) -> Any:
    """An `extra` value as ultralytics takes it: a number in exponent form (`lr0: 1e-4`), which YAML 1.1 leaves
    text, read as the number it is where the argument's default is a number."""
    number = exponent_number(value) if isinstance(default, (int, float)) and not isinstance(default, bool) else None
    return value if number is None else number


def train(cfg: DetectorTrainConfig) -> Path:
    """Train the detector with ultralytics' trainer as `cfg` says; the path of the weights it publishes."""
    if cfg.publish not in PUBLISH:  # a config built in Python, not loaded (the loader checks the Literal)
        raise UserError(f"publish={cfg.publish!r}: expected {' or '.join(PUBLISH)}")
    YOLO = yolo_class()
    from ultralytics.cfg import DEFAULT_CFG_DICT, check_cfg
    from ultralytics.utils import torch_utils

    for key in cfg.extra:  # said before the dataset is built, not by ultralytics' SyntaxError traceback after it
        if key not in DEFAULT_CFG_DICT:
            close = closest(key, DEFAULT_CFG_DICT)
            raise UserError(f"extra: '{key}' is not an ultralytics train argument"
                            + (f" (did you mean '{close}'?)" if close else ""))
    extra = {k: numeric(v, DEFAULT_CFG_DICT[k]) for k, v in cfg.extra.items()}
    try:
        check_cfg(dict(extra))  # ultralytics' own check of the values' types and ranges
    except (TypeError, ValueError) as exc:
        raise UserError(f"extra: {str(exc).splitlines()[0]}") from None

    # ultralytics trains with cores - 1 torch threads (a core kept for data loaders), but on the CPU it loads
    # data in the training process itself (workers=0): use every core
    torch_utils.NUM_THREADS = os.cpu_count() or 1
    _offline_amp_check()
    device = resolve_device(cfg.device, gpu_list=True)
    if cfg.resume:
        resume = Path(cfg.resume)
        if not resume.is_file() or resume.suffix != ".pt":
            raise UserError(f"resume needs an interrupted run's weights/last.pt: {cfg.resume} "
                            f"{'is not a .pt file' if resume.is_file() else 'not found'}")
        model = YOLO(cfg.resume)
        if (model.ckpt or {}).get("epoch", -1) < 0:  # ultralytics marks a run's checkpoints so when it ends (-1)
            raise UserError(f"{cfg.resume}: the run has finished (ultralytics resumes only an interrupted run); "
                            f"train on from its weights in a new run: name=<new> 'extra={{pretrained: {cfg.resume}}}'")
        # on in the folder last.pt lies in (<run>/weights/last.pt): a run folder copied or moved goes on where it is
        run_dir = resume.resolve().parent.parent
        data = remake_dataset(run_dir, str((model.ckpt.get("train_args") or {}).get("data") or ""), cfg.resume)
        # on this machine's device: a run begun on a GPU goes on on the CPU (its config's device, "auto" by default);
        # its dataset named, so that ultralytics never falls back to its own default set (coco8, downloaded)
        results = model.train(resume=True, save_dir=str(run_dir), device=device, data=str(data))
    else:
        last = Path(cfg.out_dir) / cfg.name / "weights" / "last.pt"
        if last.is_file():  # ultralytics would train into the same folder and overwrite that run's weights
            raise UserError(f"{last.parent.parent} already holds a training run: continue it with resume={last}, "
                            f"or give a new name= or out_dir=")
        arch = architecture(cfg.model)
        data = build_dataset(cfg)
        run_dir = last.parent.parent  # keeps the run's own config, for its resume
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / RUN_CONFIG).write_text(stored_config(cfg))
        model = YOLO(arch)  # built from the architecture YAML: random init, nothing downloaded
        args = dict(data=str(data), epochs=cfg.epochs, imgsz=cfg.imgsz, batch=cfg.batch, workers=cfg.workers,
                    device=device, patience=cfg.patience, seed=cfg.seed, project=str(Path(cfg.out_dir).resolve()),
                    name=cfg.name, exist_ok=True, pretrained=False, plots=False, amp=device not in ("cpu", "mps"),
                    verbose=True)
        if cfg.hours > 0:
            args["time"] = cfg.hours  # ultralytics fits the epochs (and the LR schedule) into this budget
        args.update(extra)  # extra may override any of the above (e.g. plots: true)
        results = model.train(**args)
    save_dir = Path(getattr(results, "save_dir", None) or model.trainer.save_dir)
    chosen = save_dir / "weights" / f"{cfg.publish}.pt"
    if not chosen.is_file():
        raise UserError(f"training finished without {chosen}")
    return publish(chosen, cfg)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("YOLO_VERBOSE", "True")  # show ultralytics' epoch bars and metrics when training

    ap = entry_parser(__doc__)
    ap.add_argument("--config", default="configs/detector_train.yaml")
    ap.add_argument("overrides", nargs="*", help="key=value overrides")
    args = ap.parse_intermixed_args(argv)

    weights: list[Path] = []  # the run's weights folder, once its config is known

    def stopped() -> str:  # what a stop, or a full disk, says: the checkpoint to resume from
        return interrupted_line(weights[0] / "last.pt" if weights else None)

    def work() -> None:
        cfg = run_config(args.overrides)
        if cfg is not None:
            logger.info(f"Resuming with the run's own config ({RUN_CONFIG} in the run's folder; --config is not "
                        f"used), publishing to {cfg.weights_out}")
        else:
            cfg = load_config(DetectorTrainConfig, args.config, args.overrides)
        weights.append(Path(cfg.resume).parent if cfg.resume else Path(cfg.out_dir) / cfg.name / "weights")
        with stopped_when_full(lambda: weights[0], stopped), bars_as_lines():  # a log file's bars: lines
            out = train(cfg)
        logger.info(f"detector weights -> {out}")

    return run_main(work, on_interrupt=stopped)


if __name__ == "__main__":
    raise SystemExit(main())
