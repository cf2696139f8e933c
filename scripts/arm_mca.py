#!/usr/bin/env python3
"""ARM speed without ARM hardware: llvm-mca timings of the NEON kernels
(run by scripts/arm_mca.sh, which checks the tools).

For aarch64 and armv7 it compiles, with clang, one whole micro-tile of the
NEON bgemm (scripts/mca/bgemm_tile.c) at each K of the paper's layers, fully
inlined and unrolled, and times the straight-line code with llvm-mca for the
Cortex-A53 (Pi 3), Cortex-A72 (Pi 4) and Neoverse-N1 (the model LLVM has of
the Pi 5's Cortex-A76). It prints cycles per tile, binary MACs per cycle,
the % of the ceiling of 3 SIMD ops (XOR, count, accumulate) per 128 bits per
output, i.e. 128 * P / 3 MACs per cycle with P 128-bit SIMD ops per cycle
(P = 2 on A72 and A76, 1 on A53), and GMAC/s per core at the Pi 3/4/5 clocks
(1.4, 1.8, 2.4 GHz). The hot loop's rate is the difference of two long K
(the reduction and stores cancel out). Then the first layer (u8gemm, one
block of rows x 16 columns) with the NEON kernel and, on aarch64, the udot
one (neondot), with the udot speed-up.

llvm-mca assumes every load hits L1 and models each core's pipes as LLVM
describes them: estimates, not measurements."""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPUS = [("cortex-a53", 1, 1.4), ("cortex-a72", 2, 1.8), ("neoverse-n1", 2, 2.4)]  # name, P, Pi clock GHz
BIN_KS = (576, 1152, 2304, 4608, 1024, 4096, 8192)
HOT_KS = (8192, 16384)
U8_KS = (27, 784)
TARGETS = {
    "aarch64": (["--target=aarch64-linux-gnu"], "aarch64-linux-gnu"),
    "armv7": (["--target=armv7a-linux-gnueabihf", "-mfpu=neon", "-mfloat-abi=hard", "-DBNN_WITH_NEON"],
              "armv7a-linux-gnueabihf"),
}
CLANG = os.environ.get("CLANG", "clang")
MCA = os.environ.get("LLVM_MCA", "llvm-mca")


def compile_tile(source, arch, defines):
    flags, _ = TARGETS[arch]
    with tempfile.NamedTemporaryFile(suffix=".s", delete=False) as f:
        out = f.name
    cmd = [CLANG, *flags, "-O3", "-mllvm", "-unroll-threshold=1000000", "-I", os.path.join(ROOT, "src"),
           *[f"-D{d}" for d in defines], "-S", "-o", out, os.path.join(ROOT, "scripts", "mca", source)]
    subprocess.run(cmd, check=True)
    with open(out) as f:
        text = f.read()
    os.unlink(out)
    m = re.search(r"^tile_whole:[^\n]*\n(.*?)^\.Lfunc_end", text, re.S | re.M)
    body = [line for line in m.group(1).splitlines()
            if line.strip() and not line.strip().startswith((".", "//", "@", "bx\tlr", "ret"))]
    branches = [line for line in body if re.match(r"\s*(b\.|cbn?z|tbn?z|b\t|bne|beq|blo|bhi|bgt|blt|bge|ble)", line)]
    if branches:  # a loop left: llvm-mca would time one pass of it, not the tile
        return None, f"{len(branches)} loops left by clang (accumulator arrays kept in memory), not timed"
    return "\n".join(body) + "\n", text


def mca_cycles(asm, arch, cpu):
    _, triple = TARGETS[arch]
    out = subprocess.run([MCA, f"-mtriple={triple}", f"-mcpu={cpu}", "-iterations=100"], input=asm,
                         capture_output=True, text=True, check=True).stdout
    iterations = int(re.search(r"Iterations:\s+(\d+)", out).group(1))
    cycles = int(re.search(r"Total Cycles:\s+(\d+)", out).group(1))
    return cycles / iterations


