# clang_env.sh - sourced by fuzz.sh and sanitize.sh: sets CC to a clang that
# has its sanitizer and libFuzzer runtimes, installing Debian's clang and
# libclang-rt-NN-dev when root and missing; else says which package to get.
clang_rt_ok() { # does $1 link a libFuzzer + ASan program?
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' |
        "$1" -fsanitize=fuzzer,address,undefined -x c - -o /dev/null 2>/dev/null
}
CC=${CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1 || ! clang_rt_ok "$CC"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        version=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9]*\).*/\1/p' | head -n 1)
        echo "== installing clang ${version:+and libclang-rt-$version-dev} (sanitizers, libFuzzer)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang ${version:+libclang-rt-$version-dev} >/dev/null
    fi
    if ! command -v "$CC" >/dev/null 2>&1 || ! clang_rt_ok "$CC"; then
        echo "$0: needs clang with its sanitizer runtime: apt-get install clang libclang-rt-14-dev" \
            "(Debian bookworm; libclang-rt-NN-dev matching clang-NN elsewhere)" >&2
        exit 1
    fi
fi
