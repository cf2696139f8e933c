"""A mutation fuzzer (plain Python, no atheris needed) for pybnn.format.read,
checked against the C reader (pybnn._core.CModel).

Each mutant of a seed (tests/fuzz/corpus) gets a field set to a boundary
value, layer records swapped, payload bytes changed, or the file cut or
extended; most then get both CRCs recomputed so they reach the field checks.
A finding is:
  - any exception but FormatError from either reader;
  - the readers disagreeing (one accepts what the other refuses);
  - an accepted model that does not survive a write/read round trip, or
    whose C scores differ from the NumPy reference executor.
Accepted mutants join the pool, so mutations compound. A finding is saved
(FINDINGS/format-<sha1>.bnn), printed with its traceback, and ends the run
with exit status 1.

    python tests/fuzz/fuzz_format.py --seconds 120 [--corpus DIR] [--findings DIR]
"""
import argparse
import hashlib
import os
import random
import struct
import sys
import time
import traceback
import zlib

import numpy as np

from pybnn import _core
from pybnn import format as bnn_format
from pybnn.errors import FormatError
from pybnn.format.layers import Affine
from pybnn.reference import run_reference

HEADER, LAYER, TENSOR, CRC_SPAN = 64, 64, 48, 60
INTERESTING = [0, 1, 2, 3, 4, 7, 8, 63, 64, 65, 255, 256, 1024, 1025, 4096, 1 << 20,
               (1 << 24), (1 << 24) + 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]
MAX_RUN_INPUT = 1 << 14  # values per sample above which accepted models are not run


class Finding(Exception):
    pass


def u32(d, o):
    return struct.unpack_from("<I", d, o)[0]


