"""Train the CRNN plate recognizer (the loop of the user's CRNN OCR training guide).

    python ocr/train.py --config configs/ocr_digits.yaml [key=value ...]
    python ocr/train.py resume=runs/ocr_latin/checkpoints/last.pth [time_limit_min=30 ...]   # the run's own config

Writes into `out_dir`: config.yaml, checkpoints/{best_model,last,checkpoint_epoch_N}.pth,
logs/training_history.json and training_curves.png.
"""
from __future__ import annotations

if __package__ in (None, ""):  # allow `python ocr/train.py`
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

import json
import math
import os
import signal
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from loguru import logger
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from common.cli import entry_parser, progress, run_main, stopped_when_full
from common.config import config_to_dict, load_config
from common.device import autocast_for, resolve_device, resolve_precision
from common.errors import UserError
from common.version import stored_config
from ocr.alphabet import Codec
from ocr.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from ocr.config import OCRConfig
from ocr.curves import save_curves
from ocr.data import build_dataset, collate
from ocr.decode import check_patterns, greedy_decode
from ocr.distill import distill_loss, load_teacher
from ocr.metrics import summarize
from ocr.model import CRNN, ModelConfig, count_parameters
from ocr.resume import check_unfinished, interrupted, load_run, resume_config
from ocr.widen import widen_into

BAR = "=" * 60


def pick_device(name: str) -> torch.device:
    """The torch device a config names (`auto`, `cpu`, `cuda[:N]`, `mps`; see `resolve_device`)."""
    return torch.device(resolve_device(name))


def ctc_loss_fn(logits: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor, blank: int) -> torch.Tensor:
    """Mean CTC loss of B x T x C logits against concatenated `targets` of `lengths`."""
    log_probs = logits.float().log_softmax(2).permute(1, 0, 2)  # B x T x C -> T x B x C
    t = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
    # the targets where the posteriors are: with the blank last, CUDA runs torch's own CTC, not cuDNN's (CPU targets)
    return nn.functional.ctc_loss(log_probs, targets.to(logits.device), t, lengths, blank=blank, reduction="mean")


def train_one_epoch(model: CRNN, loader: DataLoader, optimizer: torch.optim.Optimizer,
                    scaler: torch.amp.GradScaler, device: torch.device, amp_ctx: Any, cfg: OCRConfig, epoch: int,
                    ema: Any = None, teacher: nn.Module | None = None) -> float:
    """One pass over the training set; skips non-finite batches and stops after too many in a row. `ema`
    (an AveragedModel) is updated after every step; a `teacher` adds `distill_weight` x its distillation loss."""
    model.train()
    for block in model.cnn[:cfg.freeze_cnn]:  # frozen blocks keep their BN statistics too
        block.eval()
    total, n, bad = 0.0, 0, 0
    bar = progress(loader, "Training")
    for images, targets, lengths, texts in bar:
        images = images.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        with amp_ctx:
            logits = model(images)
        loss = ctc_loss_fn(logits, targets, lengths, model.cfg.num_classes - 1)
        if teacher is not None:
            with torch.no_grad(), amp_ctx:
                taught = teacher(images)
            loss = loss + cfg.distill_weight * distill_loss(logits, taught, texts, lengths, model.cfg.alphabet)
        if not torch.isfinite(loss):
            bad += 1
            if bad >= cfg.max_bad_batches:
                raise UserError(f"loss was not finite for {bad} batches in a row at epoch {epoch}: "
                                f"lower lr (now {optimizer.param_groups[0]['lr']:g}) or check the labels")
            continue
        bad = 0
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        if ema is not None:
            ema.update_parameters(model)
        total += loss.item() * images.shape[0]
        n += images.shape[0]
        bar.set_postfix(loss=f"{total / max(n, 1):.4f}", refresh=False)
    return total / max(n, 1)