def tile_shape(arch):
    """(MR, NR) of the bgemm tile, as bgemm_neon.c defines them."""
    return (4, 4) if arch == "aarch64" else (2, 4)


def bgemm_report():
    print("== bgemm: one whole NEON micro-tile (XOR + count + accumulate, reduction and stores)")
    head = (f"{'arch':8} {'cpu':12} {'K':>6} {'tile':>5} {'cycles':>8} {'MAC/cyc':>8} {'% ceil':>7} "
            f"{'GMAC/s @clock':>14}")
    print(head)
    print("-" * len(head))
    for arch in TARGETS:
        mr, nr = tile_shape(arch)
        for cpu, pipes, ghz in CPUS:
            ceiling = 128 * pipes / 3
            for k in BIN_KS:
                asm, note = compile_tile("bgemm_tile.c", arch, [f"TILE_K={k}"])
                if asm is None:
                    print(f"{arch:8} {cpu:12} {k:6d} {mr}x{nr:<3} {note}")
                    continue
                cyc = mca_cycles(asm, arch, cpu)
                rate = mr * nr * k / cyc
                print(f"{arch:8} {cpu:12} {k:6d} {mr}x{nr:<3} {cyc:8.0f} {rate:8.1f} {100 * rate / ceiling:6.0f}% "
                      f"{rate * ghz:8.1f} @{ghz}")
            asms = [compile_tile("bgemm_tile.c", arch, [f"TILE_K={k}"])[0] for k in HOT_KS]
            if None in asms:
                continue
            c0, c1 = (mca_cycles(asm, arch, cpu) for asm in asms)
            rate = mr * nr * (HOT_KS[1] - HOT_KS[0]) / (c1 - c0)
            print(f"{arch:8} {cpu:12} {'loop':>6} {mr}x{nr:<3} {'':8} {rate:8.1f} {100 * rate / ceiling:6.0f}% "
                  f"{rate * ghz:8.1f} @{ghz}   (hot loop: K {HOT_KS[0]} -> {HOT_KS[1]})")


def u8gemm_report():
    print("\n== first layer (u8gemm): one block of rows x 16 columns, uint8 x +-1")
    head = f"{'arch':8} {'cpu':12} {'K':>5} {'kernel':8} {'rows':>4} {'cycles':>8} {'MAC/cyc':>8} {'GMAC/s @clock':>14} {'udot gain':>9}"
    print(head)
    print("-" * len(head))
    rows = {"neon": {"aarch64": 4, "armv7": 2}, "neondot": {"aarch64": 4}}
    for arch in TARGETS:
        for cpu, _, ghz in CPUS:
            for k in U8_KS:
                rates = {}
                for kernel in ("neon", "neondot"):
                    if arch not in rows[kernel]:
                        continue
                    defines = [f"TILE_K={k}"]
                    if kernel == "neondot":
                        defines.append("U8_DOT")
                    source = "u8gemm_tile.c"
                    if kernel == "neondot":  # +dotprod only for the udot file, as the build does
                        saved = TARGETS[arch]
                        TARGETS[arch] = (saved[0] + ["-march=armv8.2-a+dotprod"], saved[1])
                        try:
                            asm, note = compile_tile(source, arch, defines)
                        finally:
                            TARGETS[arch] = saved
                    else:
                        asm, note = compile_tile(source, arch, defines)
                    if asm is None:
                        print(f"{arch:8} {cpu:12} {k:5d} {kernel:8} {note}")
                        continue
                    cyc = mca_cycles(asm, arch, cpu)
                    rates[kernel] = rows[kernel][arch] * 16 * k / cyc
                    gain = f"{rates[kernel] / rates['neon']:8.2f}x" if kernel == "neondot" and "neon" in rates else ""
                    print(f"{arch:8} {cpu:12} {k:5d} {kernel:8} {rows[kernel][arch]:4d} {cyc:8.0f} "
                          f"{rates[kernel]:8.1f} {rates[kernel] * ghz:8.1f} @{ghz} {gain:>9}")


def main():
    bgemm_report()
    u8gemm_report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
