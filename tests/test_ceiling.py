"""The ceilings the benchmarks measure (src/cpu/kernels/bgemm_roofline*.c,
u8gemm_roofline_*.c, scripts/ceiling.py): every usable kernel set has XOR +
popcount ALU forms, the x86 SIMD sets and neondot int8 ones, each does the work it
claims, and a kernel above the ceiling is reported."""
import os
import sys

import numpy as np
import pytest

from pybnn import _core

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import ceiling  # noqa: E402


def test_every_usable_set_has_alu_forms(isa):
    forms = _core.roofline_alu_forms(isa)
    assert forms, f"kernel set {isa} has no ALU ceiling form"
    for name, bits in forms:
        assert name and bits > 0 and bits % 64 == 0


def test_alu_forms_do_work_in_proportion_to_reps(isa):
    """The count is a sum over reps of the same work: doubling reps doubles it
    (byte-wrapping forms excepted: they only keep the work alive)."""
    for index, (name, _) in enumerate(_core.roofline_alu_forms(isa)):
        one, two = _core.roofline_alu(isa, index, 8), _core.roofline_alu(isa, index, 16)
        assert one > 0, name
        if "vector SWAR" not in name:
            assert two == 2 * one, name


def test_alu_form_arguments_are_checked():
    isa = _core.isa()
    count = len(_core.roofline_alu_forms(isa))
    with pytest.raises(ValueError, match="form: expected an int in"):
        _core.roofline_alu(isa, count, 1)
    with pytest.raises(ValueError, match="reps: expected a positive int"):
        _core.roofline_alu(isa, 0, 0)
    assert _core.roofline_alu_forms("sve9") == []


# The kernel sets with an int8 multiply-accumulate form (u8gemm_roofline_*.c;
# NEON without the dot product has none).
INT8_SETS = {"avx2", "avxvnni", "avx512", "avx512vnni", "neondot"}


def test_int8_forms_do_the_macs_they_claim(isa):
    """Every int8 form multiplies bytes of 1 by bytes of 3 into 32-bit lanes:
    its total is 3 per MAC, so it does exactly the MACs per rep it claims
    (the int8 ceiling's rate is computed from that count)."""
    forms = _core.roofline_alu_forms(isa, "int8")
    assert bool(forms) == (isa in INT8_SETS), forms
    for index, (name, macs) in enumerate(forms):
        assert macs > 0 and macs % 32 == 0, name
        for reps in (1, 8, 16):
            assert _core.roofline_alu(isa, index, reps, "int8") == 3 * reps * macs, (name, reps)
    result = ceiling.int8_ceiling(isa, 2)
    if forms:
        form, rate = result
        assert form in dict(forms) and rate > 0
    else:
        assert result is None


def test_roofline_kind_is_checked():
    with pytest.raises(ValueError, match="kind: expected one of"):
        _core.roofline_alu_forms(_core.isa(), "int4")
    with pytest.raises(ValueError, match="kind: expected one of"):
        _core.roofline_alu(_core.isa(), 0, 1, "float")


def test_streaming_rate_counts_exactly(isa):
    if isa == "neon" or isa.startswith("neon"):
        pytest.skip("no streaming kernel for NEON (ALU ceiling only)")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**63, 128, dtype=np.uint64)
    b = rng.integers(0, 2**63, 128, dtype=np.uint64)
    want = sum(bin(int(x) ^ int(y)).count("1") for x, y in zip(a, b))
    assert _core.roofline_xor_popcount(isa, a, b, 3) == 3 * want


def test_a_kernel_above_the_ceiling_is_reported():
    samples = {"alu: form": [100.0, 110.0, 105.0], "stream L1 (x)": [50.0, 52.0, 51.0]}
    c = ceiling.Ceiling("avx512", 1, samples, {"form": [108.0, 109.0, 107.0]})
    assert c.rate == 105.0 and c.best == 110.0 and c.form == "form" and c.cpu == 108.0
    assert c.exceeded_by(112.0) is None            # within the noise floor of the best run
    assert c.exceeded_by(130.0) == pytest.approx(130 / 110 - 1)
    assert c.exceeded_by(130.0, other_best=128.0) is None  # a later, faster ceiling run
    cpu = ceiling.Ceiling("avx512", 1, samples, {"form": [200.0]})  # wall runs all disturbed
    assert cpu.exceeded_by(130.0) is None and cpu.exceeded_by(230.0) == pytest.approx(230 / 200 - 1)


def test_cpu_time_ceiling_is_measured():
    runs = ceiling.alu_cpu_rate(_core.isa(), 1, 2)
    assert runs and all(len(r) == 2 and min(r) > 0 for r in runs.values())



def test_stream_once_covers_b_in_whole_blocks(isa):
    """The one-row product's streaming reference (ceiling.stream_once_bench):
    `threads` equal shares, each whole kernel blocks, covering all the words
    of B at least once per pass; the work it claims is whole passes."""
    if isa.startswith("neon"):
        pytest.skip("no streaming kernel for NEON (ALU ceiling only)")
    step = _core.ROOFLINE_WORDS_MULTIPLE
    for words, threads in ((1, 1), (step + 1, 1), (10 * step, 2), (10 * step + 3, 3)):
        fn, work = ceiling.stream_once_bench(isa, words, threads)
        share = max(step, -(-words // threads // step) * step)
        assert share * threads >= words
        assert work % (share * 64 * threads) == 0 and work >= share * 64 * threads
        fn()


def test_l2_size_is_read_in_bytes():
    """The one-row streaming reference is only taken where B's share exceeds
    L2: a size read in the wrong unit would take it where it means nothing."""
    size = ceiling.l2_bytes()
    if size is None:
        pytest.skip("no L2 size in sysfs here")
    assert 64 * 1024 <= size <= 64 * 1024 * 1024
