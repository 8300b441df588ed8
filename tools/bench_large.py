#!/usr/bin/env python3
"""tools/bench_large.py --build BUILDDIR [--sizes 4096,8192] [--max-memory 2G] [--compare-size 512]

Large images with the neural-style command and VGG-19 (the weights of $NEURAL_STYLE_WEIGHTS, else
the random VGG-19 weights tools/bench.py writes: same shapes, same cost):

1. For each size N (NS_BENCH_LARGE_SIZES, default "4096 8192"; 0 for none), an N×N stylization from a
   generated content image and a 512×512 style, coarse to fine with a few iterations per size
   (NS_BENCH_LARGE_ITERS, e.g. "12,6,3,2,2": coarse to fine, the last one at full size), all with
   the same --max-memory (NS_BENCH_LARGE_MEMORY, default 2G).  The command runs in its own
   process and reports its own peak resident memory (VmHWM).  Prints
      bench-large size=N rss_mb=… seconds=… budget_mb=… within_budget=yes|no
2. Tiled against untiled at a size where both fit (NS_BENCH_LARGE_COMPARE, default 512): the same
   iterations at one size, once with the automatic budget (the whole image at once) and once with a
   budget the whole image does not fit (tiles), with L-BFGS and again with Adam.  The style loss of
   both results is computed by the engine (tests/ref-probe eval, untiled), and the seams are
   measured on the tiled result: the mean gradient magnitude |∂x| + |∂y| of the output across the
   tile boundaries against elsewhere.  Prints
      bench-tiled size=N tile=T optimizer=O style_untiled=… style_tiled=… style_rel_diff=… seam_ratio=…
   where the targets are style_rel_diff < 0.01 and |seam_ratio − 1| < 0.1.  L-BFGS's line search
   makes a short run's end point depend on round-off (a gradient differs in its 4th digit and a
   trial step is accepted or not), so for L-BFGS the line also gives untiled_nudged_rel_diff: the
   same for an untiled run whose content differs in one pixel by one level.  Details go to stderr.
"""

import argparse
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "reference"))
sys.path.insert(0, here)
import bench  # noqa: E402  (the random weights are tools/bench.py's)


def log(msg):
    print("bench-large: " + msg, file=sys.stderr, flush=True)


def weights_path():
    """Real VGG-19 weights if the user has them, else tools/bench.py's random ones."""
    if os.environ.get("NEURAL_STYLE_WEIGHTS"):
        return os.environ["NEURAL_STYLE_WEIGHTS"]
    return bench.random_weights(say=log)


def write_png(path, rgb):
    """8-bit RGB PNG of an H×W×3 uint8 array (filter 0 on every row, fast zlib)."""
    import numpy as np
    h, w, _ = rgb.shape
    raw = np.empty((h, 1 + 3 * w), dtype=np.uint8)
    raw[:, 0] = 0
    raw[:, 1:] = rgb.reshape(h, 3 * w)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw.tobytes(), 1)))
        f.write(chunk(b"IEND", b""))


def content_image(n, seed):
    """A picture-like content: smooth shapes at several scales and some fine texture, built a
    band of rows at a time so that 8192×8192 does not need gigabytes here."""
    import numpy as np
    rng = np.random.default_rng(seed)
    out = np.empty((n, n, 3), dtype=np.uint8)
    freqs = rng.uniform(1.0, 12.0, size=(6, 2)) * 2 * np.pi / n
    phases = rng.uniform(0, 2 * np.pi, size=(6, 3))
    xs = np.arange(n, dtype=np.float32)
    band = 512
    for y0 in range(0, n, band):
        ys = np.arange(y0, min(n, y0 + band), dtype=np.float32)[:, None]
        img = np.zeros((len(ys), n, 3), dtype=np.float32)
        for k in range(6):
            for c in range(3):
                img[:, :, c] += np.sin(freqs[k, 0] * xs[None, :] + freqs[k, 1] * ys + phases[k, c])
        img = 0.5 + 0.12 * img
        img += rng.normal(0, 0.03, size=img.shape).astype(np.float32)
        out[y0:y0 + len(ys)] = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    return out


