/* errors.h - internal: set the thread's last error message and return a status. */
#ifndef PYBNN_ERRORS_H
#define PYBNN_ERRORS_H

#include "bnn.h"

/* printf-style; returns `status` so callers can `return bnn_fail(...)`. */
bnn_status bnn_fail(bnn_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
