/* op_first_conv.c - first_conv: uint8 (H, W, C) -> int (H', W', units) as
 * im2col (im2col.c) + u8gemm. A patch is K = kh*kw*C bytes in (i, j, c)
 * order, the K order of the weight panel (op_first_layer.c); out-of-image
 * taps are pixel value 0, which contributes nothing, as `same` padding of
 * the first layer requires. The patches and the product, tile by tile:
 * bnn_conv_run (op_gemm.c). */
#include "cpu/ops/ops.h"

const bnn_op bnn_op_first_conv = {.prepare = bnn_first_layer_prepare, .scratch = bnn_conv_scratch,
                                  .run = bnn_conv_run};
