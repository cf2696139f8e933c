"""The layers of a saved Keras 2 model config (JSON), in order.

A Sequential model lists its layers in order. A functional model lists layers
with their inbound nodes; only linear graphs (one input, one output, every
layer fed by the one before) are accepted, since a .bnn model is a sequence.
"""
from dataclasses import dataclass, field


@dataclass
class KerasLayer:
    name: str
    cls: str  # the Keras class name, e.g. "QuantConv2D"
    config: dict
    weights: dict = field(default_factory=dict)  # role ("kernel", "gamma", ...) -> ndarray

    @property
    def label(self):
        return f"layer '{self.name}' ({self.cls})"


MERGE_LAYERS = ("Add", "Concatenate", "Multiply", "Average", "Subtract", "Maximum", "Minimum")
NESTED_MODELS = ("Sequential", "Functional", "Model")


def model_layers(model_config):
    """(input_shape, [KerasLayer]) of a model config dict ({"class_name", "config"})."""
    if not isinstance(model_config, dict) or "class_name" not in model_config:
        raise ValueError("the model config is not a Keras model config (no 'class_name')")
    cls, cfg = model_config["class_name"], model_config.get("config") or {}
    if cls == "Sequential":
        entries = list(cfg.get("layers") or [])
        input_shape = None
        if entries and entries[0].get("class_name") == "InputLayer":
            input_shape = entries.pop(0)["config"].get("batch_input_shape")
        layers = [_layer(e) for e in entries]
        if input_shape is None and layers:
            input_shape = layers[0].config.get("batch_input_shape")
    elif cls in ("Functional", "Model"):
        input_shape, layers = _linear_functional(cfg)
    else:
        raise ValueError(f"the saved model is a {cls}: expected a Sequential or functional "
                         f"Keras model (a subclassed model cannot be read from its config)")
    if not layers:
        raise ValueError("the model has no layers")
    if not input_shape or any(d is None for d in input_shape[1:]):
        raise ValueError(f"the model's input shape is not fully known ({input_shape}); "
                         f"build it with a fixed input shape, e.g. input_shape=(28, 28, 1)")
    for layer in layers:
        if layer.cls in NESTED_MODELS:
            raise ValueError(f"{layer.label}: nested models are not supported; "
                             f"build one flat Sequential or functional model")
    return tuple(int(d) for d in input_shape[1:]), layers


def _layer(entry):
    cfg = entry.get("config") or {}
    return KerasLayer(name=cfg.get("name") or entry.get("name") or "?", cls=entry["class_name"],
                      config=cfg)


def _sources(entry):
    """The names of the layers feeding `entry` (Keras 2 inbound_nodes)."""
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise ValueError(f"layer '{entry.get('name')}' ({entry['class_name']}) is called "
                         f"{len(nodes)} times (a shared layer); only linear graphs are supported")
    if not nodes:
        return []
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3 style {"args": [...]} nodes
        raise ValueError("the config uses Keras 3 inbound nodes; larq models are Keras 2 "
                         "(tf-keras) models: save them with TF_USE_LEGACY_KERAS=1")
    return [t[0] for t in node]


def _linear_functional(cfg):
    entries = {e.get("name") or e["config"]["name"]: e for e in cfg.get("layers") or []}
    inputs, outputs = cfg.get("input_layers") or [], cfg.get("output_layers") or []
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"the model has {len(inputs)} inputs and {len(outputs)} outputs: "
                         f"only one of each is supported")
    # Walk backwards from the output: every layer must have exactly one source.
    chain, name = [], outputs[0][0]
    while True:
        entry = entries.get(name)
        if entry is None:
            raise ValueError(f"the config names a layer '{name}' it does not define")
        if entry["class_name"] == "InputLayer":
            input_shape = entry["config"].get("batch_input_shape")
            break
        srcs = _sources(entry)
        if len(srcs) != 1:
            why = ("residual shortcuts and concatenations (as in Bi-Real Net) are not supported"
                   if entry["class_name"] in MERGE_LAYERS else "only linear graphs are supported")
            raise ValueError(f"layer '{name}' ({entry['class_name']}) has {len(srcs)} inputs: {why}")
        chain.append(entry)
        name = srcs[0]
        if len(chain) > len(entries):
            raise ValueError("the layer graph has a cycle")
    if name != inputs[0][0]:
        raise ValueError(f"the output does not come from the model's input '{inputs[0][0]}'")
    unused = set(entries) - {e.get("name") or e["config"]["name"] for e in chain} - {name}
    if unused:
        raise ValueError(f"layers {sorted(unused)} are not on the path from input to output: "
                         f"only linear graphs are supported")
    return input_shape, [_layer(e) for e in reversed(chain)]
