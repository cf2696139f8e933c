"""Build pybnn: the portable C library in src/ plus the Cython wrapper.

ISA-specific files (``*_avx2.c``, ``*_avx512.c``, ``*_neon.c``) get their own
compiler flags, everything else none, so one wheel runs on every CPU of its
architecture and the kernels are picked at run time (src/cpu/dispatch.c).
"""
import glob
import importlib.util
import os

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def load_build_isa():
    """build_isa.py next to this file (loaded by path: a PEP 517 build does not
    put the source tree on sys.path)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build_isa.py")
    spec = importlib.util.spec_from_file_location("build_isa", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_isa = load_build_isa()


class BuildWithIsaFlags(build_ext):
    """Compile every src/**/*.c with per-file ISA flags and link them into the extension."""

    def build_extension(self, ext):
        # The compiler's target decides, not platform.machine() (build_isa.py says why).
        flags_by_isa, defines, note = build_isa.isa_flags(self.compiler.compiler_so)
        print(f"pybnn: {note}")
        common = ["-O3", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"]
        objects = []
        for path in sorted(glob.glob("src/**/*.c", recursive=True)):
            isa = build_isa.isa_of(path)
            if isa in build_isa.ALL_ISAS and isa not in flags_by_isa:
                continue  # an ISA this compiler does not target
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
    include_dirs=["src"],  # no NumPy headers: _core.pyx uses the buffer protocol
    extra_compile_args=["-O2"],
    extra_link_args=["-pthread"],
)

setup(
    ext_modules=cythonize([extension], language_level=3),
    cmdclass={"build_ext": BuildWithIsaFlags},
)
