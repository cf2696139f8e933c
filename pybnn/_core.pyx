# cython: boundscheck=False, wraparound=False
"""Thin wrappers over the C library (src/bnn.h).

Each wrapper checks dtypes, shapes and contiguity before any C call, releases
the GIL while C runs, and turns a C status into a Python exception in one
place (`_check`). Array memory is reached through the Python buffer protocol
(`_Pinned`), not the NumPy C API, so building needs no NumPy (a Raspberry Pi
would otherwise compile NumPy from source first); NumPy is used at run time
from Python only."""
import numpy as np

from cpython.buffer cimport PyBUF_C_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from libc.stdint cimport int8_t, int32_t, uint64_t

cdef extern from "bnn.h" nogil:
    ctypedef enum bnn_status:
        BNN_OK
        BNN_ERR_ARGUMENT
        BNN_ERR_NOMEM
        BNN_ERR_FORMAT
        BNN_ERR_IO
        BNN_ERR_SHAPE
        BNN_ERR_UNSUPPORTED
        BNN_ERR_THREAD
    const char *bnn_status_string(bnn_status status)
    const char *bnn_last_error()
    bnn_status bnn_bgemm(const uint64_t *a, const uint64_t *b, int32_t *c,
                         size_t m, size_t n, size_t k, int threads)
    ctypedef struct bnn_prepared_b:
        pass
    bnn_status bnn_prepare_b(const uint64_t *b, size_t n, size_t k, bnn_prepared_b **out)
    bnn_status bnn_bgemm_prepared(const uint64_t *a, const bnn_prepared_b *b, int32_t *c,
                                  size_t m, int threads)
    void bnn_prepared_b_free(bnn_prepared_b *b)
    int bnn_bgemm_threads(size_t m, size_t n, size_t k, int threads)
    bnn_status bnn_pack_f32(const float *x, size_t rows, size_t k, uint64_t *out)
    bnn_status bnn_pack_f64(const double *x, size_t rows, size_t k, uint64_t *out)
    bnn_status bnn_pack_i8(const int8_t *x, size_t rows, size_t k, uint64_t *out)
    bnn_status bnn_pack_i32(const int32_t *x, size_t rows, size_t k, uint64_t *out)
    bnn_status bnn_unpack_i8(const uint64_t *p, size_t rows, size_t k, int8_t *out)
    const char *bnn_isa()
    int bnn_available_isas(const char **names, int max_names)
    bnn_status bnn_select_isa(const char *name)
    int bnn_default_threads()


from pybnn.errors import FormatError


cdef object _check(bnn_status status):
    """Raise the Python exception for a C status (the one place that does)."""
    if status == BNN_OK:
        return None
    message = bnn_last_error().decode("utf-8", "replace") or bnn_status_string(status).decode()
    if status == BNN_ERR_FORMAT:
        raise FormatError(message)
    if status == BNN_ERR_IO:
        raise OSError(message)
    if status == BNN_ERR_NOMEM:
        raise MemoryError(message)
    if status == BNN_ERR_UNSUPPORTED:
        raise NotImplementedError(message)
    if status == BNN_ERR_THREAD:
        raise RuntimeError(message)
    raise ValueError(message)


cdef class _Pinned:
    """The memory of a C-contiguous array, held (buffer protocol) while C uses it.

    Callers check dtype and shape first (`_require`); this only exports the
    buffer, which fails for a non-contiguous or (when `writable`) read-only
    array. Works for empty arrays too (their pointer is never read)."""
    cdef Py_buffer view
    cdef bint held

    def __cinit__(self, array, bint writable=False):
        PyObject_GetBuffer(array, &self.view, PyBUF_C_CONTIGUOUS | (PyBUF_WRITABLE if writable else 0))
        self.held = True

    def __dealloc__(self):
        if self.held:
            PyBuffer_Release(&self.view)


def _require(array, name, dtype, ndim):
    """Check an array argument; return it unchanged (no silent copies)."""
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{name}: expected a numpy.ndarray of {np.dtype(dtype)}, "
                         f"got {type(array).__name__}")
    if array.dtype != dtype:
        raise ValueError(f"{name}: expected dtype {np.dtype(dtype)}, got {array.dtype}")
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {array.shape}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name}: expected a C-contiguous array, got strides {array.strides} "
                         f"(use numpy.ascontiguousarray)")
    return array


def _threads_arg(threads):
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise ValueError(f"threads: expected None or a positive int, got {threads!r}")
    if threads < 1:
        raise ValueError(f"threads: expected None or a positive int, got {threads}")
    return int(threads)


