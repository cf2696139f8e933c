"""A model summary table: shapes, parameters, bytes in the file and operation counts.

Binary MACs are the +-1 x +-1 products of conv and dense layers (XOR +
popcount). The first layer multiplies 8-bit inputs by 1-bit weights; it is
counted separately (the engine runs it as 8-bit integer dot products; as
the paper's 8 bit-plane passes it would be 8 binary MACs each). The
compression figure compares the stored tensors with the same parameters as
float32 (weights, thresholds, scale and bias, 4 bytes each).
"""
from .format.shapes import layer_shapes, product

COLUMNS = ("#", "layer", "output", "bin params", "bytes", "binary MACs", "8bx1b MACs",
           "other ops")


def layer_stats(spec):
    """One dict per layer with the figures of the summary table."""
    rows = []
    for i, (layer, ls) in enumerate(zip(spec.layers, layer_shapes(spec))):
        out = product(ls.out_shape)
        row = dict(index=i, kind=ls.kind, shape=ls.out_shape, bin_params=0, bytes=0,
                   float_params=0, binary_macs=0, first_macs=0, other_ops=0, other_what="")
        if ls.kind in ("first_dense", "first_conv", "conv", "dense"):
            units = ls.out_shape[-1]
            words = (ls.in_shape[-1] + 63) // 64
            row["bin_params"] = row["float_params"] = units * ls.k
            row["bytes"] = units * (ls.k // ls.in_shape[-1]) * words * 8
            macs = out * ls.k
            row["first_macs" if ls.kind.startswith("first_") else "binary_macs"] = macs
            if ls.kind.startswith("first_"):
                row["other_what"] = "8-bit dot products"
        elif ls.kind == "threshold":
            c = ls.out_shape[-1]
            row["bytes"], row["float_params"] = 5 * c, c
            row["other_ops"], row["other_what"] = out, "compares"
        elif ls.kind == "maxpool":
            row["other_ops"] = out * (ls.kernel[0] * ls.kernel[1] - 1)
            row["other_what"] = "compares"
        elif ls.kind == "affine":
            c = ls.out_shape[0]
            row["bytes"], row["float_params"] = 8 * c, 2 * c
            row["other_ops"], row["other_what"] = 2 * c, "flops"
        rows.append(row)
    return rows


def summarize_file(source):
    """The summary of a .bnn path or bytes, read once (by pybnn.format, which
    maps a file rather than copying it)."""
    import os

    from .format import read
    spec = read(source)
    size = (os.path.getsize(source) if isinstance(source, (str, os.PathLike))
            else memoryview(source).nbytes)
    return summarize(spec, file_size=size)


def summarize(spec, file_size=None):
    """The summary table as text. `file_size`: the .bnn size when known (else computed)."""
    rows = layer_stats(spec)
    if file_size is None:
        from .format import to_bytes
        file_size = len(to_bytes(spec))
    table = [COLUMNS]
    for r in rows:
        other = r["other_what"]
        if r["other_ops"]:
            other = f"{r['other_ops']:,} {other}"
        table.append((str(r["index"]), r["kind"], str(r["shape"]), _n(r["bin_params"]),
                      _n(r["bytes"]), _n(r["binary_macs"]), _n(r["first_macs"]), other))
    total = {k: sum(r[k] for r in rows) for k in ("bin_params", "bytes", "binary_macs",
                                                  "first_macs", "other_ops", "float_params")}
    table.append(("", "total", "", _n(total["bin_params"]), _n(total["bytes"]),
                  _n(total["binary_macs"]), _n(total["first_macs"]), _n(total["other_ops"])))
    widths = [max(len(row[j]) for row in table) for j in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) if j < 3 else cell.rjust(w)
                       for j, (cell, w) in enumerate(zip(row, widths))).rstrip()
             for row in table]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    float_bytes = 4 * total["float_params"]
    lines.append(f"input {tuple(spec.input_shape)} uint8 -> {rows[-1]['shape'][0]} float32 scores")
    lines.append(f"file {file_size:,} bytes; the same parameters as float32: {float_bytes:,} bytes "
                 f"({float_bytes / max(total['bytes'], 1):.1f}x the tensors, "
                 f"{float_bytes / file_size:.1f}x the file)")
    lines.append(f"first layer: {total['first_macs']:,} 8-bit x 1-bit MACs = "
                 f"{8 * total['first_macs']:,} binary MACs as 8 bit-planes")
    return "\n".join(lines)


def _n(v):
    return f"{v:,}" if v else "-"


def product(shape):
    n = 1
    for d in shape:
        n *= d
    return n
