import pytest
import torch

from common.errors import UserError
from ocr.checkpoint import load_checkpoint, save_checkpoint
from ocr.interpolate import interpolate, main
from ocr.model import CRNN, ModelConfig

LATIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def tiny(seed: int, **cfg) -> dict:
    torch.manual_seed(seed)
    model = CRNN(ModelConfig(**{"alphabet": LATIN, "width_mult": 0.125, "hidden": 16, **cfg})).eval()
    return {"model_state_dict": model.state_dict(),
            "model_config": {k: getattr(model.cfg, k) for k in model.cfg.__dataclass_fields__}, "patterns": ["LLDDD"]}


def test_the_ends_are_the_two_models_and_the_middle_their_mean():
    a, b = tiny(0), tiny(1)
    key = "cnn.0.0.weight"  # the first convolution's kernel
    for alpha, want in ((0.0, a), (1.0, b)):
        got = interpolate(a, b, alpha)["model_state_dict"]
        assert all(torch.equal(got[k], want["model_state_dict"][k]) for k in got)
    mid = interpolate(a, b, 0.5)["model_state_dict"][key]
    assert torch.allclose(mid, (a["model_state_dict"][key] + b["model_state_dict"][key]) / 2)
    counters = [k for k, v in b["model_state_dict"].items() if not v.is_floating_point()]
    assert counters and all(torch.equal(interpolate(a, b, 0.5)["model_state_dict"][k], b["model_state_dict"][k])
                            for k in counters)  # BN's batch counters are B's, not averaged


def test_two_different_networks_are_refused():
    with pytest.raises(UserError, match="different networks .*width_mult"):
        interpolate(tiny(0), tiny(1, width_mult=0.25), 0.5)


def test_the_command_writes_a_loadable_checkpoint_with_b_s_patterns(tmp_path, capsys):
    paths = []
    for seed in (0, 1):
        ck = tiny(seed)
        model = CRNN(ModelConfig(**ck["model_config"]))
        model.load_state_dict(ck["model_state_dict"])
        paths.append(tmp_path / f"m{seed}.pth")
        save_checkpoint(paths[-1], model, patterns=["LLDDD"] if seed else [])
    out = tmp_path / "mix.pth"
    assert main(["--a", str(paths[0]), "--b", str(paths[1]), "--alpha", "0.25", "--out", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote {out}: 0.75 x {paths[0]} + 0.25 x {paths[1]}\n"
    ck = load_checkpoint(out)
    assert ck["patterns"] == ["LLDDD"] and ck["interpolated"]["alpha"] == 0.25
    for flag in ("--a", "--b", "--alpha", "--out"):  # each is needed: argparse's one-line error without it
        argv = ["--a", str(paths[0]), "--b", str(paths[1]), "--alpha", "1", "--out", str(tmp_path / "other.pth")]
        i = argv.index(flag)
        with pytest.raises(SystemExit) as refused:
            main(argv[:i] + argv[i + 2:])
        assert refused.value.code == 2 and f"required: {flag}" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # argparse's one-line error
        main(["--a", str(paths[0]), "--b", str(paths[1]), "--alpha", "1.5", "--out", str(out)])
    assert refused.value.code == 2
