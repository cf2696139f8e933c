#!/usr/bin/env bash
# Installs pybnn on emulated Raspberry Pi OS userlands, as a Pi user would.
#
#   sudo bash scripts/pi_test.sh [arm64|armhf|all] [--variant NAME] [--roots-only]
#
# Raspberry Pi OS 64-bit and 32-bit are Debian bookworm arm64 and armhf
# userlands, so this makes those root filesystems with debootstrap, runs them
# under qemu-user through binfmt_misc, and in each one:
#   1. runs the install commands of README.md's "Raspberry Pi" section (the
#      block between the pi-install markers; `sudo ` dropped, `./pybnn`
#      replaced by the sdist that `python -m build --sdist` made from this tree)
#      in a fresh root, timing them;
#   2. runs `pybnn info`, `pybnn demo` and pytest (not `slow`) on this tree's
#      tests/ (a copy of the working tree; the source-tree-only sdist test and
#      the host qemu tests have nothing to run inside the root and say so).
# Variants: arm64 (QEMU_CPU cortex-a72, a Pi 4), armhf (cortex-a7, a Pi 2) and
# armhf-aarch64-kernel: the armhf root again with an LD_PRELOAD uname() shim
# that reports aarch64 and QEMU_CPU max (an ARMv8 core in AArch32), as a Pi 4 or
# 5 running 32-bit Raspberry Pi OS on its default 64-bit kernel.
# It prints per variant the install time, the kernel set pybnn picked, the
# demo's accuracy and pytest's summary line, and exits nonzero if any failed.
#
# Slow: measured on a 2-core machine shared with other work, each variant took
# about 26-29 min to install and 34 min for pytest (arm64), and making a root
# 26-31 min the first time (cached as .cache/pi/bookworm-<arch>.tar.gz, git-
# ignored; delete them to remake). Not part of scripts/test.sh: a developer and
# release check. Needs root (debootstrap, chroot, mount) and network access to
# the Debian mirror ($PI_TEST_MIRROR, default deb.debian.org) and PyPI.
# Installs qemu-user-static, binfmt-support and debootstrap with apt if missing.
# --roots-only makes the cached roots and stops; --variant NAME runs only that
# variant (arm64, armhf or armhf-aarch64-kernel), e.g. to run them side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE=$ROOT/.cache/pi
SUITE=bookworm
MIRROR=${PI_TEST_MIRROR:-http://deb.debian.org/debian}
PYTHON=${PYTHON:-python3}

WHICH=all
ROOTS_ONLY=0
ONLY=
while [ $# -gt 0 ]; do
    arg=$1
    shift
    case "$arg" in
    arm64 | armhf | all) WHICH=$arg ;;
    --roots-only) ROOTS_ONLY=1 ;;
    --variant)
        ONLY=${1:-}
        shift || true
        case "$ONLY" in
        arm64 | armhf | armhf-aarch64-kernel) ;;
        *)
            echo "pi_test.sh: --variant expects arm64, armhf or armhf-aarch64-kernel, got '$ONLY'" >&2
            exit 2
            ;;
        esac
        ;;
    -h | --help)
        sed -n '2,32p' "$0"
        exit 0
        ;;
    *)
        echo "pi_test.sh: unknown argument '$arg' (expected arm64, armhf, all or --roots-only)" >&2
        exit 2
        ;;
    esac
done
if [ "$(id -u)" != 0 ]; then
    echo "pi_test.sh: needs root (debootstrap, chroot and mount); run it with sudo" >&2
    exit 2
fi

log() { echo "== $*"; }

# ---- host tools: debootstrap, qemu-user-static, binfmt_misc ----------------
setup_host() {
    local missing=()
    for pkg in qemu-user-static binfmt-support debootstrap; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    fi
    # The F flag (update-binfmts' default for qemu-user-static) opens qemu when
    # registered, so it runs inside a chroot that has no qemu of its own.
    for q in qemu-aarch64 qemu-arm; do
        [ -e /proc/sys/fs/binfmt_misc/$q ] || update-binfmts --enable $q
        if ! grep -q enabled /proc/sys/fs/binfmt_misc/$q; then
            echo "pi_test.sh: binfmt_misc entry $q is not enabled" >&2
            exit 1
        fi
    done
}

