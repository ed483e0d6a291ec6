"""privacy.dpsgd: Poisson sampling, step counts, noise sources and averaging in each mode."""

import copy
from collections.abc import Iterator

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from opacus.data_loader import DPDataLoader
from scipy import stats
from torch import nn
from torch.utils.data import TensorDataset

from conf.errors import ConfigError
from privacy.dpsgd import (
    GRAD_SAMPLE_MODES,
    PrivateTraining,
    make_private,
    sample_rate,
    steps_per_epoch,
)
from privacy.noise import noise_source
from tests.support.insecure_rng import forbid_every_insecure_rng


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Tiny models: one intra-op thread is faster, and much faster on a busy 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.GroupNorm(2, 4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10)
    )


def _data(rows: int) -> TensorDataset:
    data = torch.Generator().manual_seed(0)
    return TensorDataset(
        torch.randn(rows, 1, 8, 8, generator=data), torch.randint(0, 10, (rows,), generator=data)
    )


def _private(
    mode: str,
    seed: int | None,
    *,
    rows: int = 60,
    batch_size: int = 15,
    sigma: float = 1.0,
    clip: float = 1.0,
    lr: float = 0.5,
) -> tuple[nn.Module, PrivateTraining]:
    torch.manual_seed(0)
    model = _net()
    training = make_private(
        model,
        torch.optim.SGD(model.parameters(), lr=lr),
        _data(rows),
        batch_size=batch_size,
        noise_multiplier=sigma,
        max_grad_norm=clip,
        grad_sample_mode=mode,
        noise=noise_source(seed),
    )
    return model, training


def _epoch(training: PrivateTraining) -> int:
    """Train one epoch; returns the number of parameter updates."""
    updates = 0

    def count(*_: object) -> None:
        nonlocal updates
        updates += 1

    training.optimizer.original_optimizer.register_step_post_hook(count)
    for x, y in training.loader:
        training.optimizer.zero_grad()
        training.criterion(training.model(x), y).backward()
        training.optimizer.step()
    return updates


def _trained(mode: str, seed: int | None, global_seed: int, **kwargs: object) -> list:
    model, training = _private(mode, seed, **kwargs)
    torch.manual_seed(global_seed)
    _epoch(training)
    return [p.detach().clone() for p in model.parameters()]


def _same(a: list, b: list) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_sample_rate_and_steps() -> None:
    assert sample_rate(100, 30) == 0.3
    assert steps_per_epoch(100, 30) == 3
    assert steps_per_epoch(60, 15) == 4
    assert steps_per_epoch(50, 50) == 1


@settings(max_examples=50, deadline=None)
@given(rows=st.integers(1, 100_000), data=st.data())
def test_steps_per_epoch_matches_opacus_loader(rows: int, data: st.DataObject) -> None:
    batch_size = data.draw(st.integers(1, rows))
    loader = DPDataLoader(_data(1), sample_rate=sample_rate(rows, batch_size))
    assert steps_per_epoch(rows, batch_size) == len(loader)


@pytest.mark.parametrize(
    ("rows", "batch_size", "named"),
    [(10, 11, r"task\.batch_size=11"), (10, 0, r"task\.batch_size=0"), (0, 1, "no training rows")],
)
def test_impossible_batch_size_says_what_to_change(rows: int, batch_size: int, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        sample_rate(rows, batch_size)


def test_batch_size_over_rows_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"task\.batch_size=11 .* 10 training rows.*lower"):
        steps_per_epoch(10, 11)


def test_unknown_grad_sample_mode_lists_allowed() -> None:
    with pytest.raises(ConfigError, match=r"'fast'.*allowed: hooks, ew, functorch, ghost"):
        _private("fast", 1)


def test_os_entropy_sources_differ_and_debug_seed_repeats() -> None:
    draws = [noise_source(None).rand(4) for _ in range(2)]
    assert not torch.equal(*draws)
    seeded = [noise_source(7).rand(4) for _ in range(2)]
    assert torch.equal(*seeded)


@pytest.mark.parametrize("mode", GRAD_SAMPLE_MODES)
def test_one_epoch_takes_steps_per_epoch_updates_and_changes_parameters(mode: str) -> None:
    model, training = _private(mode, None, rows=60, batch_size=15)
    before = [p.detach().clone() for p in model.parameters()]
    assert training.optimizer.expected_batch_size == 15
    assert _epoch(training) == steps_per_epoch(60, 15) == 4
    after = list(model.parameters())
    assert all(not torch.equal(b, a) for b, a in zip(before, after, strict=True))


@pytest.mark.parametrize("mode", GRAD_SAMPLE_MODES)
def test_noise_and_sampling_come_from_the_generator_only(mode: str) -> None:
    reference = _trained(mode, 7, global_seed=0, rows=40, batch_size=10)
    # Same debug seed, other global RNG state: identical (reproducible=true).
    assert _same(reference, _trained(mode, 7, global_seed=12345, rows=40, batch_size=10))
    # Other seed: different sampling and noise.
    assert not _same(reference, _trained(mode, 8, global_seed=0, rows=40, batch_size=10))
    # q = 1 takes every row, so any difference is noise drawn from the generator.
    full = {"rows": 20, "batch_size": 20}
    full_reference = _trained(mode, 7, 0, **full)
    assert _same(full_reference, _trained(mode, 7, 99, **full))
    assert not _same(full_reference, _trained(mode, 8, 0, **full))


