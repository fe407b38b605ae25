"""The CPU's feature flags decide bf16 and how int8 is quantised at load time."""
from __future__ import annotations

import pytest

import common.device as d

AVX2_EPYC = "processor\t: 0\nflags\t\t: fpu vme sse2 avx fma avx2 bmi2 sha_ni\nbugs\t\t: sysret_ss_attrs\n"
VNNI_EPYC = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni avx512vl\n"
AMX_XEON = "processor\t: 0\nflags\t\t: avx2 avx512f avx_vnni amx_bf16 amx_tile amx_int8\n"


@pytest.mark.parametrize("cpuinfo, vnni, bf16", [(AVX2_EPYC, False, False), (VNNI_EPYC, True, True),
                                                 (AMX_XEON, True, True), ("", False, False)])
def test_vnni_and_native_bf16_are_read_from_the_flags(tmp_path, monkeypatch, cpuinfo, vnni, bf16):
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    real = d.cpu_flags
    monkeypatch.setattr(d, "cpu_flags", lambda: real(path))
    assert (d.cpu_has_vnni(), d.cpu_has_fast_bf16()) == (vnni, bf16)


def test_flags_are_whole_words_and_a_missing_cpuinfo_has_none(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text("flags\t\t: avx512_vnnix bugs_avx_vnni\n")
    assert d.cpu_flags(path) == {"avx512_vnnix", "bugs_avx_vnni"}
    assert not {"avx512_vnni", "avx_vnni"} & d.cpu_flags(path)
    assert d.cpu_flags(tmp_path / "missing") == set()


@pytest.mark.parametrize("flags, kinds", [(AVX2_EPYC, " (AVX2 only)"), (VNNI_EPYC, " (AVX-512, VNNI, bf16)"),
                                          (AMX_XEON, " (AMX, AVX-512, VNNI, bf16)")])
def test_a_benchmarks_cpu_record_names_the_model_and_what_decides_its_speed(tmp_path, flags, kinds):
    path = tmp_path / "cpuinfo"
    path.write_text("model name\t: Some CPU 9000\n" + flags)
    assert d.cpu_name(path) == "Some CPU 9000" + kinds
    path.write_text("model name\t: Old CPU\nflags\t\t: fpu sse2\n")
    assert d.cpu_name(path) == "Old CPU"


@pytest.mark.parametrize("name, says", [
    ("xyz", "device 'xyz': expected auto, cpu, cuda, cuda:N (the Nth GPU) or mps"),
    ("0", "device '0': expected"),
    ("cuda:x", "device 'cuda:x': expected"),
    ("cpu ", "device 'cpu ': expected"),
])
def test_a_device_of_no_known_form_is_one_error(name, says):
    with pytest.raises(d.UserError) as exc:
        d.resolve_device(name)
    assert str(exc.value).startswith(says)


def test_devices_this_machine_has_pass_as_named(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert [d.resolve_device(n) for n in ("auto", "cpu", "cuda", "cuda:1")] == ["cuda:0", "cpu", "cuda", "cuda:1"]
    with pytest.raises(d.UserError, match="device=cuda:2 but this machine has 2 CUDA device"):
        d.resolve_device("cuda:2")
    assert d.resolve_device("0,1", gpu_list=True) == "0,1"  # ultralytics' trainer: GPU numbers
    with pytest.raises(d.UserError, match="device=1,2 but this machine has 2 CUDA device"):
        d.resolve_device("1,2", gpu_list=True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert d.resolve_device("auto") == "cpu"
    with pytest.raises(d.UserError, match="device=cuda but CUDA is not available"):
        d.resolve_device("cuda")
    with pytest.raises(d.UserError, match="device=0 but CUDA is not available"):
        d.resolve_device("0", gpu_list=True)


@pytest.mark.parametrize("device, precision, fast_bf16, resolved", [
    ("cpu", "auto", True, "bf16"), ("cpu", "auto", False, "fp32"), ("cuda", "auto", False, "fp16"),
    ("cpu", "fp32", True, "fp32"), ("cpu", "bf16", False, "bf16"), ("cuda", "bf16", True, "bf16"),
    ("cuda", "fp16", False, "fp16"), ("cuda", "fp32", True, "fp32"),
    ("cpu", "fp16", True, "error: precision=fp16 needs CUDA; use bf16 or fp32 on the CPU"),
    ("mps", "fp16", True, "error: precision=fp16 needs CUDA"),
    ("cuda", "int8", True, "error: precision=int8 (the LSTM weights in int8) runs on ONNX Runtime: use backend=onnx"),
    ("cpu", "fp8", True, "error: precision must be one of auto, fp32, bf16, fp16, int8, not 'fp8'"),
])
def test_a_precision_resolves_by_device_and_cpu(monkeypatch, device, precision, fast_bf16, resolved):
    monkeypatch.setattr(d, "cpu_has_fast_bf16", lambda: fast_bf16)
    if resolved.startswith("error: "):
        with pytest.raises(d.UserError) as exc:
            d.resolve_precision(device, precision)
        assert str(exc.value).startswith(resolved[7:])
    else:
        assert d.resolve_precision(device, precision) == resolved
        assert d.check_precision(precision) == precision


def test_bf16_asked_for_on_a_cpu_that_emulates_it_is_warned_of_once(monkeypatch, logged):
    """An AVX2 laptop given the README's bf16 (fast on AMX) trained or read 10-25x slower than in fp32, unsaid."""
    monkeypatch.setattr("common.errors._TOLD", set())
    monkeypatch.setattr(d, "cpu_has_fast_bf16", lambda: False)
    assert logged(lambda: [d.resolve_precision("cpu", p) for p in ("auto", "fp32")], "WARNING")[0] == []
    said, _ = logged(lambda: [d.resolve_precision("cpu", p) for p in ("bf16", "bf16", "auto")], "WARNING")
    assert said == [("WARNING", "precision=bf16 on a CPU without native bf16 (no AMX or AVX512-BF16) is emulated, "
                                "measured 10-25x slower than fp32 on an AVX2 EPYC: precision=auto takes fp32 here")]
    monkeypatch.setattr("common.errors._TOLD", set())
    assert logged(lambda: d.resolve_precision("cuda", "bf16"), "WARNING")[0] == []
    monkeypatch.setattr(d, "cpu_has_fast_bf16", lambda: True)
    assert logged(lambda: d.resolve_precision("cpu", "bf16"), "WARNING")[0] == []


@pytest.mark.filterwarnings("ignore:CUDA is not available")  # the CUDA context is only made here, not entered
def test_autocast_is_none_for_fp32_and_scales_gradients_only_for_fp16(monkeypatch):
    import torch

    monkeypatch.setattr(d, "cpu_has_fast_bf16", lambda: True)
    context, scale = d.autocast_for("cpu", "fp32")
    assert isinstance(context, d.nullcontext) and scale is False
    context, scale = d.autocast_for("cpu", "auto")
    assert (context.fast_dtype, context.device, scale) == (torch.bfloat16, "cpu", False)
    context, scale = d.autocast_for("cuda", "auto")
    assert (context.fast_dtype, context.device, scale) == (torch.float16, "cuda", True)


def test_mps_is_refused_where_apple_s_gpu_is_not(monkeypatch):
    import torch

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(d.UserError, match="^device=mps but Apple's MPS is not available$"):
        d.resolve_device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert d.resolve_device("mps") == "mps"


def test_a_cpu_without_a_model_name_or_cpuinfo_is_named_by_the_platform(tmp_path, monkeypatch):
    import platform

    monkeypatch.setattr(platform, "processor", lambda: "")
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    path = tmp_path / "cpuinfo"
    path.write_text("flags\t\t: fpu sse2\n")
    assert d.cpu_name(path) == "aarch64" == d.cpu_name(tmp_path / "missing")
    monkeypatch.setattr(platform, "processor", lambda: "x86_64")
    assert d.cpu_name(path) == "x86_64" == d.cpu_name(tmp_path / "missing")