# ---- the cached roots --------------------------------------------------------
# The README's apt line, read from README.md so that the cached root already
# has what it installs (the run repeats it; apt then finds nothing to do).
readme_block() {
    sed -n '/<!-- pi-install -->/,/<!-- \/pi-install -->/p' README.md | grep -v '^<!--' | grep -v '^```'
}

make_root() { # arch
    local arch=$1 tarball=$CACHE/$SUITE-$1.tar.gz dir=$CACHE/make-$1
    [ -f "$tarball" ] && return 0
    log "$arch: debootstrap $SUITE (minbase) into $dir; slow under qemu"
    umount_root "$dir"
    rm -rf "$dir"
    mkdir -p "$CACHE"
    local t0=$SECONDS
    debootstrap --variant=minbase --arch="$arch" "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap-$arch.log" 2>&1 || {
        tail -20 "$CACHE/debootstrap-$arch.log" >&2
        exit 1
    }
    log "$arch: debootstrap took $((SECONDS - t0)) s; installing the README's apt packages"
    mount_root "$dir"
    local apt_line
    apt_line=$(readme_block | grep '^sudo apt ' | sed 's/^sudo //')
    chroot "$dir" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive $apt_line -y -q" \
        >"$CACHE/apt-$arch.log" 2>&1 || {
        tail -20 "$CACHE/apt-$arch.log" >&2
        exit 1
    }
    chroot "$dir" apt-get clean
    umount_root "$dir"
    log "$arch: root ready after $((SECONDS - t0)) s; caching $tarball"
    tar -C "$dir" -czf "$tarball.part" . && mv "$tarball.part" "$tarball"
    rm -rf "$dir"
}

MOUNTED=() # the roots this run mounted (another run may be using other roots)
mount_root() { # dir
    MOUNTED+=("$1")
    mount -t proc proc "$1/proc"
    mount --rbind /sys "$1/sys"
    mount --rbind /dev "$1/dev"
    cp /etc/resolv.conf "$1/etc/resolv.conf"
}

umount_root() { # dir
    local m
    for m in proc sys dev; do
        if mountpoint -q "$1/$m" 2>/dev/null; then
            umount -R "$1/$m" 2>/dev/null || umount -lR "$1/$m"
        fi
    done
}

# ---- one variant: fresh root, README install, info, demo, pytest -----------
SDIST=
make_sdist() {
    log "sdist of this tree"
    if ! "$PYTHON" -c "import build" 2>/dev/null; then
        echo "pi_test.sh: $PYTHON has no 'build' module (pip install build, or PYTHON=.venv/bin/python)" >&2
        exit 1
    fi
    local out=$CACHE/dist-$$ # this run's own: runs may overlap
    rm -rf "$out"
    "$PYTHON" -m build --sdist --outdir "$out" . >"$out.log" 2>&1 || {
        tail -20 "$out.log" >&2
        exit 1
    }
    SDIST=$(ls "$out"/pybnn-*.tar.gz)
}

SUMMARY=()
FAILED=0

