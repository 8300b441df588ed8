#!/usr/bin/env python3
"""tools/bench.py --build BUILDDIR [--sizes 256,512] [--iters N] [--threads T] [--rounds R] [--baseline DIR]

Times one objective evaluation (the loss and its gradient with respect to the image: VGG-19
forward to relu5_1, content loss at relu4_2, Gram style losses at relu1_1…relu5_1, total
variation, and the backward pass to the image) in the engine and in PyTorch, on the same random
VGG-19 weights and the same images.  An evaluation is the unit of work of L-BFGS (one or more
per iteration), so milliseconds per evaluation compare the two fairly.  Each side runs in its own
process with T threads (default 2), one warm-up evaluation, then N timed ones (default 10; the
median is reported, as the machine may be shared); each process reports its own peak RSS
(VmHWM).  Sizes are N×N images (NS_BENCH_SIZES, default "256 512"); NS_BENCH_ITERS sets N.

Prints, per size:
  bench size=N ours_ms=… torch_ms=… ratio=… ours_rss_mb=… torch_rss_mb=…
  gflops size=N gflop_per_eval=… ours_gflops=… torch_gflops=…
where ratio = ours_ms / torch_ms and the GFLOP count is that of the convolutions computed: every
conv forward up to conv5_1 plus its input gradient (conv1_1's included, since the image
gradient is the point), 2·cout·cin·9·h·w each.  Details go to stderr.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "reference"))

WEIGHTS_SEED = 0

# What keeps each library to AVX2 on an AVX-512 CPU.  Not an AVX2-only machine: the cores,
# caches and clock stay this machine's, so the ratio is an estimate of one.
AVX2_ONLY_ENV = {
    "OPENBLAS_CORETYPE": "Haswell",
    "NEURAL_STYLE_SIMD": "avx2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def cache_dir():
    base = os.environ.get("NEURAL_STYLE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "neural-style")
    return os.path.join(base, "bench")


def random_weights(say=log):
    """The random VGG-19 weights (WEIGHTS_SEED) in the cache, written on first use."""
    import nsref
    path = os.path.join(cache_dir(), "vgg19-random-%d.safetensors" % WEIGHTS_SEED)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        say("writing random VGG-19 weights to %s (once)" % path)
        nsref.write_safetensors(path + ".part", nsref.random_vgg19_weights(WEIGHTS_SEED))
        os.replace(path + ".part", path)
    return path


def peak_rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def perturb(x):
    """The probe's perturbation of the start point, so that the content term is not zero."""
    import numpy as np
    i = np.arange(x.size, dtype=np.uint64)
    return (x.ravel() + 0.01 * ((i * np.uint64(2654435761)) % np.uint64(1000)).astype(np.float32)
            / np.float32(1000)).astype(np.float32).reshape(x.shape)


def torch_child(weights, content, style, evals, threads):
    """Runs in its own process: the PyTorch side of one size."""
    t0 = time.perf_counter()
    import numpy as np
    import torch
    import nsref

    torch.set_num_threads(threads)
    tensors = nsref.read_safetensors(weights)
    net = nsref.Vgg19(tensors, dtype=torch.float32)
    c = nsref.hwc_to_chw(nsref.load_npy(content))
    s = nsref.hwc_to_chw(nsref.load_npy(style))
    obj = nsref.Objective(net, c, s, 1.0, 1.0, 1.0)
    x = torch.from_numpy(perturb(c.numpy()))
    print("setup_ms %.3f" % ((time.perf_counter() - t0) * 1e3), flush=True)
    for i in range(-1, evals):
        t = time.perf_counter()
        f, _, _ = obj.value_and_grad(x)
        print("%s %.3f %.9g" % ("warmup_ms" if i < 0 else "eval_ms", (time.perf_counter() - t) * 1e3, f),
              flush=True)
    print("peak_rss_kb %d" % peak_rss_kb(), flush=True)


def run_side(name, args, env):
    t = time.perf_counter()
    res = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if res.returncode != 0:
        sys.exit("bench: the %s run failed (%d): %s" % (name, res.returncode, res.stderr.strip()))
    evals, losses, out = [], [], {}
    for line in res.stdout.splitlines():
        parts = line.split()
        if parts[0] == "eval_ms":
            evals.append(float(parts[1]))
            losses.append(float(parts[2]))
        elif parts[0] == "warmup_ms":
            out["warmup_ms"] = float(parts[1])
            losses.append(float(parts[2]))
        else:
            out[parts[0]] = float(parts[1])
    out["evals"], out["losses"] = evals, losses
    out["wall_s"] = time.perf_counter() - t
    return out


