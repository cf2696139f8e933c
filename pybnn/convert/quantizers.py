"""larq quantizers as a .bnn model sees them at inference.

`ste_sign`, `approx_sign` and `swish_sign` differ only in their training
gradients: at inference each is larq's sign, sign(x) = +1 for x >= 0 (0 and
-0.0 included), -1 otherwise, which is the .bnn convention. As a weight
quantizer, `magnitude_aware_sign` is sign(w) times the mean |w| of each output
channel, a per-channel scale folded into what follows. Everything else
(ternary, 0/1, k-bit, identity) has no .bnn equivalent.
"""
SIGN = "sign"
MAGNITUDE_AWARE_SIGN = "magnitude_aware_sign"

SIGN_NAMES = {"ste_sign", "approx_sign", "swish_sign", "stesign", "approxsign", "swishsign"}
_MAGNITUDE_NAMES = {"magnitude_aware_sign", "magnitudeawaresign"}
_WHY_NOT = {
    "ste_tern": "ternary", "stetern": "ternary",
    "ste_heaviside": "0/1 (Heaviside)", "steheaviside": "0/1 (Heaviside)",
    "dorefa_quantizer": "k-bit (DoReFa)", "dorefaquantizer": "k-bit (DoReFa)", "dorefa": "k-bit (DoReFa)",
    "noop": "identity (real values)", "no_op": "identity (real values)",
    "noopquantizer": "identity (real values)",
}


def quantizer_name(value):
    """The quantizer's name as saved (a string, or the class of a serialized object), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("class_name") or (value.get("config") or {}).get("name") or "?"
    return type(value).__name__


def classify(value, label, option, allow_magnitude):
    """SIGN, MAGNITUDE_AWARE_SIGN or None (no quantizer); anything else raises, naming
    the layer (`label`), the option and the quantizer."""
    name = quantizer_name(value)
    if name is None:
        return None
    key = name.lower()
    if key in SIGN_NAMES:
        return SIGN
    if key in _MAGNITUDE_NAMES:
        if allow_magnitude:
            return MAGNITUDE_AWARE_SIGN
        raise ValueError(f"{label}: {option}={name} is not supported (its scale depends on the "
                         f"whole batch); use ste_sign, approx_sign or swish_sign for activations")
    kind = _WHY_NOT.get(key, "not a sign at inference")
    raise ValueError(f"{label}: {option}={name} is not supported ({kind}); a .bnn model needs "
                     f"sign-like quantizers: ste_sign, approx_sign, swish_sign"
                     + (" or magnitude_aware_sign" if allow_magnitude else ""))


def is_quantizer_class(cls):
    """True for larq quantizer classes (which are also Keras layers)."""
    key = cls.lower()
    return key in SIGN_NAMES or key in _MAGNITUDE_NAMES or key in _WHY_NOT