cdef object _empty_on_lines(tuple shape, dtype):
    """np.empty whose data starts on a 64-byte cache line. numpy aligns to 16
    bytes, and the kernels store and load whole 64-byte vectors from row
    starts: off a line, each of them touches two (5-8% of a bgemm on Zen 4).
    The address comes through the buffer protocol: numpy's .ctypes took 7 us,
    most of a small product's call."""
    dt = np.dtype(dtype)
    cdef Py_ssize_t size = dt.itemsize
    for extent in shape:
        size *= extent
    raw = np.empty(size + 64, dtype=np.uint8)
    cdef Py_buffer view
    PyObject_GetBuffer(raw, &view, PyBUF_C_CONTIGUOUS)
    cdef Py_ssize_t start = (64 - <Py_ssize_t>(<size_t>view.buf % 64)) % 64
    PyBuffer_Release(&view)
    return raw[start:start + size].view(dt).reshape(shape)


def _check_k(k):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k: expected a positive int (the number of bits), got {k!r}")
    return int(k)


cdef class PreparedB:
    """B (N rows of k bits, packed) prepared once for many bgemm calls; see
    pybnn.prepare_b. Holds its own copy: later changes to the array it came
    from do not reach it."""
    cdef bnn_prepared_b *ptr
    cdef readonly size_t n, k

    def __cinit__(self, b, k):
        self.ptr = NULL
        _require(b, "b", np.uint64, 2)
        self.k = _check_k(k)
        words = (self.k + 63) // 64
        if b.shape[1] != words or b.shape[0] == 0:
            raise ValueError(f"b: expected at least one row of {words} words for k={k}, "
                             f"got shape {b.shape}")
        self.n = b.shape[0]
        cdef _Pinned bv = _Pinned(b)
        cdef bnn_status status
        with nogil:
            status = bnn_prepare_b(<const uint64_t *>bv.view.buf, self.n, self.k, &self.ptr)
        _check(status)

    def __dealloc__(self):
        bnn_prepared_b_free(self.ptr)

    @property
    def words(self):
        """uint64 words per row: the width A's rows must have."""
        return (self.k + 63) // 64

    def __repr__(self):
        return f"PreparedB(n={self.n}, k={self.k})"

    def __reduce__(self):
        raise TypeError("PreparedB cannot be pickled: prepare the packed array where it is used")


def bgemm(a, b, k, threads=None, out=None):
    """C = A . B^T in +-1 arithmetic for packed rows; see pybnn.bgemm."""
    return _product(a, b, k, threads, 1, out)


cdef object _output(out, size_t m, size_t n, a, b):
    """`out` checked as bgemm's result, or (None) a new one on a cache line."""
    if out is None:
        return _empty_on_lines((m, n), np.int32)
    _require(out, "out", np.int32, 2)
    if out.shape != (m, n):
        raise ValueError(f"out: expected shape {(m, n)}, got {out.shape}")
    if not out.flags.writeable:
        raise ValueError("out: expected a writable array, got a read-only one")
    for other, name in ((a, "a"), (b, "b")):
        if other is not None and np.may_share_memory(out, other):
            raise ValueError(f"out: expected memory apart from {name}'s, got an array that may overlap it")
    return out


cdef object _product(a, b, k, threads, size_t reps, out):
    """Checks bgemm's arguments, then runs it `reps` times into one C."""
    _require(a, "a", np.uint64, 2)
    cdef int nthreads = _threads_arg(threads)
    cdef PreparedB prepared
    if isinstance(b, PreparedB):
        prepared = b
        if k is not None and _check_k(k) != prepared.k:
            raise ValueError(f"k: b was prepared for k={prepared.k}, got k={k}")
        if a.shape[1] != prepared.words:
            raise ValueError(f"a: expected {prepared.words} words per row for k={prepared.k}, "
                             f"got a.shape={a.shape}")
        return _bgemm_prepared(a, prepared, nthreads, reps,
                               _output(out, a.shape[0], prepared.n, a, None))
    _require(b, "b", np.uint64, 2)
    k = _check_k(k)
    words = (k + 63) // 64
    if a.shape[1] != words or b.shape[1] != words:
        raise ValueError(f"a and b: expected {words} words per row for k={k}, "
                         f"got a.shape={a.shape}, b.shape={b.shape}")
    return _bgemm_rows(a, b, k, nthreads, reps, _output(out, a.shape[0], b.shape[0], a, b))