@torch.no_grad()
def evaluate(model: CRNN, loader: DataLoader, device: torch.device, amp_ctx: Any) -> dict[str, float]:
    """Val loss, greedy-decoded char and sequence accuracy."""
    model.eval()
    total, n, gts, preds = 0.0, 0, [], []
    chars = model.cfg.alphabet
    for images, targets, lengths, texts in progress(loader, "Validation"):
        images = images.to(device).contiguous(memory_format=torch.channels_last)
        with amp_ctx:
            logits = model(images)
        loss = ctc_loss_fn(logits, targets, lengths, model.cfg.num_classes - 1)
        if torch.isfinite(loss):
            total += loss.item() * images.shape[0]
            n += images.shape[0]
        probs = logits.float().softmax(2).cpu().numpy()
        preds += [greedy_decode(p, chars).text for p in probs]
        gts += texts
    return {"val_loss": total / max(n, 1), **summarize(gts, preds)}


def make_ema(model: CRNN, decay: float) -> Any:
    """An exponential moving average of the weights and BN statistics (torch's AveragedModel), or None."""
    if not decay:
        return None
    if not 0.0 < decay < 1.0:
        raise UserError(f"ema_decay must be in (0, 1) or 0 (off), not {decay}")
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def build_model(cfg: OCRConfig) -> CRNN:
    """A fresh model, or one initialised from `init_from` (head re-initialised if the alphabet differs; a
    narrower checkpoint of the same alphabet is widened into the configured width, see ocr/widen.py)."""
    model = CRNN(cfg.model_config())
    if cfg.init_from:
        ckpt = load_checkpoint(cfg.init_from)
        src_cfg = ModelConfig(**ckpt["model_config"])
        same_but_width = replace(src_cfg, width_mult=model.cfg.width_mult, dropout=model.cfg.dropout,
                                 two_row_aspect=model.cfg.two_row_aspect) == model.cfg
        if same_but_width and src_cfg.width_mult < model.cfg.width_mult:
            widen_into(model_from_checkpoint(ckpt), model, cfg.seed)
            logger.info(f"   Initialised from {cfg.init_from}, widened "
                        f"x{src_cfg.width_mult} -> x{model.cfg.width_mult}")
            return model
        state = ckpt["model_state_dict"]
        own = model.state_dict()
        kept = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
        model.load_state_dict(kept, strict=False)
        logger.info(f"   Initialised from {cfg.init_from} ({len(kept)}/{len(own)} tensors kept)")
    return model


def end_on_stop(_worker: int) -> None:
    """A data worker ends at once, and as a success, on SIGTERM. A stop sent to the whole process group (`timeout`,
    a service manager's or a job scheduler's) reached the workers too: killed by it, they made torch raise 'DataLoader
    worker ... is killed by signal: Terminated' in place of the main process's resume line. (Ignoring SIGTERM instead
    kept a process from ending: Python's exit and torch's clean-up stop a left-over worker with it.)"""
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))


