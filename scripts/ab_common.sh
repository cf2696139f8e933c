# ab_common.sh - sourced by ab_models.sh and ab_bgemm.sh, which time two
# versions of the C library in one process.
#
#   ab_usage                 # the calling script's lines 2-4 (name and usage), exit 2
#   ab_build ROOT REV DEST   # REV: a git revision of ROOT, or "." for the working tree
#   ab_build_both ROOT REV_A REV_B   # both, into $work/a and $work/b ($work: a
#                                    # temporary folder, removed at exit)
#
# Leaves DEST/libbnn.so (DEST/tree holds the revision's sources, DEST/log the
# build's output). Exits 2 if REV is not a revision, 1 if the build fails.
ab_usage() {
    sed -n '2,4p' "$0" | sed 's/^# *//' >&2
    exit 2
}

ab_build() {
    local root=$1 rev=$2 dest=$3 src
    mkdir -p "$dest"
    if [ "$rev" = "." ]; then
        src=$root/src
    else
        git -C "$root" rev-parse --verify -q "$rev^{commit}" > /dev/null ||
            { echo "$(basename "$0"): $rev is not a revision of $root" >&2; exit 2; }
        mkdir "$dest/tree"
        git -C "$root" archive "$rev" src | tar -x -C "$dest/tree"
        src=$dest/tree/src
    fi
    make -s -C "$src" BUILD="$dest/build" CFLAGS="-O3 -fPIC" lib > "$dest/log" 2>&1 ||
        { cat "$dest/log" >&2; echo "$(basename "$0"): building $rev failed" >&2; exit 1; }
    cc -shared -o "$dest/libbnn.so" $(find "$dest/build/obj" -name '*.o') -lpthread -lm
}

ab_build_both() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/pybnn-ab.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    echo "A = $2, B = $3: building both" >&2
    ab_build "$1" "$2" "$work/a"
    ab_build "$1" "$3" "$work/b"
}
