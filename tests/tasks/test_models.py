import pytest
import torch
from opacus.validators import ModuleValidator
from torch import nn

from tasks.models import DigitsCNN, TabularMLP


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("model", [DigitsCNN(), TabularMLP(40, 2, 64)], ids=["cnn", "mlp"])
def test_models_are_opacus_compatible(model):
    assert ModuleValidator.validate(model, strict=True) == []


def test_digits_cnn_shapes_and_size():
    model = DigitsCNN()
    assert model(torch.rand(5, 1, 8, 8)).shape == (5, 10)
    assert model(torch.rand(0, 1, 8, 8)).shape == (0, 10)  # empty Poisson batch
    assert 3_000 <= n_params(model) <= 20_000
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def test_tabular_mlp_shapes():
    model = TabularMLP(in_features=7, classes=3, hidden_units=16)
    assert model(torch.rand(4, 7)).shape == (4, 3)
    assert n_params(model) == (7 * 16 + 16) + (16 * 16 + 16) + (16 * 3 + 3)


def test_initialisation_follows_the_global_seed():
    torch.manual_seed(7)
    first = DigitsCNN().state_dict()
    torch.manual_seed(7)
    second = DigitsCNN().state_dict()
    third = DigitsCNN().state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not torch.equal(first["classifier.weight"], third["classifier.weight"])