@pytest.mark.parametrize("mode", GRAD_SAMPLE_MODES)
def test_update_averages_over_the_expected_batch_size(mode: str) -> None:
    """100 rows, batch 30: Opacus alone would divide by int(100 / 3) = 33."""
    torch.manual_seed(0)
    model = _net()
    reference = copy.deepcopy(model)
    training = make_private(
        model,
        torch.optim.SGD(model.parameters(), lr=1.0),
        _data(100),
        batch_size=30,
        noise_multiplier=0.0,
        max_grad_norm=1e6,
        grad_sample_mode=mode,
        noise=noise_source(3),
    )
    assert training.optimizer.expected_batch_size == 30
    x, y = next(iter(training.loader))
    training.criterion(training.model(x), y).backward()
    training.optimizer.step()
    loss_sum = nn.functional.cross_entropy(reference(x), y, reduction="sum")
    grads = torch.autograd.grad(loss_sum, list(reference.parameters()))
    for start, grad, now in zip(reference.parameters(), grads, model.parameters(), strict=True):
        torch.testing.assert_close(now.detach(), start.detach() - grad / 30)


@pytest.mark.parametrize("mode", GRAD_SAMPLE_MODES)
def test_close_gives_back_a_plain_model_for_the_next_round(mode: str) -> None:
    model, training = _private(mode, 1)
    plain = training.close()
    assert plain is model
    assert not any(key.startswith("_module") for key in plain.state_dict())
    again = make_private(
        plain,
        torch.optim.SGD(plain.parameters(), lr=0.1),
        _data(20),
        batch_size=5,
        noise_multiplier=1.0,
        max_grad_norm=1.0,
        grad_sample_mode=mode,
        noise=noise_source(2),
    )
    assert _epoch(again) == 4


def test_gradient_accumulation_is_forbidden() -> None:
    _, training = _private("hooks", 1)
    x, y = next(iter(training.loader))
    training.criterion(training.model(x), y).backward()
    with pytest.raises(ValueError, match="accumulation"):
        training.criterion(training.model(x), y).backward()


@pytest.mark.parametrize("mode", GRAD_SAMPLE_MODES)
def test_clipping_meter_counts_the_samples_opacus_clips(mode: str) -> None:
    rows = 20
    torch.manual_seed(0)
    reference = _net()  # the model _private builds, before any step
    x, y = _data(rows).tensors
    norms = []
    for i in range(rows):  # each row's own gradient, one backward pass per row
        reference.zero_grad()
        nn.functional.cross_entropy(reference(x[i:i + 1]), y[i:i + 1]).backward()
        norms.append(float(torch.sqrt(sum((p.grad ** 2).sum() for p in reference.parameters()))))
    clip = sorted(norms)[rows // 2]
    expected = sum(n + 1e-6 > clip for n in norms)
    assert 0 < expected < rows
    _, training = _private(mode, 7, rows=rows, batch_size=rows, clip=clip)  # q=1: every row
    for xb, yb in training.loader:
        training.optimizer.zero_grad()
        training.criterion(training.model(xb), yb).backward()
        training.optimizer.step()
        training.meter.after_step(training.model)
    assert training.meter.clipped == expected


@pytest.mark.parametrize("mode", ["hooks", "ghost"])
def test_a_step_adds_csprng_noise_of_std_sigma_times_clip(mode: str, monkeypatch) -> None:
    """Kolmogorov–Smirnov: with zero per-sample gradients, a step moves the parameters by
    exactly -noise / B; the noise is N(0, (σ·C)²) per coordinate, drawn (with the Poisson
    sampling) while torch's, numpy's and Python's generators all refuse."""
    sigma, clip, batch = 1.3, 0.7, 10
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 200), nn.ReLU(), nn.Linear(200, 10))
    data = _data(100)
    before = [p.detach().clone() for p in model.parameters()]
    training = make_private(model, torch.optim.SGD(model.parameters(), lr=1.0), data,
                            batch_size=batch, noise_multiplier=sigma, max_grad_norm=clip,
                            grad_sample_mode=mode, noise=noise_source(None))
    forbid_every_insecure_rng(monkeypatch)
    x, y = next(iter(training.loader))
    (training.criterion(training.model(x), y) * 0.0).backward()
    training.optimizer.step()
    moved = torch.cat([(p.detach() - b).flatten() for p, b in
                       zip(model.parameters(), before, strict=True)])
    noise = (-moved * batch).double().numpy()
    assert stats.kstest(noise / (sigma * clip), "norm").pvalue > 1e-3
    assert noise.std() == pytest.approx(sigma * clip, rel=0.03)
