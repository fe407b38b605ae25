"""Device selection shared by the recognizer, its training loop and the detector."""
from __future__ import annotations

import re
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Literal, get_args

from common.errors import UserError, warn_once

Precision = Literal["auto", "fp32", "bf16", "fp16", "int8"]  # int8: the OCR's LSTM weights, on ONNX Runtime only
PRECISIONS: tuple[str, ...] = get_args(Precision)


def resolve_device(name: str, gpu_list: bool = False) -> str:
    """`auto` -> `cuda:0` when CUDA is available, else `cpu`; `cpu`, `cuda`, `cuda:N` and `mps` as they are, and
    with `gpu_list` (ultralytics' trainer) GPU numbers `0,1`. Any other name, or a device this machine does not have,
    is a UserError."""
    import torch

    if name == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    m = re.fullmatch(r"cpu|mps|cuda(?::(\d+))?", name)
    numbers = re.fullmatch(r"\d+(,\d+)*", name) if gpu_list else None
    if m is None and numbers is None:
        raise UserError(f"device {name!r}: expected auto, cpu, cuda, cuda:N (the Nth GPU)"
                        + (", GPU numbers (0,1)" if gpu_list else "") + " or mps")
    if (name.startswith("cuda") or numbers) and not torch.cuda.is_available():
        raise UserError(f"device={name} but CUDA is not available")
    asked = [int(n) for n in name.split(",")] if numbers else [int(m.group(1))] if m and m.group(1) else []
    if any(n >= torch.cuda.device_count() for n in asked):
        raise UserError(f"device={name} but this machine has {torch.cuda.device_count()} CUDA device(s)")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("device=mps but Apple's MPS is not available")
    return name


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags as Linux lists them in `cpuinfo` (empty where it is not to be read)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    return {f for line in text.splitlines() if line.startswith("flags") for f in line.split(":", 1)[1].split()}


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name with what decides this code's speed on it, for a benchmark's record:
    `Intel(R) Xeon(R) Processor (AMX, AVX-512, VNNI, bf16)`; the machine type where `cpuinfo` is not to be read."""
    import platform

    try:
        text = cpuinfo.read_text()
    except OSError:
        return platform.processor() or platform.machine()
    names = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")]
    flags = cpu_flags(cpuinfo)
    kinds = [kind for kind, needs in (("AMX", {"amx_int8", "amx_bf16"}), ("AVX-512", {"avx512f"}),
                                      ("VNNI", {"avx512_vnni", "avx_vnni"}), ("bf16", {"avx512_bf16", "amx_bf16"}))
             if flags & needs]
    if not kinds and "avx2" in flags:
        kinds = ["AVX2 only"]
    name = names[0] if names else (platform.processor() or platform.machine())
    return f"{name} ({', '.join(kinds)})" if kinds else name


def cpu_has_fast_bf16() -> bool:
    """True where the CPU computes bf16 natively (AMX-BF16 or AVX512-BF16); elsewhere bf16 is emulated
    and measured 10-25x slower than fp32 (AMD EPYC Zen 2, AVX2 only)."""
    return bool(cpu_flags() & {"amx_bf16", "avx512_bf16"})


def cpu_has_vnni() -> bool:
    """True where the CPU sums int8 products in 32 bits (AVX512-VNNI, AVX-VNNI or AMX-INT8). Elsewhere on x86 (AVX2)
    the int8 kernels add pairs of uint8 x int8 products in 16 bits with saturation, so int8 models quantised at load
    time reduce their range there (ocr/accel.py); the shipped exports keep 7-bit weights (common/quantize.py)."""
    return bool(cpu_flags() & {"avx512_vnni", "avx_vnni", "amx_int8"})


def check_precision(precision: str) -> str:
    """`precision` itself if it is one of PRECISIONS, else a one-line UserError."""
    if precision not in PRECISIONS:
        raise UserError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    return precision


def resolve_precision(device_type: str, precision: str) -> str:
    """`auto`: fp16 on CUDA, bf16 on a CPU with native bf16, else fp32; fp16 on the CPU is a UserError."""
    check_precision(precision)
    if precision == "int8":
        raise UserError("precision=int8 (the LSTM weights in int8) runs on ONNX Runtime: use backend=onnx, "
                        "or fp32/bf16/fp16 here")
    if precision == "auto":
        return "fp16" if device_type == "cuda" else ("bf16" if cpu_has_fast_bf16() else "fp32")
    if precision == "fp16" and device_type != "cuda":
        raise UserError("precision=fp16 needs CUDA; use bf16 or fp32 on the CPU")
    if precision == "bf16" and device_type == "cpu" and not cpu_has_fast_bf16():
        warn_once("precision=bf16 on a CPU without native bf16 (no AMX or AVX512-BF16) is emulated, measured 10-25x "
                  "slower than fp32 on an AVX2 EPYC: precision=auto takes fp32 here")
    return precision


def autocast_for(device_type: str, precision: str) -> tuple[Any, bool]:
    """(autocast context, whether fp16 gradient scaling is needed) for a resolved or `auto` precision."""
    import torch

    precision = resolve_precision(device_type, precision)
    if precision == "fp32":
        return nullcontext(), False
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return torch.autocast(device_type, dtype=dtype), precision == "fp16"
