"""Write the fuzzers' seed corpus: small valid .bnn files made by the
project's own writer, one per configuration of tests/model_factory.py
(every layer type, both paddings and pad values, strides, word edges).

    python tests/fuzz/make_seeds.py [OUT_DIR]   # default tests/fuzz/corpus

The files are committed (a few kB each); run this again after a format
change. The same seed gives the same bytes."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for model_factory

from model_factory import CONFIGS, named_model  # noqa: E402

from pybnn import format as bnn_format  # noqa: E402

MAX_SEED_BYTES = 16 << 10  # keep the corpus small: the fuzzer grows it


def main(out_dir=os.path.join(HERE, "corpus")):
    os.makedirs(out_dir, exist_ok=True)
    written = 0
    for name in sorted(CONFIGS):
        data = bnn_format.to_bytes(named_model(name, seed=1))
        if len(data) > MAX_SEED_BYTES:
            continue
        with open(os.path.join(out_dir, f"{name}.bnn"), "wb") as f:
            f.write(data)
        written += 1
    print(f"wrote {written} seeds to {out_dir}")


if __name__ == "__main__":
    main(*sys.argv[1:])
