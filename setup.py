"""Build pybnn: the portable C library in src/ plus the Cython wrapper.

ISA-specific files (``*_avx2.c``, ``*_avx512.c``, ``*_neon.c``) get their own
compiler flags, everything else none, so one wheel runs on every CPU of its
architecture and the kernels are picked at run time (src/cpu/dispatch.c).
"""
import glob
import os
import platform

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

X86_FLAGS = {
    "avx2": ["-mavx2", "-mpopcnt"],
    "avx512": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vpopcntdq", "-mavx2", "-mpopcnt"],
    "avx512vnni": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni", "-mavx2"],
}


def isa_flags():
    """Map of ISA suffix -> flags for this target, and defines for the rest."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64", "i686", "i386"):
        return X86_FLAGS, []
    if machine in ("aarch64", "arm64"):
        return {"neon": [], "neondot": ["-march=armv8.2-a+dotprod"]}, []
    if machine.startswith("armv7") or machine.startswith("armv8l"):
        return {"neon": ["-mfpu=neon"]}, [("BNN_WITH_NEON", "1")]
    return {}, []


def isa_of(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem.rsplit("_", 1)[-1]


class BuildWithIsaFlags(build_ext):
    """Compile every src/**/*.c with per-file ISA flags and link them into the extension."""

    def build_extension(self, ext):
        flags_by_isa, defines = isa_flags()
        all_isas = {"avx2", "avx512", "avx512vnni", "neon", "neondot"}
        common = ["-O3", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"]
        objects = []
        for path in sorted(glob.glob("src/**/*.c", recursive=True)):
            isa = isa_of(path)
            if isa in all_isas and isa not in flags_by_isa:
                continue  # a kernel for another architecture
            objects += self.compiler.compile(
                [path],
                output_dir=self.build_temp,
                include_dirs=["src"],
                macros=defines,
                extra_postargs=common + flags_by_isa.get(isa, []),
                depends=glob.glob("src/**/*.h", recursive=True),
            )
        ext.extra_objects = objects + list(ext.extra_objects or [])
        ext.define_macros = list(ext.define_macros or []) + defines
        super().build_extension(ext)


extension = Extension(
    "pybnn._core",
    sources=["pybnn/_core.pyx"],
    depends=glob.glob("src/**/*.c", recursive=True) + glob.glob("src/**/*.h", recursive=True),  # relink when the C library changes
    include_dirs=["src", numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    extra_compile_args=["-O2"],
    extra_link_args=["-pthread"],
)

setup(
    ext_modules=cythonize([extension], language_level=3),
    cmdclass={"build_ext": BuildWithIsaFlags},
)