cdef object _bgemm_rows(a, b, size_t k, int nthreads, size_t reps, c):
    """bnn_bgemm `reps` times into C (checked arguments)."""
    cdef size_t m = a.shape[0], n = b.shape[0], r
    cdef bnn_status status = BNN_OK
    if m == 0 or n == 0:
        return c
    cdef _Pinned av = _Pinned(a), bv = _Pinned(b), cv = _Pinned(c, True)
    with nogil:
        for r in range(reps):
            status = bnn_bgemm(<const uint64_t *>av.view.buf, <const uint64_t *>bv.view.buf,
                               <int32_t *>cv.view.buf, m, n, k, nthreads)
            if status != BNN_OK:
                break
    _check(status)
    return c


cdef object _bgemm_prepared(a, PreparedB b, int nthreads, size_t reps, c):
    """bnn_bgemm_prepared `reps` times into C (checked arguments)."""
    cdef size_t m = a.shape[0], r
    cdef bnn_status status = BNN_OK
    if m == 0:
        return c
    cdef _Pinned av = _Pinned(a), cv = _Pinned(c, True)
    with nogil:
        for r in range(reps):
            status = bnn_bgemm_prepared(<const uint64_t *>av.view.buf, b.ptr,
                                        <int32_t *>cv.view.buf, m, nthreads)
            if status != BNN_OK:
                break
    _check(status)
    return c


def bgemm_threads(size_t m, size_t n, size_t k, threads=None):
    """Threads a bgemm of this shape runs on when given `threads` (None: all):
    fewer for small products (bnn_bgemm_threads)."""
    return bnn_bgemm_threads(m, n, k, _threads_arg(threads))


def bgemm_repeat(a, b, k, threads, size_t reps, out=None):
    """Benchmark only (scripts/bench_bgemm.py): bgemm(a, b, k, threads) `reps`
    times from C in one call, so a small product is timed as a C caller sees
    it, without Python's per-call overhead; returns the product. `b` may be
    a PreparedB."""
    if reps < 1:
        raise ValueError(f"reps: expected a positive int, got {reps}")
    return _product(a, b, k, threads, reps, out)


