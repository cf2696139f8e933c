"""A Graph (the backend seam's form: docs in pybnn/backends/graph.py on main)
built from pybnn.format's reader, for the OpenCL backend until the C reader's
graph is wired in. Same fields: kind, domains, shapes, geometry, k, and the
tensors exactly as stored in the file (packed uint64 weights)."""
from collections import namedtuple

import numpy as np

from ..format import read
from ..format.bitrows import pack_rows
from ..format.shapes import conv_geometry, layer_shapes

Graph = namedtuple("Graph", "input_shape input_size num_classes layers")
GraphLayer = namedtuple("GraphLayer", "index kind in_domain in_shape out_domain out_shape units "
                                      "kernel stride padding pad_value pad k tensors")


def graph_from_source(source):
    """The Graph of a .bnn path or bytes (validated by pybnn.format.read)."""
    spec = read(source)
    layers = []
    for i, (layer, ls) in enumerate(zip(spec.layers, layer_shapes(spec))):
        tensors, pad, units = {}, (0, 0), 0
        if hasattr(layer, "weights"):
            tensors["weights"] = pack_rows(layer.weights)
            units = layer.weights.shape[0]
        if ls.kind == "threshold":
            tensors["thresholds"] = np.asarray(layer.thresholds, np.int32)
            tensors["flip"] = np.asarray(layer.flip, np.uint8)
        if ls.kind == "affine":
            tensors["scale"] = np.asarray(layer.scale, np.float32)
            tensors["bias"] = np.asarray(layer.bias, np.float32)
        if ls.kind in ("conv", "first_conv"):
            pad = (conv_geometry(ls.in_shape[0], ls.kernel[0], ls.stride[0], ls.padding)[1],
                   conv_geometry(ls.in_shape[1], ls.kernel[1], ls.stride[1], ls.padding)[1])
        pad_value = getattr(layer, "pad_value", "one") if ls.kind == "conv" else "one"
        dom = {"float": "scores"}.get(ls.out_domain, ls.out_domain)
        layers.append(GraphLayer(i, ls.kind, ls.in_domain, ls.in_shape, dom, ls.out_shape, units,
                                 ls.kernel, ls.stride, ls.padding, pad_value, pad, ls.k, tensors))
    shape = tuple(spec.input_shape)
    return Graph(shape, int(np.prod(shape)), layers[-1].out_shape[0], tuple(layers))
