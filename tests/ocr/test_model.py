import pytest
import torch

from ocr.model import CRNN, ModelConfig, count_parameters

LATIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize("alphabet, width, classes, params", [
    ("0123456789", 1.0, 11, 10_807_883),
    (LATIN, 1.0, 37, 10_821_221),
    (LATIN, 0.5, 37, 5_348_421),
])
def test_output_shape_and_size(alphabet, width, classes, params):
    model = CRNN(ModelConfig(alphabet=alphabet, width_mult=width)).eval()
    with torch.no_grad():
        out = model(torch.zeros(2, 3, 64, 200))
    assert out.shape == (2, 50, classes)
    assert count_parameters(model) == params


@pytest.mark.parametrize("frozen, learn", [(0, 5_348_421), (4, 5_107_237), (6, 4_221_477)])
def test_trainable_parameters_leave_out_frozen_blocks(frozen, learn):
    model = CRNN(ModelConfig(alphabet=LATIN, width_mult=0.5))
    model.cnn[:frozen].requires_grad_(False)  # as a fine-tune with freeze_cnn does
    assert count_parameters(model, trainable=True) == learn
    assert count_parameters(model) == 5_348_421


def test_feature_map_is_4x50x512():
    model = CRNN(ModelConfig())
    assert model.cnn(torch.zeros(1, 3, 64, 200)).shape == (1, 512, 4, 50)
    assert model.rnn.input_size == 512 * 4


def test_the_default_config_is_the_guides_seed_model():
    cfg = ModelConfig()
    assert (cfg.alphabet, cfg.img_h, cfg.img_w, cfg.width_mult, cfg.hidden, cfg.lstm_layers, cfg.two_row_aspect) == (
        "0123456789", 64, 200, 1.0, 256, 2, 0.0)
    assert cfg.num_classes == 11


def test_a_narrow_variant_keeps_8_channels_a_block():
    model = CRNN(ModelConfig(width_mult=0.05))  # 64 x 0.05 = 3.2 channels: 8 at least
    assert [block[0].out_channels for block in model.cnn] == [8, 8, 13, 13, 26, 26]


def test_a_plates_output_does_not_depend_on_the_others_in_its_batch():
    torch.manual_seed(0)
    model = CRNN(ModelConfig(width_mult=0.125, hidden=16)).eval()
    x = torch.randn(3, 3, 64, 200)
    with torch.no_grad():
        together = model(x)
        alone = torch.cat([model(x[i:i + 1]) for i in range(3)])
    assert torch.allclose(together, alone, atol=1e-5)  # the LSTM runs along each plate's columns, not the batch
