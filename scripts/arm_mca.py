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
(the reduction and stores cancel out). LLVM's 32-bit ARM backend models
only the A72 of these cores, so armv7 is timed on it alone. A tile that
spills registers at the shortest K, unrolled whole (armv7's, with 16
q and 13 general registers), is not timed: the kernel keeps its K loop.

Then the hot loop of bgemm_neon.c itself, as clang and as gcc (the
compiler of a Pi's own build; Debian's cross compilers here) build it with
-O3: SIMD ops per output and 128 bits (3 is the ceiling's form) and its
llvm-mca rate. Then the first layer (u8gemm): one block of rows x 16
columns with the NEON kernel and, on the one core with udot (the A76), the
udot kernel (neondot), with the udot speed-up; and both kernels' hot loops
as compiled, whose ratio is the steady-state speed-up (unrolled whole, the
NEON block spills). Last, issue 10's ARM bars, each met or NOT MET: whole
tiles at K = 576 and 1152 at least 75% of the ceiling on the A72 and
Neoverse-N1, the armv7 hot loop at 3 ops per output, udot at least 1.6x
the NEON first layer on the Neoverse-N1.

llvm-mca before LLVM 17 has no Neoverse-N1 model (it uses its Cortex-A57
one, as for the A72): the script prints the model of each core and says so.
llvm-mca assumes every load hits L1 and models each core's pipes as LLVM
describes them: estimates, not measurements."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPUS = [("cortex-a53", 1, 1.4), ("cortex-a72", 2, 1.8), ("neoverse-n1", 2, 2.4)]  # name, P, Pi clock GHz
# LLVM's 32-bit ARM backend has a scheduling model for the A72 (its A57
# model) but none for the A53 or the Neoverse-N1: armv7 is timed on the A72.
MODELLED_CPUS = {"aarch64": CPUS, "armv7": [c for c in CPUS if c[0] == "cortex-a72"]}
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
    # newer llvm-mca reads udot only where the core is told to have it
    attrs = ["-mattr=+dotprod"] if arch == "aarch64" and re.search(r"\b[su]dot\b", asm) else []
    out = subprocess.run([MCA, f"-mtriple={triple}", f"-mcpu={cpu}", *attrs, "-iterations=100"], input=asm,
                         capture_output=True, text=True, check=True).stdout
    iterations = int(re.search(r"Iterations:\s+(\d+)", out).group(1))
    cycles = int(re.search(r"Total Cycles:\s+(\d+)", out).group(1))
    return cycles / iterations


def spills(asm):
    """Spill and reload lines in clang's assembly (its comments name them),
    not counting the saves of callee-saved d8-d15, which the ABI asks of
    any function that uses them."""
    return sum(1 for line in asm.splitlines()
               if re.search(r"Spill|Reload", line) and not re.match(r"\s*(stp|ldp|str|ldr)\s+d\d+", line))


def mca_model(cpu):
    """The scheduling model llvm-mca uses for an aarch64 cpu, from the names
    of the resources it lists (A53, A57, N1...)."""
    out = subprocess.run([MCA, f"-mtriple={TARGETS['aarch64'][1]}", f"-mcpu={cpu}"], input="add x0, x0, x1\n",
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"^\[[\d.]+\]\s+-\s+(\w+?)Unit", out, re.M)
    return m.group(1) if m else "?"


def tile_shape(arch):
    """(MR, NR) of the bgemm tile, as bgemm_neon.c defines them."""
    return (4, 4) if arch == "aarch64" else (2, 4)


def table_head(title, head):
    print(title)
    print(head)
    print("-" * len(head))


def bgemm_report():
    table_head("== bgemm: one whole NEON micro-tile (XOR + count + accumulate, reduction and stores)",
               f"{'arch':8} {'cpu':12} {'K':>6} {'tile':>5} {'cycles':>8} {'MAC/cyc':>8} {'% ceil':>7} "
               f"{'GMAC/s @clock':>14}")
    results = {}
    for arch in TARGETS:
        mr, nr = tile_shape(arch)
        asms = {}
        for k in (*BIN_KS, *HOT_KS):
            asms[k], note = compile_tile("bgemm_tile.c", arch, [f"TILE_K={k}"])
            if asms[k] is None:  # the same for every core: say it once
                print(f"{arch:8} {'(any)':12} {k:6d} {mr}x{nr:<3} {note}")
                break
        else:
            note = None
        if note:
            continue
        spilled = spills(asms[BIN_KS[0]])
        if spilled:  # straight-line code the kernel never runs: its times would mislead
            print(f"{arch:8} {'(any)':12} {BIN_KS[0]:6d} {mr}x{nr:<3} unrolled whole, the tile spills registers "
                  f"({spilled} stack accesses), which the kernel as built, keeping its K loop, need not: "
                  "not timed; see its hot loop below")
            continue
        for cpu, pipes, ghz in MODELLED_CPUS[arch]:
            ceiling = 128 * pipes / 3
            for k in BIN_KS:
                cyc = mca_cycles(asms[k], arch, cpu)
                rate = mr * nr * k / cyc
                results[(arch, cpu, k)] = rate / ceiling
                print(f"{arch:8} {cpu:12} {k:6d} {mr}x{nr:<3} {cyc:8.0f} {rate:8.1f} {100 * rate / ceiling:6.0f}% "
                      f"{rate * ghz:8.1f} @{ghz}")
            c0, c1 = (mca_cycles(asms[k], arch, cpu) for k in HOT_KS)
            rate = mr * nr * (HOT_KS[1] - HOT_KS[0]) / (c1 - c0)
            print(f"{arch:8} {cpu:12} {'loop':>6} {mr}x{nr:<3} {'':8} {rate:8.1f} {100 * rate / ceiling:6.0f}% "
                  f"{rate * ghz:8.1f} @{ghz}   (hot loop: K {HOT_KS[0]} -> {HOT_KS[1]})")
    return results


# The compilers a Pi's own build uses (gcc, here Debian's cross compilers,
# which scripts/cross_test.sh installs), beside clang, with the build's flags.
KERNEL_COMPILERS = {
    "aarch64": [("clang", [CLANG, "--target=aarch64-linux-gnu", "-O3"]),
                ("gcc", ["aarch64-linux-gnu-gcc", "-O3"])],
    "armv7": [("clang", [CLANG, *TARGETS["armv7"][0], "-O3"]),
              ("gcc", ["arm-linux-gnueabihf-gcc", "-march=armv7-a", "-mfpu=neon", "-mfloat-abi=hard",
                       "-DBNN_WITH_NEON", "-O3"])],
}
CROSS_PACKAGES = {"aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
                  "arm-linux-gnueabihf-gcc": "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross"}
LABEL = re.compile(r"^([.\w$]+):")
BRANCH = re.compile(r"^\s+(?:b\.?\w*|cbn?z\s+\w+,|tbn?z\s+\w+,\s*#?\d+,)\s+([.\w$]+)\s*$")
COUNT = re.compile(r"^\s+v?cnt(\.8)?\s")


def hot_loop(text, key=COUNT):
    """The kernel's hot loop in compiled assembly: of the loops that are one
    basic block (a label, a branch back to it, no label between), the one
    with the most lines matching key (default: byte counts, cnt / vcnt.8),
    as (that number, its instruction lines)."""
    lines = [line for line in text.splitlines()
             if line.strip() and not re.match(r"\s*(\.(?!\w*:)|//|@|#)", line)]
    best, label_at = None, {}
    for i, line in enumerate(lines):
        m = LABEL.match(line)
        if m:
            label_at[m.group(1)] = i
            continue
        m = BRANCH.match(line)
        if m and m.group(1) in label_at:
            body = lines[label_at[m.group(1)] + 1:i + 1]
            if not any(LABEL.match(b) for b in body):
                counts = sum(1 for b in body if key.match(b))
                if counts and (best is None or counts > best[0]):
                    best = (counts, body)
    return best


def simd_ops(body):
    """Vector ALU instructions of a loop body (loads and stores left out;
    register copies counted: they take a SIMD pipe like any other op)."""
    ops = 0
    for line in body:
        mnemonic = line.split()[0]
        if mnemonic.startswith(("ld", "st", "vld", "vst")):
            continue
        if re.search(r"\bv\d+\.\d*[bhsdq]\b", line) or re.match(r"v[a-z]", mnemonic):
            ops += 1
    return ops


def compiled_hot_loop(arch, name, cmd, source, key=COUNT):
    """hot_loop() of the kernel file src/cpu/kernels/<source> as cmd builds
    it, or None after saying why (a compiler missing, no loop)."""
    if not shutil.which(cmd[0]):
        print(f"{arch:8} {name:8} {cmd[0]} not installed (apt packages {CROSS_PACKAGES[cmd[0]]}), not timed")
        return None
    with tempfile.NamedTemporaryFile(suffix=".s", delete=False) as f:
        out = f.name
    subprocess.run([*cmd, "-I", os.path.join(ROOT, "src"), "-S", "-o", out,
                    os.path.join(ROOT, "src", "cpu", "kernels", source)], check=True)
    with open(out) as f:
        found = hot_loop(f.read(), key)
    os.unlink(out)
    if found is None:
        print(f"{arch:8} {name:8} {source}: no hot loop found")
    return found


def compiled_loops(source, key=COUNT, flags=(), arches=tuple(TARGETS)):
    """(arch, compiler, matches, body) of each build's hot_loop() of the
    kernel file src/cpu/kernels/<source>, every arch and compiler."""
    for arch in arches:
        for name, cmd in KERNEL_COMPILERS[arch]:
            found = compiled_hot_loop(arch, name, [*cmd, *flags], source, key)
            if found is not None:
                yield arch, name, found[0], found[1]


def hot_loop_report():
    """The hot loop of the compiled kernel file itself (not the harness), as
    each compiler leaves it: SIMD ops per output and 128 bits (the ceiling
    form is 3: XOR, count, accumulate) and its llvm-mca rate."""
    table_head("\n== bgemm hot loop of the kernel as compiled (bgemm_neon.c, -O3), per compiler",
               f"{'arch':8} {'compiler':8} {'cpu':12} {'ops/out':>7} {'cyc/it':>7} {'MAC/cyc':>8} {'% ceil':>7} "
               f"{'GMAC/s @clock':>14}")
    results = {}
    for arch, name, counts, body in compiled_loops("bgemm_neon.c"):
        mr, nr = tile_shape(arch)
        if counts % (mr * nr):  # the whole tile's loop has mr * nr counts per step
            print(f"{arch:8} {name:8} no one-block loop of the whole {mr}x{nr} tile (the best has {counts} "
                  "counts): its accumulators are not all registers, not timed")
            continue
        per_output = simd_ops(body) / counts  # one count per output and 128 bits
        asm = "\n".join(body) + "\n"
        for cpu, pipes, ghz in MODELLED_CPUS[arch]:
            rate = counts * 128 / mca_cycles(asm, arch, cpu)
            ceiling = 128 * pipes / 3
            results[(arch, name, cpu)] = (per_output, rate / ceiling)
            print(f"{arch:8} {name:8} {cpu:12} {per_output:7.2f} {counts * 128 / rate:7.1f} {rate:8.1f} "
                  f"{100 * rate / ceiling:6.0f}% {rate * ghz:8.1f} @{ghz}")
    return results


# Each and + uadalp (neon) or udot (neondot) meets 16 x bytes: 16 MACs.
U8_ACCUMULATES = {"neon": re.compile(r"^\s+(uadalp|vpadal\.u8)\s"), "neondot": re.compile(r"^\s+udot\s")}
U8_KERNELS = {"neon": ("u8gemm_neon.c", [], ("aarch64", "armv7")),
              "neondot": ("u8gemm_neondot.c", ["-march=armv8.2-a+dotprod"], ("aarch64",))}
# udot is ARMv8.2: of the three cores only the A76 (Pi 5) has it.
DOT_CPUS = ("neoverse-n1",)


def u8gemm_hot_loop_report():
    """The first layer's hot loops as compiled (the kernel files, -O3), and
    the udot speed-up per compiler and core: the steady state, where the
    whole-block rows above include what unrolling them whole costs (the NEON
    block spills there)."""
    table_head("\n== first layer hot loop of the kernels as compiled (-O3), per compiler",
               f"{'arch':8} {'compiler':8} {'kernel':8} {'cpu':12} {'ops/16MAC':>9} {'cyc/it':>7} {'MAC/cyc':>8} "
               f"{'GMAC/s @clock':>14} {'udot gain':>9}")
    rates = {}
    for kernel, (source, flags, arches) in U8_KERNELS.items():  # neon first: the gain's base
        for arch, name, accumulates, body in compiled_loops(source, U8_ACCUMULATES[kernel], flags, arches):
            asm = "\n".join(body) + "\n"
            for cpu, _, ghz in MODELLED_CPUS[arch]:
                if kernel == "neondot" and cpu not in DOT_CPUS:
                    continue
                cycles = mca_cycles(asm, arch, cpu)
                rate = rates[(arch, name, kernel, cpu)] = 16 * accumulates / cycles
                base = rates.get((arch, name, "neon", cpu))
                gain = f"{rate / base:8.2f}x" if kernel == "neondot" and base else ""
                print(f"{arch:8} {name:8} {kernel:8} {cpu:12} {simd_ops(body) / accumulates:9.2f} "
                      f"{cycles:7.1f} {rate:8.1f} {rate * ghz:8.1f} @{ghz} {gain:>9}")
    return {(arch, name, cpu): rate / rates[(arch, name, "neon", cpu)]
            for (arch, name, kernel, cpu), rate in rates.items()
            if kernel == "neondot" and (arch, name, "neon", cpu) in rates}


def u8gemm_report():
    table_head("\n== first layer (u8gemm): one block of rows x 16 columns, uint8 x +-1",
               f"{'arch':8} {'cpu':12} {'K':>5} {'kernel':8} {'rows':>4} {'cycles':>8} {'MAC/cyc':>8} "
               f"{'GMAC/s @clock':>14} {'udot gain':>9} {'spills':>6}")
    rows = {"neon": {"aarch64": 4, "armv7": 2}, "neondot": {"aarch64": 4}}
    gains = {}
    for arch in TARGETS:
        for cpu, _, ghz in MODELLED_CPUS[arch]:
            for k in U8_KS:
                rates = {}
                for kernel in ("neon", "neondot"):
                    if arch not in rows[kernel] or (kernel == "neondot" and cpu not in DOT_CPUS):
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
                    gain = ""
                    if kernel == "neondot" and "neon" in rates:
                        gains[(arch, cpu, k)] = rates[kernel] / rates["neon"]
                        gain = f"{gains[(arch, cpu, k)]:8.2f}x"
                    print(f"{arch:8} {cpu:12} {k:5d} {kernel:8} {rows[kernel][arch]:4d} {cyc:8.0f} "
                          f"{rates[kernel]:8.1f} {rates[kernel] * ghz:8.1f} @{ghz} {gain:>9} {spills(asm):6d}")
    print("(spills: stack accesses of the block unrolled whole, which the kernel, keeping its K loop, "
          "need not make: the hot loops below are the steady state)")
    return gains


BAR_TILE_KS, BAR_TILE_CPUS, BAR_TILE = (576, 1152), ("cortex-a72", "neoverse-n1"), 0.75
BAR_OPS = 3.0
BAR_UDOT_CPU, BAR_UDOT = "neoverse-n1", 1.6


def bars_report(tiles, loops, gains, loop_gains, n1_modelled):
    """Issue 10's ARM bars, each with what was measured and met / NOT MET
    (an A76 bar is not met without a Neoverse-N1 model to time it with)."""
    print("\n== bars (issue 10)")
    rows = []
    for cpu in BAR_TILE_CPUS:
        for k in BAR_TILE_KS:
            got = tiles.get(("aarch64", cpu, k))
            rows.append((f"aarch64 whole tile, K={k}, {cpu}: >= {100 * BAR_TILE:.0f}% of ceiling",
                         "not timed" if got is None else f"{100 * got:.0f}%", got is not None and got >= BAR_TILE))
    for compiler, _ in KERNEL_COMPILERS["armv7"]:
        got = loops.get(("armv7", compiler, "cortex-a72"))
        rows.append((f"armv7 hot loop ({compiler}): {BAR_OPS:.0f} SIMD ops per output and 128 bits",
                     "not timed" if got is None else f"{got[0]:.2f}", got is not None and got[0] <= BAR_OPS))
    for (arch, cpu, k), gain in sorted(gains.items()):
        if cpu == BAR_UDOT_CPU:
            rows.append((f"udot first layer, one block at K={k}, {cpu}: >= {BAR_UDOT}x the NEON kernel's",
                         f"{gain:.2f}x", gain >= BAR_UDOT))
    for (arch, compiler, cpu), gain in sorted(loop_gains.items()):
        if cpu == BAR_UDOT_CPU:
            rows.append((f"udot first layer, hot loop ({compiler}), {cpu}: >= {BAR_UDOT}x the NEON kernel's",
                         f"{gain:.2f}x", gain >= BAR_UDOT))
    if not n1_modelled:
        rows = [(text, got + " (A57 model: no Neoverse-N1 model in this llvm-mca)", False)
                if "neoverse-n1" in text else (text, got, ok) for text, got, ok in rows]
    for text, got, ok in rows:
        print(f"{'met    ' if ok else 'NOT MET'} {text}: {got}")
    return all(ok for _, _, ok in rows)


def main():
    version = subprocess.run([MCA, "--version"], capture_output=True, text=True, check=True).stdout
    version = re.search(r"LLVM version (\S+)", version)
    models = {cpu: mca_model(cpu) for cpu, _, _ in CPUS}
    print(f"{MCA} (LLVM {version.group(1) if version else '?'}), scheduling models: "
          + ", ".join(f"{cpu} -> {model}" for cpu, model in models.items()))
    if models[BAR_UDOT_CPU] != "N1":
        print(f"warning: this llvm-mca has no Neoverse-N1 model (LLVM 17 and later have one): it times "
              f"neoverse-n1 with its {models[BAR_UDOT_CPU]} model, so the A76 rows are not A76 estimates; "
              "scripts/arm_mca.sh picks or installs a newer llvm-mca-N")
    tiles = bgemm_report()
    loops = hot_loop_report()
    gains = u8gemm_report()
    loop_gains = u8gemm_hot_loop_report()
    bars_report(tiles, loops, gains, loop_gains, models["neoverse-n1"] == "N1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