def style_image(n, seed):
    """A strongly textured style: oriented strokes in a few colours."""
    import numpy as np
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:n, 0:n].astype(np.float32)
    img = np.zeros((n, n, 3), dtype=np.float32)
    for k in range(5):
        a = rng.uniform(0, np.pi)
        f = rng.uniform(0.05, 0.3)
        colour = rng.uniform(0, 1, size=3)
        stripes = 0.5 + 0.5 * np.sin(f * (np.cos(a) * x + np.sin(a) * y) + rng.uniform(0, 6))
        img += stripes[:, :, None] ** 3 * colour[None, None, :]
    img = img / img.max()
    img += rng.normal(0, 0.05, size=img.shape)
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def run_cli(cli, args):
    """Runs the command; returns (exit status, stderr, peak RSS in MiB, seconds).  The peak is
    the one the command reports for itself (its VmHWM): wait4's ru_maxrss keeps, across the
    exec, the high-water mark of this Python process that spawned it."""
    t = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([cli] + args, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    m = re.search(r"peak memory (\d+) MiB$", text, re.M)
    rss = float(m.group(1)) if m else usage.ru_maxrss / 1024.0
    return proc.returncode, text, rss, time.perf_counter() - t


def parse_mib(text):
    """MiB from a size such as 2G, 1500M."""
    m = re.fullmatch(r"([0-9.]+)([KMGT]?)(i?B)?", text.strip(), re.I)
    if not m:
        sys.exit("bench-large: cannot read the memory size %r" % text)
    scale = {"": 1.0 / (1 << 20), "K": 1.0 / 1024, "M": 1.0, "G": 1024.0, "T": 1 << 20}
    return float(m.group(1)) * scale[m.group(2).upper()]


def read_png_rgb(path, w, h):
    """The RGB samples of a PNG written by the command, through ImageMagick's convert."""
    import numpy as np
    raw = subprocess.run(["convert", path, "-depth", "8", "rgb:-"], check=True,
                         stdout=subprocess.PIPE).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3).astype(np.float32) / 255.0


