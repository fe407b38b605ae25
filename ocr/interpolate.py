"""A model on the straight line between two checkpoints of the same network (WiSE-FT: a fine-tune interpolated
with the model it started from keeps much of what it learnt and loses less of what the parent read).

    python ocr/interpolate.py --a weights/ocr_latin.pth --b runs/ft/cand/last_avg.pth --alpha 0.5 --out mix.pth

Every tensor is (1 - alpha) x A + alpha x B, BN running statistics too; integer tensors (BN's batch counter) are
taken from B. The result keeps B's training config and decoding patterns; export it as any checkpoint.
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from common.cli import entry_parser, fraction, run_main
from common.errors import UserError
from ocr.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint


def interpolate(a: dict, b: dict, alpha: float) -> dict:
    """Checkpoint `b` with its weights moved to (1 - alpha) x a + alpha x b; both must be the same network."""
    if a["model_config"] != b["model_config"]:
        diff = sorted(k for k in b["model_config"] if a["model_config"].get(k) != b["model_config"][k])
        raise UserError(f"the two checkpoints are different networks (model config differs in {', '.join(diff)})")
    sa, sb = a["model_state_dict"], b["model_state_dict"]
    mixed = {}
    for k, vb in sb.items():
        va = sa[k]
        mixed[k] = torch.lerp(va.float(), vb.float(), alpha).to(vb.dtype) if vb.is_floating_point() else vb.clone()
    return {**b, "model_state_dict": mixed}


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    ap = entry_parser(__doc__)
    ap.add_argument("--a", required=True, type=Path, help="the parent checkpoint (alpha 0)")
    ap.add_argument("--b", required=True, type=Path, help="the fine-tuned checkpoint (alpha 1)")
    ap.add_argument("--alpha", required=True, type=fraction, help="share of B, 0 to 1")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)

    def work() -> None:
        ckpt = interpolate(load_checkpoint(args.a), load_checkpoint(args.b), args.alpha)
        keep = {k: ckpt[k] for k in ("config", "patterns") if k in ckpt}
        save_checkpoint(args.out, model_from_checkpoint(ckpt), interpolated={"a": str(args.a), "b": str(args.b),
                                                                              "alpha": args.alpha}, **keep)
        logger.info(f"wrote {args.out}: {1 - args.alpha:g} x {args.a} + {args.alpha:g} x {args.b}")

    return run_main(work)


if __name__ == "__main__":
    raise SystemExit(main())
