"""A clear message when pybnn is imported from its source tree, where the
compiled core (pybnn._core) is not built: Python puts the current folder
first on sys.path, so `python -c "import pybnn"` run in a checkout finds the
sources instead of the installed package (NumPy says the same of its own
tree)."""
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def check_core_importable():
    if importlib.util.find_spec("pybnn._core") is not None:
        return
    checkout = os.path.dirname(HERE)
    if os.path.exists(os.path.join(checkout, "setup.py")) and \
            os.path.exists(os.path.join(checkout, "src", "bnn.h")):
        raise ImportError(
            f"pybnn is being imported from its source tree ({HERE}), where its compiled "
            f"core is not built. Run Python from another folder to use the installed pybnn "
            f"(`pip install .` installs it), or build the core in place with "
            f"`python setup.py build_ext --inplace`.")
    raise ImportError(f"pybnn's compiled core (pybnn._core) is missing from {HERE}: "
                      f"reinstall pybnn (`pip install --force-reinstall pybnn`)")
