"""build_isa.py (setup.py's ISA choice): the compiler's target decides, so
every Raspberry Pi compiler setup gets the right kernel files and flags.

Run with the cross compilers scripts/test.sh installs; the checks of a
compiler that is not installed are skipped with its Debian package named."""
import importlib.util
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_build_isa():
    spec = importlib.util.spec_from_file_location("build_isa", os.path.join(ROOT, "build_isa.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_isa = load_build_isa()

NEON_DEFINE = [("BNN_WITH_NEON", "1")]
# compiler command, its Debian package, the files and flags it must get, the defines
CASES = {
    "x86-64": (["x86_64-linux-gnu-gcc"], "gcc (on amd64)",
               dict(build_isa.X86_FLAGS, avxvnni=build_isa.AVXVNNI_FLAGS), [("BNN_WITH_AVXVNNI", "1")]),
    "aarch64": (["aarch64-linux-gnu-gcc"], "gcc-aarch64-linux-gnu", build_isa.AARCH64_FLAGS, []),
    # Debian armhf (and Raspberry Pi OS on a Pi 4/5 with its 64-bit kernel:
    # uname says aarch64, the compiler still targets ARMv7 hard-float).
    "armv7": (["arm-linux-gnueabihf-gcc"], "gcc-arm-linux-gnueabihf",
              {"neon": ["-mfpu=neon"]}, NEON_DEFINE),
    # Raspberry Pi OS 32-bit's own gcc: ARMv6 + VFP by default.
    "armv6-default": (["arm-linux-gnueabihf-gcc", "-march=armv6+fp", "-marm"], "gcc-arm-linux-gnueabihf",
                      {"neon": ["-march=armv7-a", "-mfpu=neon"]}, NEON_DEFINE),
    # NEON enabled by the user's CFLAGS already: nothing to add.
    "armv7-neon-cflags": (["arm-linux-gnueabihf-gcc", "-march=armv7-a", "-mfpu=neon"], "gcc-arm-linux-gnueabihf",
                          {"neon": []}, NEON_DEFINE),
}


def need(cc, package):
    if not shutil.which(cc[0]):
        pytest.skip(f"needs {cc[0]} (apt package {package})")


@pytest.mark.parametrize("name", sorted(CASES))
def test_isa_files_and_flags_follow_the_compiler_target(name):
    cc, package, want_flags, want_defines = CASES[name]
    need(cc, package)
    flags, defines, note = build_isa.isa_flags(cc)
    assert (flags, defines) == (want_flags, want_defines), note


@pytest.mark.parametrize("name", ["armv7", "armv6-default"])
def test_every_neon_file_compiles_with_the_chosen_flags(name, tmp_path):
    """The flags build_isa picks compile every src/**/*_neon.c (as setup.py does)."""
    cc, package, _, _ = CASES[name]
    need(cc, package)
    flags, defines, _ = build_isa.isa_flags(cc)
    neon_files = sorted(p for p in (os.path.join(d, f) for d, _, fs in os.walk(os.path.join(ROOT, "src"))
                                    for f in fs) if build_isa.isa_of(p) == "neon" and p.endswith(".c"))
    assert len(neon_files) >= 4  # bgemm, pack, u8gemm, roofline
    for path in neon_files:
        out = tmp_path / (os.path.basename(path) + ".o")
        cmd = cc + flags["neon"] + [f"-D{k}={v}" for k, v in defines] + [
            "-O2", "-I", os.path.join(ROOT, "src"), "-c", path, "-o", str(out)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stderr}"


def test_an_x86_compiler_without_avxvnni_leaves_those_files_out(tmp_path):
    """GCC before 11 and clang before 12 have no -mavxvnni: the other x86
    sets still build, and dispatch.c is not told of an AVX-VNNI kernel."""
    cc, package, _, _ = CASES["x86-64"]
    need(cc, package)
    old_gcc = tmp_path / "old-gcc"
    old_gcc.write_text(f'#!/bin/sh\nfor a; do [ "$a" = -mavxvnni ] && exit 1; done\nexec {cc[0]} "$@"\n')
    old_gcc.chmod(0o755)
    flags, defines, note = build_isa.isa_flags([str(old_gcc)])
    assert (flags, defines) == (build_isa.X86_FLAGS, []), note
    assert "no -mavxvnni" in note


def test_a_compiler_that_cannot_run_gives_scalar_kernels():
    flags, defines, note = build_isa.isa_flags(["no-such-compiler-pybnn"])
    assert (flags, defines) == ({}, [])
    assert "could not ask no-such-compiler-pybnn" in note


def test_isa_of_names_the_suffix():
    assert build_isa.isa_of("src/cpu/kernels/bgemm_roofline_neon.c") == "neon"
    assert build_isa.isa_of("src/cpu/kernels/pack_avx512.c") == "avx512"
    assert build_isa.isa_of("src/cpu/plan.c") == "plan"
