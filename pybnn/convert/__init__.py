"""Import binarized networks trained elsewhere: larq (Keras) models -> .bnn.

    spec = pybnn.convert.from_keras("model.h5")           # or a .keras file
    pybnn.format.write("model.bnn", spec)

Reads the saved file with h5py only (`pip install 'pybnn[convert]'`);
TensorFlow and larq are not needed. docs/CONVERT.md lists what is supported.
"""
import zipfile

from .keras_file import load_keras
from .larq_walk import Conversion, walk

__all__ = ["Conversion", "convert_keras", "from_keras"]


def convert_keras(path, input_scale=None, input_offset=None):
    """The Conversion (spec, notes, where larq's hidden signs are) of a larq Keras model.

    input_scale, input_offset: the model was fed x_uint8 * input_scale + input_offset
    (before any Rescaling layer of its own); needed when the model has no Rescaling.
    """
    try:
        input_shape, layers = load_keras(str(path))
        return walk(input_shape, layers, input_scale, input_offset)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    except (OSError, KeyError, zipfile.BadZipFile) as exc:  # h5py and zipfile on damaged files
        raise ValueError(f"{path}: cannot be read as a Keras model ({exc})") from None


def from_keras(path, input_scale=None, input_offset=None):
    """The pybnn.format.ModelSpec of a larq Keras model saved as .h5 or .keras."""
    return convert_keras(path, input_scale, input_offset).spec
