#!/usr/bin/env python3
"""Write the cross test's inputs: one .bnn per named test model (every layer
combination, from tests/model_factory.py) and random uint8 samples for it.

    python scripts/make_classify_fixtures.py OUTDIR

For each NAME: OUTDIR/NAME.bnn, OUTDIR/NAME.u8 (raw samples) and a line
"NAME COUNT" in OUTDIR/list.txt, and the same as NAME.batch1 with one
sample. scripts/cross_test.sh runs bnn_classify on them natively and under
qemu and compares the scores byte for byte."""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.append(ROOT)  # an installed pybnn comes first; else an in-place build here
from model_factory import CONFIGS, named_model, random_input  # noqa: E402

from pybnn import format as bnn_format  # noqa: E402

# A batch of 5, and one of 1: the first dense layer runs as bit-planes at
# batches of 1-2 on some kernel sets (neon, AVX-512) and as the int8 panel
# above, so both forms are compared across machines.
BATCHES = (5, 1)


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    lines = []
    for i, name in enumerate(sorted(CONFIGS)):
        spec = named_model(name)
        for batch in BATCHES:
            fixture = name if batch == BATCHES[0] else f"{name}.batch{batch}"
            bnn_format.write(os.path.join(outdir, f"{fixture}.bnn"), spec)
            random_input(np.random.default_rng(100 + i), spec, n=batch).tofile(os.path.join(outdir, f"{fixture}.u8"))
            lines.append(f"{fixture} {batch}\n")
    with open(os.path.join(outdir, "list.txt"), "w") as f:
        f.writelines(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
