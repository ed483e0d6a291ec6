"""Claim: SecAgg+ mask expansion (ChaCha20 keystream) runs at >= 300 MB/s.

Measures, for 10k, 100k, 1M and 10M parameters, the throughput in MB/s (10^6 bytes of
uint64 output per second) of

* ``privacy.secagg.masks.expand_mask(seed, n, modulus_bits=32)``: the mask a site adds;
* ``privacy.secagg.masks.keystream(seed, 8 * n)``: the raw ChaCha20 keystream as bytes;
* the legacy baseline: Flower's legacy SecAgg+ mask generation (``pseudo_rand_gen`` in
  ``flwr.common.secure_aggregation.secaggplus_utils``, re-implemented here without
  importing Flower): XOR-fold the seed to 32 bits, ``np.random.RandomState(seed32)``,
  ``randint(0, 2**32 - 1, n, dtype=int64)``. Not secure; timed only as the baseline.

Every call allocates its output, as in a round. Each (size, method) is timed once per
repeat, methods interleaved, after one warm-up call; the table shows the median and the
range over repeats.

    python benchmarks/mask_expansion.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import numpy as np
from _common import machine_facts, print_table, spread, write_result
from cryptography.hazmat.backends.openssl import backend

from privacy.secagg.masks import expand_mask, keystream, new_seed

MODULUS_BITS = 32
SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
TARGET_MB_S = 300.0
METHODS = ("expand_mask", "keystream", "legacy_numpy")


def legacy_numpy_mask(seed: bytes, length: int, modulus_bits: int) -> np.ndarray:
    """Flower's legacy SecAgg+ mask: Mersenne Twister seeded with the seed XOR-folded to
    32 bits (the baseline only; its masks are predictable)."""
    seed32 = 0
    for i in range(0, len(seed), 4):
        seed32 ^= int.from_bytes(seed[i:i + 4], "little")
    generator = np.random.RandomState(seed32)
    return generator.randint(0, 2**modulus_bits - 1, (length,), dtype=np.int64)


def _calls(seed: bytes, length: int) -> dict[str, Callable[[], object]]:
    return {
        "expand_mask": lambda: expand_mask(seed, length, MODULUS_BITS),
        "keystream": lambda: keystream(seed, 8 * length),
        "legacy_numpy": lambda: legacy_numpy_mask(seed, length, MODULUS_BITS),
    }


def measure(sizes: tuple[int, ...], repeats: int) -> dict[int, dict[str, list[float]]]:
    """Seconds per call, per size and method, ``repeats`` samples each."""
    samples: dict[int, dict[str, list[float]]] = {}
    for length in sizes:
        calls = _calls(new_seed(), length)
        for call in calls.values():  # warm-up: page in code and allocator arenas
            call()
        samples[length] = {name: [] for name in calls}
        for _ in range(repeats):
            for name, call in calls.items():
                start = time.perf_counter()
                call()
                samples[length][name].append(time.perf_counter() - start)
    return samples


def summarise(samples: dict[int, dict[str, list[float]]]) -> list[dict[str, Any]]:
    """MB/s (median, min, max) per size and method, and expand_mask's speed-up on legacy."""
    rows = []
    for length, per_method in samples.items():
        mbytes = 8 * length / 1e6
        row: dict[str, Any] = {"parameters": length, "output_mb": mbytes}
        for name, seconds in per_method.items():
            row[name] = {"seconds": spread(seconds),
                         "mb_per_s": spread([mbytes / s for s in seconds])}
        row["speedup_vs_legacy"] = (statistics.median(per_method["legacy_numpy"])
                                    / statistics.median(per_method["expand_mask"]))
        row["meets_target"] = row["expand_mask"]["mb_per_s"]["median"] >= TARGET_MB_S
        rows.append(row)
    return rows


def _cell(rate: dict[str, float]) -> str:
    return f"{rate['median']:.0f} ({rate['min']:.0f}-{rate['max']:.0f})"


def main() -> None:
    """Parse arguments, measure, print the table, write ``results/mask_expansion.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 1M, 3 repeats")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    sizes = SIZES[:3] if args.quick else SIZES
    repeats = 3 if args.quick else args.repeats
    facts = machine_facts()
    facts["versions"] |= {p: version(p) for p in ("cryptography", "numpy")}
    facts["openssl"] = backend.openssl_version_text()
    started = time.perf_counter()
    rows = summarise(measure(sizes, repeats))
    table = print_table(
        ["parameters", "expand_mask MB/s", "keystream MB/s", "legacy numpy MB/s",
         "expand_mask vs legacy", f">= {TARGET_MB_S:.0f} MB/s"],
        [[f"{r['parameters']:,}", _cell(r["expand_mask"]["mb_per_s"]),
          _cell(r["keystream"]["mb_per_s"]), _cell(r["legacy_numpy"]["mb_per_s"]),
          f"{r['speedup_vs_legacy']:.1f}x", "yes" if r["meets_target"] else "NO"]
         for r in rows])
    write_result("mask_expansion", {
        "claim": f"mask expansion >= {TARGET_MB_S:.0f} MB/s of uint64 output",
        "command": "python benchmarks/mask_expansion.py" + (" --quick" if args.quick else ""),
        "quick": args.quick,
        "repeats": repeats,
        "modulus_bits": MODULUS_BITS,
        "unit": "MB/s = 10^6 bytes of uint64 output (8 bytes per parameter) per second",
        "machine": facts,
        "load_average_after": list(os.getloadavg()),
        "seconds": time.perf_counter() - started,
        "results": rows,
        "table": table,
    })


if __name__ == "__main__":
    main()