def report(size, ours, base, theirs):
    import nsref
    ours_ms = statistics.median(ours["evals"])
    torch_ms = statistics.median(theirs["evals"])
    sides = (("ours", ours), ("torch", theirs)) + ((("baseline", base),) if base else ())
    for name, side in sides:
        log("size %d %s: setup %.0f ms, warm-up %.0f ms, evals (ms) %s, loss %.6g"
            % (size, name, side["setup_ms"], side["warmup_ms"],
               " ".join("%.0f" % v for v in side["evals"]), side["losses"][0]))
    loss_rel = abs(ours["losses"][0] - theirs["losses"][0]) / abs(theirs["losses"][0])
    if loss_rel > 1e-3:    # timing two different computations would mean nothing
        sys.exit("bench: size %d: the engine's loss %.9g differs from torch's %.9g (rel. %.2e)"
                 % (size, ours["losses"][0], theirs["losses"][0], loss_rel))
    line = ("bench size=%d ours_ms=%.1f torch_ms=%.1f ratio=%.3f ours_rss_mb=%.1f torch_rss_mb=%.1f"
            % (size, ours_ms, torch_ms, ours_ms / torch_ms, ours["peak_rss_kb"] / 1024,
               theirs["peak_rss_kb"] / 1024))
    if base:
        base_ms = statistics.median(base["evals"])
        line += (" baseline_ms=%.1f baseline_ratio=%.3f baseline_rss_mb=%.1f"
                 % (base_ms, base_ms / torch_ms, base["peak_rss_kb"] / 1024))
    print(line, flush=True)
    gflop = nsref.conv_flops_per_eval(size, size) / 1e9
    print("gflops size=%d gflop_per_eval=%.2f ours_gflops=%.2f torch_gflops=%.2f"
          % (size, gflop, gflop / (ours_ms / 1e3), gflop / (torch_ms / 1e3)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[2])
    ap.add_argument("--build", help="the meson build directory (holds tests/ref-probe)")
    ap.add_argument("--sizes", default=os.environ.get("NS_BENCH_SIZES", "256 512"),
                    help="image sizes N (N×N), comma or space separated")
    ap.add_argument("--iters", type=int, default=int(os.environ.get("NS_BENCH_ITERS", "10")),
                    help="timed evaluations per size, after one warm-up")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("NS_BENCH_ROUNDS", "1")),
                    help="repeat each size R times, the sides taking turns; prints every round")
    ap.add_argument("--baseline", help="another build directory (an older commit) timed in turn "
                    "with ours and torch, so that both are measured under the same conditions")
    ap.add_argument("--isa", choices=("native", "avx2"), default="native",
                    help="avx2: both sides limited to AVX2 code (OpenBLAS's Haswell kernels, the "
                    "engine's AVX2 path, ATen's and oneDNN's AVX2 kernels), to estimate the ratio "
                    "of an AVX2-only CPU on an AVX-512 one")
    ap.add_argument("--torch-child", nargs=5, metavar=("WEIGHTS", "CONTENT", "STYLE", "EVALS", "THREADS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.torch_child:
        w, c, s, n, t = args.torch_child
        torch_child(w, c, s, int(n), int(t))
        return 0
    if not args.build:
        ap.error("--build BUILDDIR is required")
    probe = os.path.join(os.path.abspath(args.build), "tests", "ref-probe")
    if not os.access(probe, os.X_OK):
        sys.exit("bench: %s is missing; build the project first (tools/run build)" % probe)
    sizes = [int(v) for v in args.sizes.replace(",", " ").split()]

    import numpy as np
    import nsref

    weights = random_weights()

    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    if args.isa == "avx2":
        env.update(AVX2_ONLY_ENV)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(here, "..", "tests", "reference"), here]
                                        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))

    # Other processes skew both sides; say how busy the machine was.
    log("load average before: %.2f (%d CPUs), isa %s" % (os.getloadavg()[0], os.cpu_count() or 0,
                                                          args.isa))
    with tempfile.TemporaryDirectory(prefix="ns-bench-") as tmp:
        for size in sizes:
            rng = np.random.default_rng(size)
            content, style = os.path.join(tmp, "content.npy"), os.path.join(tmp, "style.npy")
            nsref.save_npy(content, nsref.smooth_image(rng, size, size))
            nsref.save_npy(style, np.clip(0.5 * nsref.noise_image(rng, size, size)
                                          + nsref.smooth_image(rng, size, size) - 0.25, 0, 1))
            for r in range(args.rounds):
                ours = run_side("engine", [probe, "bench", weights, content, style, str(args.iters),
                                           str(args.threads)], env)
                base = None
                if args.baseline:
                    base = run_side("baseline", [os.path.join(os.path.abspath(args.baseline), "tests",
                                                              "ref-probe"), "bench", weights, content,
                                                 style, str(args.iters), str(args.threads)], env)
                theirs = run_side("torch", [sys.executable, os.path.abspath(__file__), "--torch-child",
                                            weights, content, style, str(args.iters), str(args.threads)], env)
                report(size, ours, base, theirs)
            log("load average after size %d: %.2f" % (size, os.getloadavg()[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
