"""NumPy trainer for binarized neural networks (the paper's method), exporting .bnn files."""