def train(cfg: OCRConfig) -> dict[str, Any]:
    """Run (or resume) a training run; returns the final history."""
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    out = Path(cfg.out_dir)
    last = out / "checkpoints" / "last.pth"
    if not cfg.resume and last.is_file():  # a new run would overwrite that run's checkpoints
        raise UserError(f"{out} already holds a training run: continue it with resume={last}, or give a new out_dir=")
    state = load_run(cfg.resume, device) if cfg.resume else {}
    if state:
        check_unfinished(state, cfg)
    if cfg.freeze_cnn and not cfg.init_from:
        raise UserError(f"freeze_cnn={cfg.freeze_cnn} keeps trained conv blocks: give their model as init_from=")
    mcfg = cfg.model_config()
    check_patterns(cfg.patterns, mcfg.alphabet)  # stored in its checkpoints: refused when loaded
    resolve_precision(device.type, cfg.precision)  # fp16 without CUDA: said before the run's folder is made
    codec = Codec(mcfg.alphabet)

    logger.info(f"{BAR}\n🚀 CRNN OCR TRAINING\n{BAR}\n\n📂 Loading datasets...")
    train_ds = build_dataset(cfg.train, codec, cfg.img_h, cfg.img_w, cfg.samples_per_epoch, True, cfg.seed,
                             cfg.two_row_aspect, augment="heavy")
    val_ds = build_dataset(cfg.val, codec, cfg.img_h, cfg.img_w, mixed=False, seed=cfg.seed + 1,
                           two_row_aspect=cfg.two_row_aspect)
    logger.info(f"   Train: {len(train_ds):,} images per epoch "
                f"({', '.join(f'{s.name}: {s.size:,}' for s in train_ds.sources)})\n   Val:   {len(val_ds):,} images")
    loader_kw: dict[str, Any] = dict(batch_size=cfg.batch_size, num_workers=cfg.num_workers, collate_fn=collate,
                                     pin_memory=device.type == "cuda", persistent_workers=False,
                                     worker_init_fn=end_on_stop)
    train_loader = DataLoader(train_ds, shuffle=True, drop_last=True, **loader_kw)
    val_loader = DataLoader(val_ds, shuffle=False, **loader_kw)

    logger.info("\n🏗️  Building CRNN model...")
    # resumed: the run's own weights are loaded below, so `init_from` (perhaps not on this machine) is not read
    model = (CRNN(mcfg) if cfg.resume else build_model(cfg)).to(device).to(memory_format=torch.channels_last)
    model.cnn[:cfg.freeze_cnn].requires_grad_(False)
    if cfg.freeze_cnn:
        logger.info(f"   Frozen: the first {cfg.freeze_cnn} of {len(model.cnn)} conv blocks "
                    f"({count_parameters(model, trainable=True):,} parameters learn)")
    amp_ctx, use_scaler = autocast_for(device.type, cfg.precision)
    logger.info(f"   Parameters: {count_parameters(model):,}\n   Device: {device}, "
                f"autocast: {'off (fp32)' if isinstance(amp_ctx, nullcontext) else amp_ctx.fast_dtype}")
    teacher = load_teacher(cfg.distill_from, mcfg, device) if cfg.distill_from else None
    if teacher is not None:
        logger.info(f"   Distilling from {cfg.distill_from} (weight {cfg.distill_weight:g}, on samples it reads right)")
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", factor=cfg.plateau_factor,
                                                           patience=cfg.plateau_patience, min_lr=cfg.min_lr)
    scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)
    history: dict[str, list[float]] = {k: [] for k in ("train_loss", "val_loss", "val_char_acc", "val_seq_acc", "lr")}
    start, best_acc, best_loss, stale = 1, -1.0, math.inf, 0
    if cfg.resume:
        model.load_state_dict(state["model_state_dict"])
        optimizer.load_state_dict(state["optimizer_state_dict"])
        scheduler.load_state_dict(state["scheduler_state_dict"])
        if state.get("scaler_state_dict"):  # empty from a run without fp16 scaling (begun on the CPU, resumed on a GPU)
            scaler.load_state_dict(state["scaler_state_dict"])
        history, start = state["history"], state["epoch"] + 1
        best_acc, best_loss, stale = state["best_seq_acc"], state["best_val_loss"], state["stale_epochs"]
        logger.info(f"   Resumed from {cfg.resume} at epoch {start}")
    ema = make_ema(model, cfg.ema_decay)  # made after a resume: it starts from the resumed weights
    if ema is not None and cfg.resume and "ema_state_dict" in state:
        ema.load_state_dict(state["ema_state_dict"])

    # the run's folder, once its data, model and teacher are built: a start that fails leaves none behind
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(exist_ok=True)
    stored = out / "config.yaml"  # headed by the commits of the code that ran it (a resumed run adds its own)
    previous = stored.read_text() if cfg.resume and stored.is_file() else ""
    stored.write_text(stored_config(cfg, previous))
    logger.info("\n🏋️  Starting training...")
    t_start = time.time()
    for epoch in range(start, cfg.epochs + 1):
        logger.info(f"\n{BAR}\nEpoch {epoch}/{cfg.epochs}\n{BAR}")
        train_ds.set_epoch(epoch)
        train_loss = train_one_epoch(model, train_loader, optimizer, scaler, device, amp_ctx, cfg, epoch, ema,
                                     teacher)
        judged = ema.module if ema is not None else model  # validated, and saved as the best model
        m = evaluate(judged, val_loader, device, amp_ctx)
        lr_before = optimizer.param_groups[0]["lr"]
        scheduler.step(m["val_loss"])
        lr = optimizer.param_groups[0]["lr"]
        for k, v in (("train_loss", train_loss), ("val_loss", m["val_loss"]), ("val_char_acc", m["char_acc"]),
                     ("val_seq_acc", m["seq_acc"]), ("lr", lr_before)):
            history[k].append(float(v))
        logger.info(f"\n📊 Results:\n   Train Loss: {train_loss:.4f}\n   Val Loss:   {m['val_loss']:.4f}\n"
                    f"   Char Acc:   {m['char_acc'] * 100:.2f}%\n   Seq Acc:    {m['seq_acc'] * 100:.2f}%")
        if lr < lr_before:
            logger.info(f"   📉 Reducing learning rate: {lr_before:.2e} -> {lr:.2e}")
        common = dict(epoch=epoch, config=config_to_dict(cfg), patterns=list(cfg.patterns))
        if m["seq_acc"] > best_acc:
            best_acc = m["seq_acc"]
            save_checkpoint(out / "checkpoints" / "best_model.pth", judged, **common, best_seq_acc=best_acc,
                            optimizer_state_dict=optimizer.state_dict(), val_metrics=m)
            logger.info("   ✅ New best model saved!")
        if m["val_loss"] < best_loss - 1e-4:
            best_loss, stale = m["val_loss"], 0
        else:
            stale += 1
        save_checkpoint(out / "checkpoints" / "last.pth", model, **common, best_seq_acc=best_acc,
                        best_val_loss=best_loss, stale_epochs=stale, history=history,
                        optimizer_state_dict=optimizer.state_dict(), scheduler_state_dict=scheduler.state_dict(),
                        scaler_state_dict=scaler.state_dict(),
                        **({"ema_state_dict": ema.state_dict()} if ema is not None else {}))
        if epoch % cfg.checkpoint_every == 0:
            save_checkpoint(out / "checkpoints" / f"checkpoint_epoch_{epoch}.pth", judged, **common,
                            best_seq_acc=best_acc, optimizer_state_dict=optimizer.state_dict())
        (out / "logs" / "training_history.json").write_text(json.dumps(history, indent=2))
        save_curves(history, out / "training_curves.png")
        if stale >= cfg.early_stop_patience:
            logger.info(f"\n⏹️  Early stopping: val loss has not improved for {stale} epochs")
            break
        if cfg.time_limit_min and (time.time() - t_start) / 60 > cfg.time_limit_min:
            logger.info(f"\n⏱️  Time limit of {cfg.time_limit_min:g} min reached; resume with resume={out}/checkpoints/last.pth")
            break
    logger.info(f"\n🏁 Done. Best Seq Acc: {best_acc * 100:.2f}% -> {out / 'checkpoints' / 'best_model.pth'}")
    return history


def main(argv: list[str] | None = None) -> int:
    ap = entry_parser(__doc__)
    ap.add_argument("--config", default="configs/ocr_digits.yaml", help="OCR config YAML")
    ap.add_argument("overrides", nargs="*", help="key=value overrides of the config")
    args = ap.parse_intermixed_args(argv)

    run: list[Path] = []  # the run's folder, once its config is known

    def stopped() -> str:  # what a stop, or a full disk, says: the checkpoint to resume from
        return interrupted(run[0] if run else None)

    def work() -> None:
        cfg = resume_config(args.overrides)
        if cfg is not None:
            logger.info(f"Resuming with the run's own config (from {cfg.resume}; --config is not used), "
                        f"output in {cfg.out_dir}")
        else:
            cfg = load_config(OCRConfig, args.config, args.overrides)
        run.append(Path(cfg.out_dir))
        with stopped_when_full(lambda: run[0], stopped):
            train(cfg)

    return run_main(work, sink=lambda msg: tqdm.write(msg, end=""),  # messages between the progress bars
                    on_interrupt=stopped)


if __name__ == "__main__":
    raise SystemExit(main())