def pack_rows(x):
    """Pack a C-contiguous 2-D array (rows, k) into (rows, ceil(k/64)) words."""
    if not isinstance(x, np.ndarray) or x.ndim != 2 or not x.flags.c_contiguous:
        raise ValueError("pack_rows: expected a C-contiguous 2-D numpy array")
    cdef size_t rows = x.shape[0], k = x.shape[1]
    cdef int kind
    cdef bnn_status status
    if x.dtype == np.float32:
        kind = 0
    elif x.dtype == np.float64:
        kind = 1
    elif x.dtype == np.int8:
        kind = 2
    elif x.dtype == np.int32:
        kind = 3
    else:
        raise ValueError(f"pack_bits: expected dtype float32, float64, int8 or int32, "
                         f"got {x.dtype}")
    out = _empty_on_lines((rows, (k + 63) // 64), np.uint64)
    cdef _Pinned xv = _Pinned(x), outv = _Pinned(out, True)
    cdef const void *src = xv.view.buf
    cdef uint64_t *dst = <uint64_t *>outv.view.buf
    with nogil:
        if kind == 0:
            status = bnn_pack_f32(<const float *>src, rows, k, dst)
        elif kind == 1:
            status = bnn_pack_f64(<const double *>src, rows, k, dst)
        elif kind == 2:
            status = bnn_pack_i8(<const int8_t *>src, rows, k, dst)
        else:
            status = bnn_pack_i32(<const int32_t *>src, rows, k, dst)
    _check(status)
    return out


def unpack_rows(p, k):
    """Unpack (rows, ceil(k/64)) words into a (rows, k) int8 array of +-1."""
    _require(p, "p", np.uint64, 2)
    cdef size_t rows = p.shape[0], kk = k
    out = np.empty((rows, k), dtype=np.int8)
    cdef _Pinned pv = _Pinned(p), outv = _Pinned(out, True)
    cdef const uint64_t *src = <const uint64_t *>pv.view.buf
    cdef int8_t *dst = <int8_t *>outv.view.buf
    cdef bnn_status status
    with nogil:
        status = bnn_unpack_i8(src, rows, kk, dst)
    _check(status)
    return out


def isa():
    return bnn_isa().decode()


def available_isas():
    cdef const char *names[16]
    cdef int count = bnn_available_isas(names, 16)
    return [names[i].decode() for i in range(min(count, 16))]


def select_isa(name):
    """Force a kernel set: for tests and benchmarks only ("ref" = the oracle)."""
    _check(bnn_select_isa(name.encode()))


def default_threads():
    return bnn_default_threads()


cdef extern from "common/parallel.h" nogil:
    int bnn_pool_helpers()


def pool_helpers():
    """Helper threads the thread pool has started (0 until the first parallel
    call of this process; a forked child starts its own). For tests."""
    return bnn_pool_helpers()


# ---- benchmark only (scripts/bench_bgemm.py) ---------------------------------

cdef extern from "cpu/kernels/kernels.h" nogil:
    int BNN_ROOFLINE_WORDS_MULTIPLE
    bnn_status bnn_roofline_xor_popcount(const char *isa, const uint64_t *a, const uint64_t *b,
                                         size_t words, size_t reps, uint64_t *count)

    ctypedef struct bnn_roofline_form:
        const char *name
        uint64_t (*run)(size_t reps) noexcept nogil
        uint64_t ops_per_rep
    int bnn_roofline_alu_forms(const char *isa, const bnn_roofline_form **forms)
    int bnn_roofline_int8_forms(const char *isa, const bnn_roofline_form **forms)

ROOFLINE_WORDS_MULTIPLE = BNN_ROOFLINE_WORDS_MULTIPLE
ROOFLINE_KINDS = ("binary", "int8")


cdef int _roofline_forms(isa_name, kind, const bnn_roofline_form **forms) except -1:
    if kind not in ROOFLINE_KINDS:
        raise ValueError(f"kind: expected one of {ROOFLINE_KINDS}, got {kind!r}")
    name = isa_name.encode()
    if kind == "binary":
        return bnn_roofline_alu_forms(name, forms)
    return bnn_roofline_int8_forms(name, forms)


def roofline_alu_forms(isa_name, kind="binary"):
    """Benchmark only: the ALU ceiling forms of kernel set `isa_name` as a
    list of (name, ops per rep); empty when the set has none or is not
    usable. kind "binary": XOR + popcount + accumulate on registers, ops
    being bit-ops (binary MACs); "int8": the byte multiply-accumulate of
    the set's ISA (VNNI where it has it), ops being int8 MACs: the ceiling
    of an int8 network on this core."""
    cdef const bnn_roofline_form *forms = NULL
    cdef int count = _roofline_forms(isa_name, kind, &forms)
    return [(forms[i].name.decode(), forms[i].ops_per_rep) for i in range(count)]


def roofline_alu(isa_name, form, reps, kind="binary"):
    """Benchmark only: run ALU ceiling form number `form` (of `kind`, as in
    roofline_alu_forms) of kernel set `isa_name` for `reps` reps (reps * ops
    per rep of work, GIL released); returns a total that depends on all of
    it."""
    cdef const bnn_roofline_form *forms = NULL
    cdef int count = _roofline_forms(isa_name, kind, &forms)
    if isinstance(form, bool) or not isinstance(form, (int, np.integer)) or not 0 <= form < count:
        raise ValueError(f"form: expected an int in [0, {count}) for kernel set {isa_name!r}, got {form!r}")
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps: expected a positive int, got {reps!r}")
    cdef size_t nreps = reps, index = form
    cdef uint64_t count_out
    with nogil:
        count_out = forms[index].run(nreps)
    return count_out


def roofline_xor_popcount(isa_name, a, b, reps):
    """Benchmark only: XOR + popcount + accumulate of two equal 1-D uint64
    arrays (length a multiple of ROOFLINE_WORDS_MULTIPLE), `reps` times, with
    kernel set `isa_name`'s streaming kernel; returns the total popcount. The
    caller times it; the GIL is released, so threads can run it side by side."""
    _require(a, "a", np.uint64, 1)
    _require(b, "b", np.uint64, 1)
    if a.shape != b.shape:
        raise ValueError(f"a and b: expected the same shape, got {a.shape} and {b.shape}")
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps: expected a positive int, got {reps!r}")
    name = isa_name.encode()
    cdef const char *cname = name
    cdef _Pinned av = _Pinned(a), bv = _Pinned(b)
    cdef const uint64_t *pa = <const uint64_t *>av.view.buf
    cdef const uint64_t *pb = <const uint64_t *>bv.view.buf
    cdef size_t words = a.shape[0], nreps = reps
    cdef uint64_t count = 0
    cdef bnn_status status
    with nogil:
        status = bnn_roofline_xor_popcount(cname, pa, pb, words, nreps, &count)
    _check(status)
    return count


# ---- models (src/bnn.h, docs/FORMAT.md) -------------------------------------

cdef extern from "bnn.h" nogil:
    ctypedef struct bnn_model:
        pass
    bnn_status bnn_model_load_file(const char *path, bnn_model **out)
    bnn_status bnn_model_load_memory(const void *data, size_t size, bnn_model **out)
    void bnn_model_free(bnn_model *model)
    size_t bnn_model_input_rank(const bnn_model *model)
    void bnn_model_input_dims(const bnn_model *model, size_t dims[3])
    size_t bnn_model_input_size(const bnn_model *model)
    size_t bnn_model_num_classes(const bnn_model *model)
    void bnn_model_set_threads(bnn_model *model, int threads)
    bnn_status bnn_model_run(const bnn_model *model, const unsigned char *input, size_t batch,
                             float *scores, int threads)
    uint64_t bnn_model_workspace_bytes(const bnn_model *model, size_t batch)
    void bnn_model_set_workspace_limit(bnn_model *model, uint64_t bytes)
    bnn_status bnn_model_workspace_limit(const bnn_model *model, uint64_t *out)


cdef class CModel:
    """A .bnn model loaded and validated by the C reader (thin: see pybnn.model).

    CModel(source): source is a path (str or os.PathLike; the file is
    memory-mapped) or bytes-like data (copied). Malformed data raises
    FormatError naming the field; an unreadable file raises OSError.
    """
    cdef bnn_model *model
    cdef int default_threads

    def __cinit__(self, source):
        cdef bnn_model *m = NULL
        cdef bnn_status status
        cdef const unsigned char[::1] view
        cdef bytes path
        cdef const char *cpath
        cdef size_t size
        self.model = NULL
        self.default_threads = 0
        if isinstance(source, (bytes, bytearray, memoryview)):
            view = memoryview(source).cast("B")
            size = view.shape[0]
            with nogil:
                status = bnn_model_load_memory(&view[0] if size else NULL, size, &m)
        else:
            import os
            try:
                path = os.fsencode(source)
            except TypeError:
                raise TypeError(f"expected a path or bytes, got {type(source).__name__}") from None
            cpath = path
            with nogil:
                status = bnn_model_load_file(cpath, &m)
        _check(status)
        self.model = m

    def __dealloc__(self):
        if self.model != NULL:
            bnn_model_free(self.model)
            self.model = NULL

    @property
    def input_rank(self):
        return bnn_model_input_rank(self.model)

    @property
    def input_dims(self):
        cdef size_t dims[3]
        cdef size_t rank = bnn_model_input_rank(self.model)
        bnn_model_input_dims(self.model, dims)
        return tuple(int(dims[i]) for i in range(rank))

    @property
    def input_size(self):
        return bnn_model_input_size(self.model)

    @property
    def num_classes(self):
        return bnn_model_num_classes(self.model)

    @property
    def threads(self):
        """Default thread count for run (None: every CPU this process may use)."""
        return self.default_threads or None

    def set_threads(self, threads):
        cdef int n = _threads_arg(threads)
        self.default_threads = n
        bnn_model_set_threads(self.model, n)

    def workspace_bytes(self, batch):
        """Bytes of working memory a run of `batch` samples allocates."""
        if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 0:
            raise ValueError(f"batch: expected a non-negative int, got {batch!r}")
        return int(bnn_model_workspace_bytes(self.model, <size_t>batch))

    @property
    def workspace_limit(self):
        """Bytes a run may allocate; a run needing more raises MemoryError first."""
        cdef uint64_t limit = 0
        _check(bnn_model_workspace_limit(self.model, &limit))
        return int(limit)

    def set_workspace_limit(self, limit):
        """limit: bytes (a positive int), or None for the default."""
        if limit is not None and (isinstance(limit, bool) or
                                  not isinstance(limit, (int, np.integer)) or
                                  not 0 < limit < 2**64):
            raise ValueError(f"workspace_limit: expected None or a positive number of bytes, "
                             f"got {limit!r}")
        bnn_model_set_workspace_limit(self.model, 0 if limit is None else <uint64_t>limit)

    def run(self, x, threads=None):
        """float32 scores (N, num_classes) for uint8 x of shape (N, input_size), C-contiguous."""
        _require(x, "x", np.uint8, 2)
        cdef size_t size = bnn_model_input_size(self.model)
        if <size_t>x.shape[1] != size:
            raise ValueError(f"x: expected {size} uint8 values per sample (shape (N, {size})), "
                             f"got shape {x.shape}")
        cdef int nthreads = _threads_arg(threads)
        cdef size_t batch = x.shape[0]
        scores = np.empty((batch, bnn_model_num_classes(self.model)), dtype=np.float32)
        cdef _Pinned xv = _Pinned(x), sv = _Pinned(scores, True)
        cdef const unsigned char *src = <const unsigned char *>xv.view.buf
        cdef float *dst = <float *>sv.view.buf
        cdef bnn_status status
        with nogil:
            status = bnn_model_run(self.model, src, batch, dst, nthreads)
        _check(status)
        return scores


# ---- the validated graph, for backends other than the C engine -------------

cdef extern from "format/graph.h" nogil:
    ctypedef struct bnn_act_shape:
        int domain
        unsigned rank
        size_t h, w, c
    ctypedef struct bnn_layer:
        unsigned type
        bnn_act_shape in_ "in"
        bnn_act_shape out
        size_t units, kh, kw, sh, sw
        int same, pad_zero
        size_t pad_top, pad_left, k, row_words
        const uint64_t *weights
        const int32_t *thresholds
        const unsigned char *flip
        const float *scale
        const float *bias
    ctypedef struct bnn_graph:
        unsigned n_layers
        bnn_layer *layers
        bnn_act_shape input
        size_t input_size, num_classes
    bnn_status bnn_graph_read(bnn_graph *g, const unsigned char *data, size_t size)
    void bnn_graph_release(bnn_graph *g)
    const char *bnn_layer_type_name(unsigned type)

_DOMAINS = ("u8", "int", "bits", "scores")


cdef tuple _shape(bnn_act_shape s):
    return (int(s.h), int(s.w), int(s.c)) if s.rank == 3 else (int(s.c),)


cdef object _copy(const void *p, size_t nbytes, dtype, shape):
    """A read-only NumPy copy of a tensor that lies in the graph's bytes."""
    if p == NULL:
        return None
    arr = np.frombuffer((<const char *>p)[:nbytes], dtype=dtype).reshape(shape)
    arr.flags.writeable = False
    return arr


def read_graph(data):
    """Validate .bnn bytes with the C reader (src/format/) and return the
    graph as plain values: (input_shape, input_size, num_classes, layers),
    each layer a dict of its fields and its tensors as read-only NumPy
    copies in the file's layout. pybnn.backends.graph wraps this."""
    cdef const unsigned char[::1] view = memoryview(data).cast("B")
    cdef size_t size = view.shape[0]
    cdef bnn_graph g
    cdef bnn_status status
    cdef const unsigned char *p = &view[0] if size else <const unsigned char *>b""
    with nogil:
        status = bnn_graph_read(&g, p, size)
    _check(status)
    cdef const bnn_layer *l
    cdef size_t wc
    try:
        layers = []
        for i in range(g.n_layers):
            l = &g.layers[i]
            kind = bnn_layer_type_name(l.type).decode()
            tensors = {}
            if l.weights != NULL:
                wc = (l.in_.c + 63) // 64
                if kind in ("dense", "first_dense"):
                    shape = (int(l.units), int(l.row_words))
                else:
                    shape = (int(l.units), int(l.kh), int(l.kw), int(wc))
                tensors["weights"] = _copy(l.weights, l.units * l.row_words * 8, "<u8", shape)
            if l.thresholds != NULL:
                tensors["thresholds"] = _copy(l.thresholds, l.in_.c * 4, "<i4", (l.in_.c,))
                tensors["flip"] = _copy(l.flip, l.in_.c, "u1", (l.in_.c,))
            if l.scale != NULL:
                tensors["scale"] = _copy(l.scale, l.in_.c * 4, "<f4", (l.in_.c,))
                tensors["bias"] = _copy(l.bias, l.in_.c * 4, "<f4", (l.in_.c,))
            layers.append(dict(
                index=i, kind=kind,
                in_domain=_DOMAINS[l.in_.domain], in_shape=_shape(l.in_),
                out_domain=_DOMAINS[l.out.domain], out_shape=_shape(l.out),
                units=int(l.units), kernel=(int(l.kh), int(l.kw)), stride=(int(l.sh), int(l.sw)),
                padding="same" if l.same else "valid", pad_value="zero" if l.pad_zero else "one",
                pad=(int(l.pad_top), int(l.pad_left)), k=int(l.k), tensors=tensors))
        return _shape(g.input), int(g.input_size), int(g.num_classes), layers
    finally:
        bnn_graph_release(&g)