run_variant() { # name arch qemu_cpu shim(0|1)
    local name=$1 arch=$2 cpu=$3 shim=$4 dir=$CACHE/run-$1
    [ -n "$ONLY" ] && [ "$ONLY" != "$name" ] && return 0
    log "$name: fresh $arch root, QEMU_CPU=$cpu$([ "$shim" = 1 ] && echo ', uname() says aarch64')"
    umount_root "$dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    tar -C "$dir" -xzf "$CACHE/$SUITE-$arch.tar.gz"
    mount_root "$dir"
    # apt's "Do you want to continue?" answered yes, so the README line runs as typed.
    echo 'APT::Get::Assume-Yes "true";' >"$dir/etc/apt/apt.conf.d/90pi-test"
    cp "$SDIST" "$dir/root/"
    # pip in the root trusts what the host trusts (a TLS-inspecting proxy's CA too).
    cp /etc/ssl/certs/ca-certificates.crt "$dir/root/host-ca.crt"
    mkdir -p "$dir/root/pybnn-src"
    git ls-files -co --exclude-standard -z | grep -zv '^\.cache/' |
        tar --null -T - -cf - | tar -C "$dir/root/pybnn-src" -xf -
    local preload=
    if [ "$shim" = 1 ]; then
        cp scripts/uname_aarch64.c "$dir/root/"
        chroot "$dir" gcc -O2 -shared -fPIC -o /usr/local/lib/uname_aarch64.so /root/uname_aarch64.c -ldl
        preload=/usr/local/lib/uname_aarch64.so
    fi
    local install
    install=$(readme_block | sed -e 's/^sudo //' -e "s#\./pybnn#/root/$(basename "$SDIST")#")
    cat >"$dir/root/pi_steps.sh" <<EOF
set -e
cd /root
export HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_CERT=/root/host-ca.crt
${preload:+export LD_PRELOAD=$preload}
echo "uname -m: \$(uname -m); python: \$(python3 -c 'import platform; print(platform.machine())')"
t0=\$(date +%s)
$install
echo "INSTALL_SECONDS \$((\$(date +%s) - t0))"
. ~/pybnn-env/bin/activate
pybnn info
pybnn demo
pip install -q pytest threadpoolctl
cd /root/pybnn-src/tests
python -m pytest -q -c ../pyproject.toml --rootdir=.. -p no:cacheprovider --durations=5 \
    --ignore=test_package_files.py . 2>&1 | tee /root/pytest.log | tail -25
EOF
    local t0=$SECONDS rc=0
    QEMU_CPU=$cpu chroot "$dir" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        QEMU_CPU="$cpu" /bin/bash /root/pi_steps.sh 2>&1 | tee "$CACHE/$name.log" || rc=$?
    umount_root "$dir"
    local secs kernels demo tests
    secs=$(grep -m1 '^INSTALL_SECONDS' "$CACHE/$name.log" | awk '{print $2}')
    kernels=$(grep -m1 '^kernels in use' "$CACHE/$name.log" || true)
    demo=$(grep -m1 '^accuracy' "$CACHE/$name.log" || true)
    tests=$(tail -1 "$dir/root/pytest.log" 2>/dev/null || echo "(pytest did not run)")
    if [ $rc != 0 ] || ! grep -q ' passed' <<<"$tests" || grep -qE 'failed|error' <<<"$tests"; then
        FAILED=1
    fi
    SUMMARY+=("$name: install ${secs:-?} s (whole variant $((SECONDS - t0)) s); ${kernels:-no kernel line}; ${demo:-no demo line}; pytest: $tests")
    rm -rf "$dir"
}

# Leave no mounts behind, whatever stops the script.
cleanup() {
    local d
    for d in "${MOUNTED[@]}"; do
        [ -d "$d" ] && umount_root "$d"
    done
    return 0
}
trap cleanup EXIT

setup_host
case "$WHICH" in
arm64) ARCHES=(arm64) ;;
armhf) ARCHES=(armhf) ;;
all) ARCHES=(arm64 armhf) ;;
esac
for a in "${ARCHES[@]}"; do make_root "$a"; done
[ $ROOTS_ONLY = 1 ] && exit 0
make_sdist
for a in "${ARCHES[@]}"; do
    case $a in
    arm64) run_variant arm64 arm64 cortex-a72 0 ;;
    armhf)
        run_variant armhf armhf cortex-a7 0
        run_variant armhf-aarch64-kernel armhf max 1
        ;;
    esac
done
echo
log "summary ($(basename "$SDIST"))"
printf '%s\n' "${SUMMARY[@]}"
exit $FAILED
