/* errors.c - status strings and the per-thread last error message. */
#include <stdarg.h>
#include <stdio.h>

#include "common/errors.h"

#if defined(__GNUC__)
#define BNN_THREAD_LOCAL __thread
#else
#define BNN_THREAD_LOCAL _Thread_local
#endif

static BNN_THREAD_LOCAL char last_error[512];

const char *bnn_status_string(bnn_status status)
{
    switch (status) {
    case BNN_OK: return "ok";
    case BNN_ERR_ARGUMENT: return "invalid argument";
    case BNN_ERR_NOMEM: return "out of memory";
    case BNN_ERR_FORMAT: return "malformed .bnn data";
    case BNN_ERR_IO: return "i/o error";
    case BNN_ERR_SHAPE: return "shape mismatch";
    case BNN_ERR_UNSUPPORTED: return "unsupported";
    case BNN_ERR_THREAD: return "thread creation failed";
    }
    return "unknown status";
}

const char *bnn_last_error(void) { return last_error; }

bnn_status bnn_fail(bnn_status status, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    return status;
}
