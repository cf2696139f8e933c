"""im2col / col2im for channels-last (NHWC) convolution, and the layers' output shapes.

A column row holds one output position's receptive field in (kh, kw, C)
order, the order of the engine's conv weights (units, kh, kw, C), so a
convolution is one BLAS matmul: cols (N*H'*W', kh*kw*C) @ W (kh*kw*C, units).

The geometry is docs/FORMAT.md's, computed by pybnn.format.shapes.conv_geometry
(the engine's checks use the same function): `valid`: H' = (H - kh) // sh + 1;
`same` (as TensorFlow): H' = ceil(H / sh), total padding
max((H' - 1)*sh + kh - H, 0), of which total // 2 before, the rest after.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..format.shapes import conv_geometry  # the one definition, shared with the engine's checks


def output_shape(shape_hwc, kernel, stride, padding, units=None):
    """(H', W', C') of a conv (units given) or pool (units None) on (H, W, C)."""
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    h, w, c = shape_hwc
    oh = conv_geometry(h, kernel[0], stride[0], padding)[0]
    ow = conv_geometry(w, kernel[1], stride[1], padding)[0]
    if oh < 1 or ow < 1:
        raise ValueError(f"{padding} convolution/pooling: kernel {tuple(kernel)} is larger than "
                         f"the input {(h, w)}")
    return oh, ow, c if units is None else units


def pad_nhwc(x, kernel, stride, padding, value=0.0):
    """x padded for a conv of `kernel`/`stride`/`padding` with `value`; plus the pad amounts."""
    n, h, w, c = x.shape
    _, top, bottom = conv_geometry(h, kernel[0], stride[0], padding)
    _, left, right = conv_geometry(w, kernel[1], stride[1], padding)
    if top == bottom == left == right == 0:
        return x, (0, 0, 0, 0)
    out = np.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
    out[:, top:top + h, left:left + w, :] = x
    return out, (top, bottom, left, right)


def windows(xp, kernel, stride, out_hw):
    """A read-only strided view (N, H', W', kh, kw, C) of the padded input's windows."""
    n, _, _, c = xp.shape
    s0, s1, s2, s3 = xp.strides
    shape = (n, out_hw[0], out_hw[1], kernel[0], kernel[1], c)
    strides = (s0, s1 * stride[0], s2 * stride[1], s1, s2, s3)
    return as_strided(xp, shape=shape, strides=strides, writeable=False)


def im2col(x, kernel, stride, padding, pad_value=0.0):
    """Columns (N*H'*W', kh*kw*C) of NHWC `x` and the output (H', W')."""
    xp, _ = pad_nhwc(x, kernel, stride, padding, pad_value)
    n, h, w, c = x.shape
    oh, ow, _ = output_shape((h, w, c), kernel, stride, padding)
    cols = windows(np.ascontiguousarray(xp), kernel, stride, (oh, ow))
    return cols.reshape(n * oh * ow, kernel[0] * kernel[1] * c), (oh, ow)


def col2im(cols, x_shape, kernel, stride, padding):
    """The adjoint of im2col: sum column gradients back onto an NHWC array of `x_shape`."""
    n, h, w, c = x_shape
    kh, kw = kernel
    sh, sw = stride
    oh, ow, _ = output_shape((h, w, c), kernel, stride, padding)
    _, top, bottom = conv_geometry(h, kh, sh, padding)
    _, left, right = conv_geometry(w, kw, sw, padding)
    g = cols.reshape(n, oh, ow, kh, kw, c)
    dxp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += g[:, :, :, i, j, :]
    return dxp[:, top:top + h, left:left + w, :]
