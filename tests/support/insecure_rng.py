"""Make every non-OS-entropy random source fail a test (for code that handles secrets)."""

import random
import sys

import numpy as np
import pytest
import torch


class _Refuse:
    """Stands in for ``numpy.random``: any use fails the test."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"numpy.random.{name} used where only OS entropy is allowed")


def forbid_insecure_rng(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``random``'s functions and classes and all of ``numpy.random`` raise."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the random module used where only OS entropy is allowed")

    for name in random.__all__:
        if name != "SystemRandom":  # what ``secrets`` is built on
            monkeypatch.setattr(random, name, refuse)
    monkeypatch.setattr(np, "random", _Refuse())
    monkeypatch.setitem(sys.modules, "numpy.random", _Refuse())


TORCH_DRAWS = ("rand", "randn", "randint", "normal", "bernoulli", "multinomial", "poisson",
               "randperm", "rand_like", "randn_like", "randint_like")
TENSOR_DRAWS = ("normal_", "uniform_", "exponential_", "bernoulli_", "geometric_",
                "log_normal_", "cauchy_")


def forbid_every_insecure_rng(monkeypatch: pytest.MonkeyPatch) -> None:
    """:func:`forbid_insecure_rng`, and torch's random draws too (with or without a
    generator): for DP noise, which must come from ``privacy.noise``'s CSPRNG."""
    forbid_insecure_rng(monkeypatch)

    def refuse(name: str):
        def draw(*args: object, **kwargs: object) -> None:
            raise AssertionError(f"torch {name} used where only the CSPRNG is allowed")
        return draw

    for name in TORCH_DRAWS:
        monkeypatch.setattr(torch, name, refuse(f"torch.{name}"))
    for name in TENSOR_DRAWS:
        monkeypatch.setattr(torch.Tensor, name, refuse(f"Tensor.{name}"))
    random_ = torch.Tensor.random_

    def base_seed_only(self: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        """DataLoader draws its worker base seed with ``random_`` from the loader's own
        generator (not DP noise); the global generator stays refused."""
        if kwargs.get("generator") in (None, torch.default_generator):
            raise AssertionError("torch Tensor.random_ used with the global generator")
        return random_(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "random_", base_seed_only)
