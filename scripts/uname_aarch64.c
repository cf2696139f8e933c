/* LD_PRELOAD shim for scripts/pi_test.sh: uname() reports machine "aarch64",
 * as on a Raspberry Pi 4 or 5 running 32-bit Raspberry Pi OS on its default
 * 64-bit kernel (so Python's platform.machine() says aarch64 while Python and
 * gcc are armhf). Build: gcc -shared -fPIC -o uname_aarch64.so uname_aarch64.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/utsname.h>

int uname(struct utsname *buf)
{
    int (*real_uname)(struct utsname *) = (int (*)(struct utsname *))dlsym(RTLD_NEXT, "uname");
    int rc = real_uname ? real_uname(buf) : -1;
    if (rc == 0)
        strcpy(buf->machine, "aarch64");
    return rc;
}
