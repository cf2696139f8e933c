"""What the Keras/larq layer configs mean to the converter: the class groups, the
hints for unsupported classes, and the option checks of single layers."""
import numpy as np

from . import quantizers as Q

QUANT_LAYERS = ("QuantConv2D", "QuantDense")
PASS_THROUGH = ("Dropout", "SpatialDropout2D", "GaussianDropout", "AlphaDropout", "GaussianNoise",
                "ActivityRegularization")
POOLS = ("MaxPooling2D", "MaxPool2D")
HINTS = {
    "Conv2D": "a real-valued conv: use larq's QuantConv2D with kernel_quantizer='ste_sign'",
    "Dense": "a real-valued dense layer: use larq's QuantDense with kernel_quantizer='ste_sign' "
             "(the last layer too)",
    "DepthwiseConv2D": "depthwise convolutions have no .bnn equivalent",
    "QuantDepthwiseConv2D": "depthwise convolutions have no .bnn equivalent",
    "SeparableConv2D": "separable convolutions have no .bnn equivalent",
    "QuantSeparableConv2D": "separable convolutions have no .bnn equivalent",
    "AveragePooling2D": "average pooling has no .bnn equivalent: use MaxPool2D or a strided conv",
    "GlobalAveragePooling2D": "average pooling has no .bnn equivalent: use Flatten, "
                              "MaxPool2D or a strided conv",
    "Add": "residual shortcuts (as in Bi-Real Net) have no .bnn equivalent",
    "Concatenate": "concatenations have no .bnn equivalent",
    "LayerNormalization": "only BatchNormalization folds into thresholds",
    "Reshape": "only Flatten (channels_last) is supported",
}


def pair(v):
    return (int(v), int(v)) if isinstance(v, (int, float)) else (int(v[0]), int(v[1]))


def check_channels_last(k):
    fmt = k.config.get("data_format") or "channels_last"
    if fmt != "channels_last":
        raise ValueError(f"{k.label}: data_format='{fmt}' is not supported (channels_last only)")


def takes_sign(k):
    """True when Keras layer k starts by taking the sign of its input (no error raised here:
    the layer's own conversion names what is wrong with it)."""
    if Q.is_quantizer_class(k.cls):
        return Q.quantizer_name(k.cls).lower() in Q.SIGN_NAMES
    if k.cls in QUANT_LAYERS:
        return (Q.quantizer_name(k.config.get("input_quantizer")) or "").lower() in Q.SIGN_NAMES
    return False


def weight(k, role):
    if role not in k.weights:
        raise ValueError(f"{k.label}: the file has no '{role}' weights for it")
    return np.asarray(k.weights[role])


def check_quant_options(k):
    cfg = k.config
    act = cfg.get("activation") or "linear"
    if act != "linear":
        raise ValueError(f"{k.label}: activation='{act}' is not supported: a binary layer's "
                         f"output may only go through batch-norm, max-pooling and the next sign")
    if k.cls == "QuantConv2D":
        check_channels_last(k)
        if tuple(pair(cfg.get("dilation_rate", 1))) != (1, 1):
            raise ValueError(f"{k.label}: dilation_rate={cfg['dilation_rate']} is not supported")
        if int(cfg.get("groups", 1)) != 1:
            raise ValueError(f"{k.label}: groups={cfg['groups']} (grouped convolution) is not "
                             f"supported")
