"""privacy.secagg.masks: RFC 8439 known answers, seed checks, cancellation, uniformity."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.secagg.errors import SecAggError
from privacy.secagg.masks import (
    SEED_BYTES,
    add_mask,
    expand_mask,
    keystream,
    mask_vector,
    new_seed,
    pairwise_sign,
)

# --- an independent pure-Python ChaCha20 (RFC 8439 §2.1-2.3), to cross-check the vectors ---

_MASK32 = 0xFFFFFFFF


def _rotl(value: int, count: int) -> int:
    return ((value << count) & _MASK32) | (value >> (32 - count))


def _quarter_round(s: list[int], a: int, b: int, c: int, d: int) -> None:
    s[a] = (s[a] + s[b]) & _MASK32
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & _MASK32
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & _MASK32
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & _MASK32
    s[b] = _rotl(s[b] ^ s[c], 7)


def _reference_block(key: bytes, counter: int, nonce: bytes) -> bytes:
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574,
             *struct.unpack("<8I", key), counter, *struct.unpack("<3I", nonce)]
    work = list(state)
    for _ in range(10):
        for a, b, c, d in ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                           (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14)):
            _quarter_round(work, a, b, c, d)
    return struct.pack("<16I", *((w + s) & _MASK32 for w, s in zip(work, state, strict=True)))


def _reference_keystream(key: bytes, nbytes: int, counter: int, nonce: bytes) -> bytes:
    blocks = b"".join(_reference_block(key, counter + i, nonce) for i in range(-(-nbytes // 64)))
    return blocks[:nbytes]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def test_reference_quarter_round_matches_rfc8439_2_1_1() -> None:
    state = [0x11111111, 0x01020304, 0x9B8D6F43, 0x01234567]
    _quarter_round(state, 0, 1, 2, 3)
    assert state == [0xEA2A92F4, 0xCB1CF8CE, 0x4581472E, 0x5881C4BB]


# --- RFC 8439 vectors, typed from the RFC text; every one is also checked against the
# --- pure-Python reference above, so a typo in a vector or a layout error shows twice.

_KEY_00_1F = bytes(range(32))

# (name, key, counter, nonce, keystream)
_KEYSTREAM_VECTORS = [
    ("2.3.2 block", _KEY_00_1F, 1, bytes.fromhex("000000090000004a00000000"),
     "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
     "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"),
    ("A.1 #1", bytes(32), 0, bytes(12),
     "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
     "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"),
    ("A.1 #2", bytes(32), 1, bytes(12),
     "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
     "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f"),
    ("A.1 #3", bytes(31) + b"\x01", 1, bytes(12),
     "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a"
     "8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0"),
    ("A.1 #4", b"\x00\xff" + bytes(30), 2, bytes(12),
     "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca"
     "13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096"),
    ("A.1 #5", bytes(32), 0, bytes(11) + b"\x02",
     "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
     "8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d"),
]

# (name, key, counter, nonce, plaintext, ciphertext)
_ENCRYPTION_VECTORS = [
    ("2.4.2", _KEY_00_1F, 1, bytes.fromhex("000000000000004a00000000"),
     b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
     b"the future, sunscreen would be it.",
     "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
     "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
     "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
     "5af90bbf74a35be6b40b8eedf2785e42874d"),
    ("A.2 #3", bytes.fromhex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0"),
     42, bytes(11) + b"\x02",
     b"'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\n"
     b"All mimsy were the borogoves,\nAnd the mome raths outgrabe.",
     "62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf"
     "166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283196c7fe4f60553eb"
     "f39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f77"
     "04c6a8d1bcd1bf4d50d6154b6da731b187b58dfd728afa36757a797ac188d1"),
]


@pytest.mark.parametrize(("name", "key", "counter", "nonce", "expected"), _KEYSTREAM_VECTORS,
                         ids=[v[0] for v in _KEYSTREAM_VECTORS])
def test_keystream_matches_rfc8439(name: str, key: bytes, counter: int, nonce: bytes,
                                   expected: str) -> None:
    want = bytes.fromhex(expected)
    assert keystream(key, 64, counter=counter, nonce=nonce) == want
    assert _reference_block(key, counter, nonce) == want


@pytest.mark.parametrize(("name", "key", "counter", "nonce", "plaintext", "expected"),
                         _ENCRYPTION_VECTORS, ids=[v[0] for v in _ENCRYPTION_VECTORS])
def test_keystream_encrypts_rfc8439_plaintexts(name: str, key: bytes, counter: int,
                                               nonce: bytes, plaintext: bytes,
                                               expected: str) -> None:
    want = bytes.fromhex(expected)
    assert _xor(plaintext, keystream(key, len(plaintext), counter=counter, nonce=nonce)) == want
    assert _xor(plaintext, _reference_keystream(key, len(plaintext), counter, nonce)) == want


@settings(max_examples=40)
@given(seed=st.binary(min_size=32, max_size=32), nbytes=st.integers(0, 200),
       counter=st.integers(0, 2**32 - 4), nonce=st.binary(min_size=12, max_size=12))
def test_keystream_matches_reference_implementation(seed: bytes, nbytes: int, counter: int,
                                                    nonce: bytes) -> None:
    assert keystream(seed, nbytes, counter=counter, nonce=nonce) == _reference_keystream(
        seed, nbytes, counter, nonce)


def test_keystream_stops_at_the_32_bit_block_counter() -> None:
    last = keystream(bytes(32), 64, counter=2**32 - 1)
    assert last == _reference_block(bytes(32), 2**32 - 1, bytes(12))
    with pytest.raises(SecAggError, match="32-bit ChaCha20 block counter"):
        keystream(bytes(32), 65, counter=2**32 - 1)
    with pytest.raises(SecAggError, match="32-bit ChaCha20 block counter"):
        keystream(bytes(32), 1, counter=-1)


def test_expand_mask_words_are_the_keystream_little_endian_reduced() -> None:
    seed = bytes(range(32))
    raw = keystream(seed, 8 * 300)
    words = [int.from_bytes(raw[8 * i:8 * i + 8], "little") for i in range(300)]
    for bits in (1, 13, 32, 63, 64):
        mask = expand_mask(seed, 300, bits)
        assert mask.dtype == np.uint64
        assert mask.tolist() == [w % 2**bits for w in words]


def test_expand_mask_spans_several_chunks_consistently() -> None:
    seed = new_seed()
    long = expand_mask(seed, 100_003, 64)  # 800 kB: crosses the 64 KiB fill chunks
    assert long[:1000].tolist() == expand_mask(seed, 1000, 64).tolist()
    assert long.tobytes() == keystream(seed, 8 * 100_003)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_seeds_must_be_full_256_bit_keys(size: int) -> None:
    seed = bytes(size)
    acc = np.zeros(4, dtype=np.uint64)
    with pytest.raises(SecAggError, match=r"a mask seed is 32 bytes \(a 256-bit ChaCha20 key\)"):
        keystream(seed, 8)
    with pytest.raises(SecAggError, match="a mask seed is 32 bytes"):
        expand_mask(seed, 4, 32)
    with pytest.raises(SecAggError, match="a mask seed is 32 bytes"):
        add_mask(acc, seed, 32)
    with pytest.raises(SecAggError, match="a mask seed is 32 bytes"):
        mask_vector(acc, node=1, modulus_bits=32, self_seed=bytes(32), pairwise_seeds={2: seed})


def test_bad_nonce_and_modulus_are_refused() -> None:
    with pytest.raises(SecAggError, match="nonce is 12 bytes, got 16"):
        keystream(bytes(32), 8, nonce=bytes(16))
    for bits in (0, 65):
        with pytest.raises(SecAggError, match=r"modulus_bits must be in \[1, 64\]"):
            expand_mask(bytes(32), 4, bits)


def test_masks_are_deterministic_and_seeds_differ() -> None:
    seed = new_seed()
    assert len(seed) == SEED_BYTES
    assert new_seed() != seed
    first = expand_mask(seed, 1000, 32)
    assert first.tolist() == expand_mask(seed, 1000, 32).tolist()
    other = bytearray(seed)
    other[-1] ^= 1  # one bit of the seed
    assert (first != expand_mask(bytes(other), 1000, 32)).mean() > 0.99
    assert int(first.max()) < 2**32


def test_pairwise_sign_lower_node_adds() -> None:
    assert pairwise_sign(3, 7) == 1
    assert pairwise_sign(7, 3) == -1
    assert pairwise_sign(0, 2**64 - 1) == 1
    with pytest.raises(SecAggError, match="node 5 cannot share a pairwise mask with itself"):
        pairwise_sign(5, 5)


def test_add_mask_adds_and_subtracts_modulo() -> None:
    seed = bytes(range(32))
    bits = 20
    mask = expand_mask(seed, 50, bits).tolist()
    start = [(i * 40_503) % 2**bits for i in range(50)]
    acc = np.array(start, dtype=np.uint64)
    add_mask(acc, seed, bits)
    assert acc.tolist() == [(s + m) % 2**bits for s, m in zip(start, mask, strict=True)]
    add_mask(acc, seed, bits, sign=-1)
    assert acc.tolist() == start
    with pytest.raises(SecAggError, match="not scaled by 2"):
        add_mask(acc, seed, bits, sign=2)
    with pytest.raises(SecAggError, match="1-d uint64 vectors, got 1-d int64"):
        add_mask(np.zeros(3, dtype=np.int64), seed, bits)


def test_mask_vector_checks_its_input() -> None:
    seed = bytes(32)
    with pytest.raises(SecAggError, match=r"uint64 vector in \[0, 2\*\*8\)"):
        mask_vector(np.array([256], dtype=np.uint64), node=1, modulus_bits=8, self_seed=seed,
                    pairwise_seeds={})
    with pytest.raises(SecAggError, match=r"uint64 vector in \[0, 2\*\*8\)"):
        mask_vector(np.array([1.0]), node=1, modulus_bits=8, self_seed=seed, pairwise_seeds={})
    with pytest.raises(SecAggError, match="node 1 cannot share a pairwise mask with itself"):
        mask_vector(np.zeros(2, dtype=np.uint64), node=1, modulus_bits=8, self_seed=seed,
                    pairwise_seeds={1: seed})


Federation = tuple[int, list[int], dict[int, list[int]], dict[int, bytes],
                   dict[frozenset[int], bytes]]


@st.composite
def _federations(draw: st.DrawFn) -> Federation:
    """Modulus bits, node ids, each node's input, self seeds and the pairwise seed of
    every edge of a drawn neighbour graph."""
    bits = draw(st.integers(1, 64))
    nodes = draw(st.lists(st.integers(0, 2**64 - 1), min_size=2, max_size=6, unique=True))
    length = draw(st.integers(0, 30))
    inputs = {n: draw(st.lists(st.integers(0, 2**bits - 1), min_size=length, max_size=length))
              for n in nodes}
    seed = st.binary(min_size=32, max_size=32)
    self_seeds = {n: draw(seed) for n in nodes}
    pairs = [frozenset((a, b)) for i, a in enumerate(nodes) for b in nodes[i + 1:]]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True))
    return bits, nodes, inputs, self_seeds, {edge: draw(seed) for edge in edges}


def _masked_inputs(bits: int, inputs: dict[int, list[int]], self_seeds: dict[int, bytes],
                   edges: dict[frozenset[int], bytes]) -> dict[int, np.ndarray]:
    return {
        node: mask_vector(np.array(x, dtype=np.uint64), node=node, modulus_bits=bits,
                          self_seed=self_seeds[node],
                          pairwise_seeds={next(iter(e - {node})): s
                                          for e, s in edges.items() if node in e})
        for node, x in inputs.items()
    }


@given(_federations())
def test_pairwise_masks_cancel_in_the_sum(federation: Federation) -> None:
    bits, nodes, inputs, self_seeds, edges = federation
    masked = _masked_inputs(bits, inputs, self_seeds, edges)
    length = len(inputs[nodes[0]])
    total = np.zeros(length, dtype=np.uint64)
    for node in nodes:
        total = (total + masked[node]) & np.uint64(2**bits - 1)
        add_mask(total, self_seeds[node], bits, sign=-1)  # the server removes self masks
    expected = [sum(inputs[n][i] for n in nodes) % 2**bits for i in range(length)]
    assert total.tolist() == expected


@given(_federations(), st.data())
def test_dropped_sites_pairwise_masks_are_removed(federation: Federation,
                                                  data: st.DataObject) -> None:
    bits, nodes, inputs, self_seeds, edges = federation
    masked = _masked_inputs(bits, inputs, self_seeds, edges)
    dropped = set(data.draw(st.lists(st.sampled_from(nodes), unique=True,
                                     max_size=len(nodes) - 1)))
    survivors = [n for n in nodes if n not in dropped]
    length = len(inputs[nodes[0]])
    total = np.zeros(length, dtype=np.uint64)
    for node in survivors:
        total = (total + masked[node]) & np.uint64(2**bits - 1)
        add_mask(total, self_seeds[node], bits, sign=-1)
    for edge, seed in edges.items():
        if len(edge & dropped) == 1:  # a survivor masked with a site that then dropped
            (survivor,), (gone,) = edge - dropped, edge & dropped
            add_mask(total, seed, bits, sign=-pairwise_sign(survivor, gone))
    expected = [sum(inputs[n][i] for n in survivors) % 2**bits for i in range(length)]
    assert total.tolist() == expected


# --- uniformity: one site's masked vector, for a constant input, looks uniform ---------------
# Each statistic is compared with a fixed critical value, so a correct implementation fails
# with probability < 1e-9 (chi-square) and < 5.2e-9 (bit balance: 64 bits x 8.0e-11) per
# case: chi-square 255 d.o.f. upper 1e-9 quantile = 414.545 (scipy.stats.chi2.isf(1e-9, 255));
# |z| > 6.5 for a fair bit has two-sided probability 8.0e-11.

_SAMPLES = 200_000
_CHI2_CRITICAL_255_DOF_1E9 = 414.545
_Z_CRITICAL = 6.5


def _chi_square_top_byte(values: np.ndarray, bits: int) -> float:
    counts = np.bincount((values >> np.uint64(bits - 8)).astype(np.int64) & 0xFF, minlength=256)
    expected = len(values) / 256
    return float(((counts - expected) ** 2 / expected).sum())


def _worst_bit_z(values: np.ndarray, bits: int) -> float:
    ones = [int(((values >> np.uint64(j)) & np.uint64(1)).sum()) for j in range(bits)]
    n = len(values)
    return max(abs(c - n / 2) / math.sqrt(n / 4) for c in ones)


def _one_sites_masked_vector(bits: int) -> np.ndarray:
    constant = np.full(_SAMPLES, 2 ** (bits - 1) + 3, dtype=np.uint64)
    return mask_vector(constant, node=5, modulus_bits=bits, self_seed=new_seed(),
                       pairwise_seeds={2: new_seed(), 9: new_seed(), 11: new_seed()})


@pytest.mark.parametrize("bits", [13, 32, 64])
def test_masked_vector_is_indistinguishable_from_uniform(bits: int) -> None:
    masked = _one_sites_masked_vector(bits)
    assert _chi_square_top_byte(masked, bits) < _CHI2_CRITICAL_255_DOF_1E9
    assert _worst_bit_z(masked, bits) < _Z_CRITICAL


def test_uniformity_checks_catch_non_uniform_vectors() -> None:
    bits = 32
    constant = np.full(_SAMPLES, 2 ** (bits - 1) + 3, dtype=np.uint64)
    assert _chi_square_top_byte(constant, bits) > 1000 * _CHI2_CRITICAL_255_DOF_1E9
    assert _worst_bit_z(constant, bits) > 50 * _Z_CRITICAL
    # a mask one bit short leaves the sum's top bit mostly set: both checks fire
    short = (constant + expand_mask(new_seed(), _SAMPLES, bits - 1)) & np.uint64(2**bits - 1)
    assert _chi_square_top_byte(short, bits) > 10 * _CHI2_CRITICAL_255_DOF_1E9
    assert _worst_bit_z(short, bits) > 10 * _Z_CRITICAL
