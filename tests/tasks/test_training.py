import math

import pytest
import torch
from opacus import PrivacyEngine
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from tasks.models import TabularMLP
from tasks.training import evaluate, proximal_pull, train_epochs


def blobs(n: int = 64) -> TensorDataset:
    """Two well separated classes in 2-D."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.3 + (y[:, None] * 2 - 1) * 1.5
    return TensorDataset(x, y)


def test_training_reduces_loss_and_counts_steps():
    torch.manual_seed(0)
    data = blobs()
    model = TabularMLP(2, 2, 8)
    before = evaluate(model, data)
    loader = DataLoader(data, batch_size=10, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    calls = []
    stats = train_epochs(model, loader, optimizer, nn.CrossEntropyLoss(), 3, calls.append)
    after = evaluate(model, data)
    assert stats.batches == 3 * 7 and stats.examples == 3 * 64
    assert len(calls) == stats.batches and all(m is model for m in calls)
    assert after.loss < before.loss / 2
    assert after.accuracy == 1.0


def test_empty_batch_is_a_step_but_not_in_the_loss():
    model = nn.Linear(2, 2)
    x, y = torch.ones(2, 2), torch.tensor([0, 1])
    batches = [(x, y), (x[:0], y[:0])]
    criterion = nn.CrossEntropyLoss()
    expected = criterion(model(x), y).item()
    stats = train_epochs(model, batches, torch.optim.SGD(model.parameters(), lr=0.0), criterion, 1)
    assert stats.batches == 2 and stats.examples == 2
    assert stats.loss == pytest.approx(expected)


def test_only_empty_batches_give_nan_loss():
    model = nn.Linear(2, 2)
    empty = [(torch.ones(0, 2), torch.ones(0, dtype=torch.int64))]
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    stats = train_epochs(model, empty, optimizer, nn.CrossEntropyLoss(), 1)
    assert stats.batches == 1 and stats.examples == 0 and math.isnan(stats.loss)
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))


@pytest.mark.filterwarnings("ignore::UserWarning")  # Opacus' notes on secure RNG and hooks
@pytest.mark.parametrize("mode", ["hooks", "ghost"])
def test_opacus_steps_equal_loader_batches_including_empty_ones(mode):
    """Poisson sampling of 1 expected row from 12 yields empty batches; each one must still
    be an accounted DP-SGD step (noise only)."""
    torch.manual_seed(0)
    model = TabularMLP(2, 2, 4)
    engine = PrivacyEngine(accountant="rdp")
    private = engine.make_private(
        module=model,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        data_loader=DataLoader(blobs(12), batch_size=1),
        noise_multiplier=1.0,
        max_grad_norm=1.0,
        grad_sample_mode=mode,
        criterion=nn.CrossEntropyLoss(),
        wrap_model=False,
    )
    optimizer, criterion, loader = (
        private[1:] if mode == "ghost" else (private[1], nn.CrossEntropyLoss(), private[2])
    )
    sizes = [len(y) for _, y in loader]
    stats = train_epochs(model, loader, optimizer, criterion, 4)
    accounted = sum(steps for _, _, steps in engine.accountant.history)
    assert 0 in sizes
    assert stats.batches == accounted == 4 * len(sizes)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_evaluate_counts_correct_rows():
    model = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0], [1.0]]))  # predicts class 1 for x > 0
    data = TensorDataset(torch.tensor([[-2.0], [3.0], [1.0], [-1.0]]), torch.tensor([0, 1, 0, 0]))
    stats = evaluate(model, data, batch_size=3)
    logits = model(data.tensors[0])
    assert stats.accuracy == 0.75 and stats.examples == 4
    assert stats.loss == pytest.approx(nn.functional.cross_entropy(logits, data.tensors[1]).item())


def test_proximal_pull_moves_weights_toward_global():
    model = nn.Linear(3, 2)
    global_params = [torch.zeros_like(p) for p in model.parameters()]
    before = [p.detach().clone() for p in model.parameters()]
    proximal_pull(global_params, mu=0.5, lr=0.2)(model)
    for old, new in zip(before, model.parameters(), strict=True):
        assert torch.allclose(new, old * (1 - 0.5 * 0.2))
    proximal_pull(global_params, mu=1.0, lr=1.0)(model)
    assert all(torch.equal(p, torch.zeros_like(p)) for p in model.parameters())


def test_proximal_pull_keeps_its_own_copy_of_the_global_weights():
    model = nn.Linear(2, 1)
    anchors = [p.detach().clone() for p in model.parameters()]
    pull = proximal_pull(list(model.parameters()), mu=1.0, lr=1.0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    pull(model)
    assert all(torch.allclose(p, a) for p, a in zip(model.parameters(), anchors, strict=True))


def test_proximal_pull_with_zero_mu_is_identity():
    model = nn.Linear(2, 2)
    before = [p.detach().clone() for p in model.parameters()]
    proximal_pull([torch.zeros_like(p) for p in model.parameters()], mu=0.0, lr=0.1)(model)
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))