def tables(d):
    """(n_layers, tensor table offset, n_tensors) from the header, clamped to the data."""
    n_layers = min(u32(d, 16), (len(d) - HEADER) // LAYER)
    base = HEADER + n_layers * LAYER
    return n_layers, base, min(u32(d, 20), (len(d) - base) // TENSOR)


def fix_crcs(d):
    n_layers, base, n_tensors = tables(d)
    offset, size = struct.unpack_from("<QQ", d, 40)
    if offset + size <= len(d):
        struct.pack_into("<I", d, 56, zlib.crc32(d[offset:offset + size]))
    crc = zlib.crc32(d[HEADER:base + n_tensors * TENSOR], zlib.crc32(d[:CRC_SPAN]))
    struct.pack_into("<I", d, 60, crc)


def boundary(rng, old, bits=32):
    choice = rng.randrange(4)
    if choice == 0:
        return (old + 1) % (1 << bits)
    if choice == 1:
        return (old - 1) % (1 << bits)
    if choice == 2:
        return old ^ (1 << rng.randrange(bits))
    return rng.choice(INTERESTING) % (1 << bits)


def mutate(rng, seed):
    d = bytearray(seed)
    if len(d) < HEADER:
        d += bytes(rng.randrange(1, 80))
        return bytes(d)
    n_layers, base, n_tensors = tables(d)
    what = rng.randrange(8)
    if what <= 2:  # one field of the header or a record
        if what == 0 or not n_layers:
            field = rng.randrange(10)
            if field < 8:
                struct.pack_into("<I", d, 8 + 4 * field, boundary(rng, u32(d, 8 + 4 * field)))
            else:
                o = 40 + 8 * (field - 8)
                struct.pack_into("<Q", d, o, boundary(rng, struct.unpack_from("<Q", d, o)[0], 64))
        elif what == 1:
            o = HEADER + LAYER * rng.randrange(n_layers) + 4 * rng.randrange(12)
            struct.pack_into("<I", d, o, boundary(rng, u32(d, o)))
        elif n_tensors:
            rec = base + TENSOR * rng.randrange(n_tensors)
            field = rng.randrange(8)
            if field < 6:
                struct.pack_into("<I", d, rec + 4 * field, boundary(rng, u32(d, rec + 4 * field)))
            else:
                o = rec + 24 + 8 * (field - 6)
                struct.pack_into("<Q", d, o, boundary(rng, struct.unpack_from("<Q", d, o)[0], 64))
    elif what == 3 and n_layers >= 2:  # swap two layer records
        a, b = (HEADER + LAYER * rng.randrange(n_layers) for _ in range(2))
        d[a:a + LAYER], d[b:b + LAYER] = d[b:b + LAYER], d[a:a + LAYER]
    elif what in (4, 5):  # payload bytes
        for _ in range(rng.randrange(1, 5)):
            i = rng.randrange(len(d))
            d[i] = rng.randrange(256) if rng.random() < .5 else d[i] ^ (1 << rng.randrange(8))
    elif what == 6:  # cut or extend
        if rng.random() < .5:
            del d[rng.randrange(len(d)):]
        else:
            d += bytes(rng.randrange(1, 130))
    else:  # any byte
        d[rng.randrange(len(d))] = rng.randrange(256)
    if len(d) >= HEADER and rng.randrange(16):
        fix_crcs(d)
    return bytes(d)


def attempt(reader, who, data):
    """(result, None) or (None, the FormatError); Finding on any other exception."""
    try:
        return reader(data), None
    except FormatError as exc:
        return None, exc
    except Exception as exc:
        raise Finding(f"{who} raised {type(exc).__name__}, not FormatError") from exc


def read_both(data):
    """(spec, CModel), or (None, the Python reader's FormatError) when both
    readers refuse; Finding when they disagree or raise anything else."""
    spec, refusal = attempt(bnn_format.read, "pybnn.format.read", data)
    model, _ = attempt(_core.CModel, "the C reader", data)
    if (spec is None) != (model is None):
        raise Finding(f"only the {'C' if spec is None else 'Python'} reader accepts this input")
    return (spec, model) if spec is not None else (None, refusal)


def same_spec(a, b):
    if tuple(a.input_shape) != tuple(b.input_shape) or len(a.layers) != len(b.layers):
        return False
    for x, y in zip(a.layers, b.layers):
        if type(x) is not type(y):
            return False
        for name, value in vars(x).items():
            other = getattr(y, name)
            if isinstance(value, np.ndarray):
                if not np.array_equal(value, other, equal_nan=value.dtype.kind == "f"):
                    return False
            elif value != other:
                return False
    return True


def check_accepted(spec, model, data, rng):
    again = bnn_format.read(bnn_format.to_bytes(spec))
    if not same_spec(spec, again):
        raise Finding("an accepted model changed in a write/read round trip")
    affine = spec.layers[-1]
    tame = (isinstance(affine, Affine) and np.all(np.isfinite(affine.scale))
            and np.all(np.isfinite(affine.bias)) and np.abs(affine.scale).max() < 1e6
            and np.abs(affine.bias).max() < 1e6)
    if model.input_size > MAX_RUN_INPUT or not tame:
        return  # too big to run here, or scores where float rounding decides
    model.set_workspace_limit(64 << 20)
    x = np.random.default_rng(len(data)).integers(0, 256, (2, model.input_size), np.uint8)
    try:
        got = model.run(x)
    except MemoryError:
        return
    want = run_reference(spec, x.reshape((2,) + tuple(spec.input_shape)))
    if not np.allclose(got, want, rtol=1e-6, atol=1e-5):
        raise Finding(f"C scores differ from the reference: {got.tolist()} vs {want.tolist()}")


def load_seeds(corpus):
    seeds = []
    for name in sorted(os.listdir(corpus)):
        with open(os.path.join(corpus, name), "rb") as f:
            seeds.append(f.read())
    if not seeds:
        sys.exit(f"fuzz_format.py: no seeds in {corpus} (run tests/fuzz/make_seeds.py)")
    return seeds


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60, help="how long to run (default 60)")
    p.add_argument("--corpus", default=os.path.join(here, "corpus"), help="seed .bnn files")
    p.add_argument("--findings", default="build-fuzz/findings", help="where findings are saved")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    args = p.parse_args(argv)
    seed = args.seed if args.seed is not None else time.time_ns() % (1 << 32)
    rng = random.Random(seed)
    pool = load_seeds(args.corpus)
    for data in pool:
        spec, model = read_both(data)
        if spec is None:
            sys.exit("fuzz_format.py: a seed is refused by the readers: regenerate the corpus")
    stats = dict(executions=0, accepted=0, refused=0)
    messages = set()  # distinct refusal reasons (the field named), a coverage proxy
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        data = mutate(rng, rng.choice(pool))
        if rng.random() < .3:
            data = mutate(rng, data)
        stats["executions"] += 1
        try:
            spec, model = read_both(data)
            if spec is None:
                stats["refused"] += 1
                messages.add(str(model).split(":")[0].split(" (")[0])  # the field named
                continue
            stats["accepted"] += 1
            check_accepted(spec, model, data, rng)
            if len(pool) < 2000 and data not in pool:
                pool.append(data)
        except Finding as exc:
            os.makedirs(args.findings, exist_ok=True)
            path = os.path.join(args.findings, f"format-{hashlib.sha1(data).hexdigest()}.bnn")
            with open(path, "wb") as f:
                f.write(data)
            traceback.print_exc()
            print(f"fuzz_format.py: FINDING: {exc}\nreproducer: {path} ({len(data)} bytes; "
                  f"seed {seed}); check it with: python -c \"import pybnn.format, pybnn._core; "
                  f"d = open('{path}', 'rb').read(); pybnn.format.read(d); pybnn._core.CModel(d)\"",
                  file=sys.stderr)
            return 1
    print(f"fuzz_format.py: {stats['executions']} executions in {args.seconds:g}s (seed {seed}): "
          f"{stats['accepted']} accepted, {stats['refused']} refused by both readers, "
          f"{len(messages)} distinct refusal fields, pool {len(pool)}; no findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
