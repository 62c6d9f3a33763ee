"""Assembles the PTX of a successful `sinterc ... --target=cuda` run for
sm_80, sm_90a and the run's own --gpu-arch (sinterc-ptxas calls it after the
run itself).

PTX written for sm_90a uses instructions sm_80 lacks, so one PTX file cannot
be checked for both: the same input is recompiled with --emit=ptx for each
architecture (cl::opt keeps the last occurrence, so appending --emit, -o and
--gpu-arch overrides the test's). A run that wrote its own PTX to a file is
assembled as is for its architecture. Runs that stop before code generation
(--compile-to other than package) generate no PTX and are not checked.

A key of the sinterc and ptxas binaries, the arguments and the contents of
the files they name marks a checked (input, arch) pair in CACHE_DIR: a test
that compiles one input for three architectures costs three compiles, not
nine. On failure the PTX is kept and named in the message.

  ptxas_all_archs.py PTXAS CACHE_DIR SINTERC [sinterc arguments...]
"""

import hashlib
import os
import shlex
import subprocess
import sys
import tempfile

ARCHS = ("sm_80", "sm_90a")
DEFAULT_ARCH = "sm_90a"  # sinterc's --gpu-arch default
# Options whose value does not change the kernels: dropped from the
# recompile and from the key.
OUTPUT_OPTS = ("-o", "--emit", "--gpu-arch", "--report", "--keep-temps", "--linker",
               "--runtime-lib", "--remarks")


def parse(args):
    """(arguments without output options, {option: value} of those)."""
    kept, seen = [], {}
    i = 0
    while i < len(args):
        a = args[i]
        name, eq, value = a.partition("=")
        if name in OUTPUT_OPTS:
            if not eq and name not in ("--keep-temps", "--remarks") and i + 1 < len(args):
                value = args[i + 1]
                i += 1
            seen[name] = value
        elif a.startswith("-o") and len(a) > 2:  # -ofile
            seen["-o"] = a[2:]
        else:
            kept.append(a)
        i += 1
    return kept, seen


def stat_key(path):
    st = os.stat(path)
    return f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"


def key(sinterc, ptxas, kept, arch):
    h = hashlib.sha256()
    for part in (stat_key(sinterc), stat_key(ptxas), arch, *kept):
        h.update(part.encode() + b"\0")
    # Input files, --freeze-input=NAME=FILE and the like: their contents.
    for a in kept:
        for cand in (a, a.rpartition("=")[2]):
            if cand and os.path.isfile(cand):
                with open(cand, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
                break
    return h.hexdigest()[:32]


def main():
    ptxas, cache, sinterc, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    kept, seen = parse(args)
    phase = next((a.partition("=")[2] for a in kept if a.startswith("--compile-to=")), None)
    if phase not in (None, "package"):
        return 0
    asked = seen.get("--gpu-arch") or DEFAULT_ARCH
    own_ptx = None
    if seen.get("--emit") == "ptx" and seen.get("-o") not in (None, "-") \
            and os.path.isfile(seen["-o"]):
        own_ptx = seen["-o"]
    os.makedirs(cache, exist_ok=True)
    work = tempfile.mkdtemp(prefix="ptxas-check.")
    failed = False
    for arch in dict.fromkeys((*ARCHS, asked)):
        mark = os.path.join(cache, key(sinterc, ptxas, kept, arch))
        if os.path.exists(mark):
            continue
        ptx = own_ptx if arch == asked and own_ptx else os.path.join(work, arch + ".ptx")
        if ptx != own_ptx:
            cmd = [sinterc, *kept, "--target=cuda", "--emit=ptx", f"--gpu-arch={arch}", "-o", ptx]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                sys.stderr.write(f"sinterc-ptxas: recompiling for {arch} failed: "
                                 f"{shlex.join(cmd)}\n{r.stderr}")
                failed = True
                continue
        cmd = [ptxas, f"-arch={arch}", ptx, "-o", os.path.join(work, arch + ".cubin")]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(f"sinterc-ptxas: ptxas -arch={arch} rejects the PTX of "
                             f"`sinterc {shlex.join(args)}` (kept: {shlex.join(cmd)})\n"
                             f"{r.stderr}{r.stdout}")
            failed = True
            continue
        open(mark, "w").close()
    if not failed:
        for f in os.listdir(work):
            os.remove(os.path.join(work, f))
        os.rmdir(work)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
