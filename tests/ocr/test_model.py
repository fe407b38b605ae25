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


def test_feature_map_is_4x50x512():
    model = CRNN(ModelConfig())
    assert model.cnn(torch.zeros(1, 3, 64, 200)).shape == (1, 512, 4, 50)
    assert model.rnn.input_size == 512 * 4
