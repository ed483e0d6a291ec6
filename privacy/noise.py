"""Where DP noise and DP sampling draw their randomness: a ChaCha20 keystream.

:class:`CsprngNoise` keys ChaCha20 (``cryptography``, i.e. OpenSSL) with 32 bytes of OS
entropy and turns its keystream into uniforms (53 bits each), Gaussians (Box–Muller)
and exponentials; nothing else (torch's, numpy's or Python's generators) is used. One
source lives for one release (a round, a synthesis) and never leaves the site.
:class:`SeededNoise` is the ``reproducible=true`` debug path: torch's generator under a
seed anyone with the config can regenerate, so a run using it is NOT private.
"""

from __future__ import annotations

import math
import os
from typing import Protocol

import numpy as np
import torch
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

KEY_BYTES = 32
NONCE_BYTES = 16  # cryptography's ChaCha20: a 4-byte block counter + a 12-byte nonce


class NoiseSource(Protocol):
    """Uniform, Gaussian and exponential draws as float tensors."""

    def rand(self, n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """``n`` uniforms in [0, 1)."""

    def normal(self, shape: tuple[int, ...] | torch.Size, std: float,
               dtype: torch.dtype = torch.float64,
               device: torch.device | str = "cpu") -> torch.Tensor:
        """Gaussians of mean 0 and standard deviation ``std``."""

    def exponential(self, n: int) -> torch.Tensor:
        """``n`` draws of Exp(1), as float64."""

    @property
    def private(self) -> bool:
        """False for a seeded (debug) source."""


class CsprngNoise:
    """A ChaCha20 keystream keyed from OS entropy."""

    private = True

    def __init__(self) -> None:
        cipher = Cipher(algorithms.ChaCha20(os.urandom(KEY_BYTES), bytes(NONCE_BYTES)),
                        mode=None)
        self._stream = cipher.encryptor()

    def _uniform(self, n: int) -> torch.Tensor:
        """``n`` float64 uniforms on the grid k / 2^53 in [0, 1)."""
        words = np.frombuffer(self._stream.update(bytes(8 * n)), dtype=np.uint64)
        return torch.from_numpy((words >> np.uint64(11)).astype(np.float64)) * 2.0**-53

    def rand(self, n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        return self._uniform(n).to(dtype)

    def normal(self, shape: tuple[int, ...] | torch.Size, std: float,
               dtype: torch.dtype = torch.float64,
               device: torch.device | str = "cpu") -> torch.Tensor:
        count = math.prod(shape)
        pairs = (count + 1) // 2
        u = self._uniform(2 * pairs)
        radius = torch.sqrt(-2.0 * torch.log1p(-u[:pairs]))  # 1 - u in (0, 1]: finite
        angle = (2.0 * math.pi) * u[pairs:]
        z = torch.cat([radius * torch.cos(angle), radius * torch.sin(angle)])[:count]
        return (z * std).reshape(shape).to(device=device, dtype=dtype)

    def exponential(self, n: int) -> torch.Tensor:
        return -torch.log1p(-self._uniform(n))


class SeededNoise:
    """torch's generator under a debug seed (``reproducible=true``: NOT private)."""

    private = False

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator()
        self.generator.manual_seed(seed)

    def rand(self, n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        return torch.rand(n, generator=self.generator, dtype=dtype)

    def normal(self, shape: tuple[int, ...] | torch.Size, std: float,
               dtype: torch.dtype = torch.float64,
               device: torch.device | str = "cpu") -> torch.Tensor:
        draw = torch.normal(0.0, std, size=tuple(shape), generator=self.generator,
                            dtype=dtype)
        return draw.to(device)

    def exponential(self, n: int) -> torch.Tensor:
        return torch.empty(n, dtype=torch.float64).exponential_(generator=self.generator)


def noise_source(seed: int | None) -> NoiseSource:
    """The source of one release's DP noise and sampling: the CSPRNG, or with a debug
    ``seed`` (``reproducible=true``; the caller marks the run not private) torch's
    generator."""
    return CsprngNoise() if seed is None else SeededNoise(seed)
