"""The paper's two networks as ONNX Runtime models, float32 and static int8
(QDQ), built with onnx.helper from random weights: the baselines a user would
pick instead of a BNN (scripts/bench_models.py runs them beside pybnn).

Same layer shapes as scripts/paper_models.py (ConvNet 2x128C3-MP2-2x256C3-
MP2-2x512C3-MP2-2x1024FC-10 on 32x32x3, MLP 784-4096x3-10); batch norm is
folded into the weights, as a deployed model has it, and the activation is
ReLU (what int8 networks use). The int8 form is the QDQ format ORT's
quantization tool writes: int8 weights and uint8 activations, each
QuantizeLinear/DequantizeLinear pair around a Conv or MatMul, which ORT's
optimizer fuses into integer kernels (QLinearConv, QLinearMatMul; VNNI where
the CPU has it). Needs the optional `bench` extras (onnx, onnxruntime)."""
import numpy as np

CONVNET_CHANNELS = (128, 128, 256, 256, 512, 512)
CONVNET_FC = (1024, 1024)
MLP_WIDTH = 4096
OPSET = 17
IR_VERSION = 8  # read by every onnxruntime this script may meet


def convnet_layers(classes=10):
    layers = []
    for i, c in enumerate(CONVNET_CHANNELS):
        layers.append(("conv", c))
        if i % 2 == 1:
            layers.append(("pool", None))
    layers.append(("flatten", None))
    layers += [("fc", u) for u in CONVNET_FC] + [("fc_last", classes)]
    return (3, 32, 32), layers


def mlp_layers(classes=10, width=MLP_WIDTH, depth=3, features=784):
    return (features,), [("fc", width)] * depth + [("fc_last", classes)]


def build(input_shape, layers, int8, seed=0):
    """An onnx.ModelProto: input "x" float32 (N, *input_shape) in [0, 1]
    (channels first for images), output "y" float32 (N, classes)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    counter = [0]

    def name(prefix):
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def const(array):
        n = name("c")
        inits.append(numpy_helper.from_array(array, n))
        return n

    def quantize(x, scale):  # float -> uint8 (activations are >= 0 after ReLU)
        q = name("q")
        nodes.append(helper.make_node("QuantizeLinear", [x, const(np.float32(scale)), const(np.uint8(0))], [q]))
        return q

    def dequantize(q, scale, zero):
        d = name("d")
        nodes.append(helper.make_node("DequantizeLinear", [q, const(np.float32(scale)), const(zero)], [d]))
        return d

    def weights(shape, fan_in):
        w = (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
        if not int8:
            return const(w)
        scale = float(np.abs(w).max()) / 127
        return dequantize(const(np.round(w / scale).astype(np.int8)), scale, np.int8(0))

    def activation(x, scale):  # every activation tensor of the int8 form is uint8
        return dequantize(quantize(x, scale), scale, np.uint8(0)) if int8 else x

    # ReLU outputs of unit-variance layers lie mostly within [0, 8]
    x, channels = activation("x", 1 / 255), input_shape[0]
    for kind, size in layers:
        if kind == "conv":
            y = name("conv")
            nodes.append(helper.make_node("Conv", [x, weights((size, channels, 3, 3), 9 * channels)], [y],
                                          pads=[1, 1, 1, 1]))
            x, channels = name("relu"), size
            nodes.append(helper.make_node("Relu", [y], [x]))
            x = activation(x, 8 / 255)
        elif kind in ("fc", "fc_last"):
            y = name("mm")
            nodes.append(helper.make_node("MatMul", [x, weights((channels, size), channels)], [y]))
            channels = size
            if kind == "fc":
                x = name("relu")
                nodes.append(helper.make_node("Relu", [y], [x]))
                x = activation(x, 8 / 255)
            else:
                x = y
        elif kind == "pool":
            y = name("pool")
            nodes.append(helper.make_node("MaxPool", [x], [y], kernel_shape=[2, 2], strides=[2, 2]))
            x = activation(y, 8 / 255)
        elif kind == "flatten":
            y = name("flat")
            nodes.append(helper.make_node("Flatten", [x], [y], axis=1))
            x = activation(y, 8 / 255)
            channels = channels * 4 * 4
    nodes.append(helper.make_node("Identity", [x], ["y"]))
    graph = helper.make_graph(
        nodes, "bnn_paper_net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *input_shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", channels])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    return model


def session(model, threads):
    """An ONNX Runtime CPU session of `model` on `threads` threads, all graph
    optimizations on (the QDQ fusion included)."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
