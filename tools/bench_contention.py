#!/usr/bin/env python3
"""tools/bench_contention.py --build BUILDDIR [--rounds 3] [--busy 0,1,2] [--size 384] [--iterations 20]

How much a run slows down when other processes keep the cores busy.  On two cores, one busy
process beside a run that uses both should cost about 1.5–2× (a fair share); a run whose
threads wait for each other at every step (a handoff to a thread the scheduler has put off)
slows down far more: issue 15 saw 50× in the plug-in's preview.

For each number of busy processes B (busy loops in their own processes, started before and
stopped after each run), the CLI stylizes the sample landscape with the built-in network
(--scales 1, so every iteration is the same work) ROUNDS times; the wall time of each run is
recorded.  Prints, per B:
  contention busy=B threads=T wall_s=median (min–max) cpu_s=median slowdown=median/median(B=0)
and the target line for B=1 (no worse than 2.5×).  The machine may be shared: the spread is
printed, not only the best run.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
TARGET_ONE_BUSY = 2.5


def log(msg):
    print("bench-contention: " + msg, file=sys.stderr, flush=True)


def busy_processes(n):
    # A plain busy loop in its own process, as a compile or another filter would be.
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def one_run(cli, content, style, out, size, iterations, threads):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([cli, content, style, "-o", out, "--network", "embedded", "--size", str(size),
                        "--iterations", str(iterations), "--scales", "1", "--threads", str(threads),
                        "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("bench-contention: the run failed: " + p.stderr.strip())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--busy", default="0,1,2")
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="0: one per processor")
    args = ap.parse_args()

    cli = os.path.join(args.build, "cli", "neural-style")
    samples = os.path.join(here, "..", "data", "samples")
    content = os.path.join(samples, "content-landscape.jpg")
    style = os.path.join(samples, "style-starry-night.jpg")
    threads = args.threads or os.cpu_count()
    baseline = None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.png")
        for b in [int(x) for x in args.busy.split(",")]:
            walls, cpus = [], []
            for r in range(args.rounds):
                procs = busy_processes(b)
                try:
                    time.sleep(0.5 if b else 0)     # let the busy loops take their share
                    wall, cpu = one_run(cli, content, style, out, args.size, args.iterations,
                                        threads)
                finally:
                    for p in procs:
                        p.kill()
                        p.wait()
                walls.append(wall)
                cpus.append(cpu)
                log("busy=%d round %d: %.1f s wall, %.1f s CPU" % (b, r + 1, wall, cpu))
            med = statistics.median(walls)
            if b == 0:
                baseline = med
            slow = med / baseline if baseline else float("nan")
            print("contention busy=%d threads=%d wall_s=%.2f (%.2f–%.2f) cpu_s=%.2f slowdown=%.2f"
                  % (b, threads, med, min(walls), max(walls), statistics.median(cpus), slow),
                  flush=True)
            if b == 1 and baseline:
                print("contention target: one busy process costs at most %.1f×: %s (%.2f×)"
                      % (TARGET_ONE_BUSY, "met" if slow <= TARGET_ONE_BUSY else "NOT met", slow),
                      flush=True)


if __name__ == "__main__":
    main()
