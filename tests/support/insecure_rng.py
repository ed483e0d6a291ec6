"""Make every non-OS-entropy random source fail a test (for code that handles secrets)."""

import random
import sys

import numpy as np
import pytest


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