def probe_style_loss(probe, weights, content, style, x, tmp):
    """The engine's style term (β = 1e6, the CLI's VGG-19 default) at image x (H×W×3)."""
    import numpy as np
    import nsref
    paths = [os.path.join(tmp, n) for n in ("c.npy", "s.npy", "x.npy")]
    nsref.save_npy(paths[0], content)
    nsref.save_npy(paths[1], style)
    nsref.save_npy(paths[2], np.ascontiguousarray(x.transpose(2, 0, 1)))
    out = subprocess.run([probe, "eval", weights] + paths + [os.path.join(tmp, "g"), "1", "1e6", "1"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        key, _, value = line.split()
        if key == "style":
            return float(value)
    sys.exit("bench-large: ref-probe printed no style term")


def seam_ratio(img, tile):
    """Mean |∂x| + |∂y| of img across tile boundaries over that elsewhere."""
    import numpy as np
    dx = np.abs(np.diff(img, axis=1)).sum(axis=2)      # between columns x and x+1
    dy = np.abs(np.diff(img, axis=0)).sum(axis=2)      # between rows y and y+1
    bx = np.zeros(dx.shape[1], dtype=bool)
    bx[[t - 1 for t in range(tile, img.shape[1], tile)]] = True
    by = np.zeros(dy.shape[0], dtype=bool)
    by[[t - 1 for t in range(tile, img.shape[0], tile)]] = True
    seam = np.concatenate([dx[:, bx].ravel(), dy[by, :].ravel()])
    rest = np.concatenate([dx[:, ~bx].ravel(), dy[~by, :].ravel()])
    return float(seam.mean() / rest.mean())


def default_iters(n):
    """Per size, coarse to fine (256, 512, … n): a few at full size.  Beyond 4096 px from 1024 px
    only: the memory is set by the large sizes, and this run alone takes 1.5 h on two cores."""
    if n > 4096:
        return "6,3,2,2"
    sizes = 1
    while 256 * 2 ** (sizes - 1) * 1.25 < n:
        sizes += 1
    table = [12, 6, 3, 2, 2, 1, 1]
    iters = table[:sizes - 1] + ([2] if n <= 4096 else [1])
    return ",".join(str(i) for i in iters)


def plan_method(err):
    """The optimiser a run's plan line names, e.g. "L-BFGS with a history of 100"."""
    m = re.search(r"at \d+×\d+ (?:the whole image at once|in tiles of \d+ px(?: \([^)]*\))?), "
                  r"([^;]+);", err)
    return m.group(1) if m else "?"


def compare(cli, probe, weights, common, tmp, style_png, n, its, optimizer):
    """One tiled/untiled pair at n px; with L-BFGS also an untiled run whose content differs in
    one pixel by one level: the spread of the result under a perturbation that small."""
    import numpy as np
    content = content_image(n, 7)
    content_png = os.path.join(tmp, "compare.png")
    write_png(content_png, content)
    base = ["--size", str(n), "--optimize-size", "0", "--scales", "1", "--iterations", str(its),
            "--optimizer", optimizer] + common
    rc, err, rss_u, secs_u = run_cli(cli, [content_png, style_png, "-o",
                                           os.path.join(tmp, "untiled.png")] + base)
    m = re.search(r"estimated peak memory (\d+) MiB", err)
    if rc != 0 or not m or "tiles" in err:
        sys.exit("bench-large: the untiled comparison run failed:\n" + err[-2000:])
    estimate = int(m.group(1))
    method = plan_method(err)
    tile, err_t = None, ""
    for cut in (8, 16, 32, 64, 96, 128, 192, 256):
        if estimate - cut < 64:
            break
        budget = "%dM" % (estimate - cut)
        rc, err_t, rss_t, secs_t = run_cli(cli, [content_png, style_png, "-o",
                                                 os.path.join(tmp, "tiled.png"),
                                                 "--max-memory", budget] + base)
        m = re.search(r"in tiles of (\d+) px", err_t)
        # Only a plan with the same optimiser (and L-BFGS history) compares.
        if rc == 0 and m and int(m.group(1)) < n and plan_method(err_t) == method:
            tile = int(m.group(1))
            break
    if tile is None:
        log("compare %d, %s: no budget makes the image tile with the same optimiser (%s):\n%s"
            % (n, optimizer, method, err_t[-1000:]))
        print("bench-tiled size=%d optimizer=%s not_measured=no_tiled_plan_with_%s"
              % (n, optimizer, method.replace(" ", "_")), flush=True)
        return
    log("compare %d, %s: untiled %.0f s, %.0f MiB; tiled (%s, tiles of %d) %.0f s, %.0f MiB"
        % (n, optimizer, secs_u, rss_u, budget, tile, secs_t, rss_t))
    c = content.astype(np.float32) / 255.0
    s = style_image(512, 1).astype(np.float32) / 255.0
    untiled = read_png_rgb(os.path.join(tmp, "untiled.png"), n, n)
    tiled = read_png_rgb(os.path.join(tmp, "tiled.png"), n, n)
    su = probe_style_loss(probe, weights, c, s, untiled, tmp)
    st = probe_style_loss(probe, weights, c, s, tiled, tmp)
    floor = ""
    if optimizer == "lbfgs":
        nudged = content.copy()
        nudged[n // 2, n // 2, 0] ^= 1
        write_png(content_png, nudged)
        rc, err, _, _ = run_cli(cli, [content_png, style_png, "-o",
                                      os.path.join(tmp, "nudged.png")] + base)
        if rc != 0:
            sys.exit("bench-large: the perturbed untiled run failed:\n" + err[-2000:])
        sp = probe_style_loss(probe, weights, c, s,
                              read_png_rgb(os.path.join(tmp, "nudged.png"), n, n), tmp)
        floor = " untiled_nudged_rel_diff=%.2e" % (abs(sp - su) / abs(su))
    print("bench-tiled size=%d tile=%d optimizer=%s style_untiled=%.6g style_tiled=%.6g "
          "style_rel_diff=%.2e%s seam_ratio=%.3f mean_abs_pixel_diff=%.2e"
          % (n, tile, optimizer, su, st, abs(st - su) / abs(su), floor, seam_ratio(tiled, tile),
             float(np.abs(tiled - untiled).mean())), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[2])
    ap.add_argument("--build", required=True, help="the meson build directory")
    ap.add_argument("--sizes", default=os.environ.get("NS_BENCH_LARGE_SIZES", "4096 8192"))
    ap.add_argument("--max-memory", default=os.environ.get("NS_BENCH_LARGE_MEMORY", "2G"))
    ap.add_argument("--iters", default=os.environ.get("NS_BENCH_LARGE_ITERS", ""),
                    help="iterations per size, coarse to fine (default: a few, depending on N)")
    ap.add_argument("--compare-size", type=int,
                    default=int(os.environ.get("NS_BENCH_LARGE_COMPARE", "512")))
    ap.add_argument("--compare-iters", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    cli = os.path.join(build, "cli", "neural-style")
    probe = os.path.join(build, "tests", "ref-probe")
    for exe in (cli, probe):
        if not os.access(exe, os.X_OK):
            sys.exit("bench-large: %s is missing; build the project first (tools/run build)" % exe)
    weights = weights_path()
    budget_mb = parse_mib(args.max_memory)
    sizes = [int(v) for v in args.sizes.replace(",", " ").split() if int(v) > 0]
    common = ["--network", "vgg19", "--weights", weights, "--threads", str(args.threads)]

    with tempfile.TemporaryDirectory(prefix="ns-bench-large-") as tmp:
        style_png = os.path.join(tmp, "style.png")
        write_png(style_png, style_image(512, 1))

        for n in sizes:
            content_png = os.path.join(tmp, "content-%d.png" % n)
            write_png(content_png, content_image(n, n))
            iters = args.iters or default_iters(n)
            out = os.path.join(tmp, "out-%d.png" % n)
            rc, err, rss, secs = run_cli(cli, [content_png, style_png, "-o", out, "--size", str(n),
                                               "--optimize-size", "0",
                                               "--max-memory", args.max_memory,
                                               "--scale-iterations", iters] + common)
            plan = re.search(r"plan: (.*)", err)
            log("size %d: %s" % (n, plan.group(1) if plan else "(no plan line)"))
            if rc != 0:
                log("size %d failed (exit %d):\n%s" % (n, rc, err[-2000:]))
            os.unlink(content_png)
            print("bench-large size=%d rss_mb=%.0f seconds=%.0f budget_mb=%.0f within_budget=%s%s"
                  % (n, rss, secs, budget_mb, "yes" if rss <= budget_mb else "no",
                     "" if rc == 0 else " failed=%d" % rc), flush=True)
            if os.path.exists(out):
                os.unlink(out)

        # Tiled against untiled, with L-BFGS and with Adam.
        n, its = args.compare_size, args.compare_iters
        if n <= 0:
            return 0
        for optimizer in ("lbfgs", "adam"):
            compare(cli, probe, weights, common, tmp, style_png, n, its, optimizer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
