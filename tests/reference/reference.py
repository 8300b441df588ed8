#!/usr/bin/env python3
"""reference.py PROBE — checks the engine against PyTorch on random VGG-19 weights (TAP output).

The same random weights (written as safetensors), images and loss weights go to the C probe
(tests/ref-probe.c, using ns_network_load / ns_objective_eval / ns_lbfgs_minimize) and to the
PyTorch restatement of the engine's definitions in nsref.py.  Checked:
  * total loss and each weighted term (content, style, tv): relative error ≤ 1e-4;
  * the image gradient, of the total and of each term alone: ‖g − g_torch‖ / ‖g_torch‖ ≤ 1e-4;
  * 20 L-BFGS iterations from the content image against torch.optim.LBFGS (float32, as people
    run it): the same number of iterations, final loss within 1%.
Single evaluations are compared with PyTorch in float64, so that the errors measure the engine's
float32 arithmetic alone; float32 PyTorch's own error is printed beside them to show what
float32 can reach.
"""

import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError as e:
    print("1..1")
    print(f"not ok 1 - PyTorch reference: {e}; install python3-torch and python3-numpy "
          "(tools/run test has them in its Debian 13 root)")
    sys.exit(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsref  # noqa: E402

TOL = 1e-4
LBFGS_ITERATIONS = 20
LBFGS_HISTORY = 100
LBFGS_TOL = 0.01


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc), flush=True)

    def diag(self, text):
        for line in text.splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


def grad_rel(g, ref):
    return float(np.linalg.norm((g - ref).ravel()) / max(np.linalg.norm(ref.ravel()), 1e-30))


def run_probe(args, padding=None):
    # One thread on each side: the numbers do not depend on it, and on 2 shared cores spinning
    # BLAS/OpenMP threads multiply the run time.
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    if padding:
        env["NS_REF_PADDING"] = padding
    res = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args[:2]), res.returncode,
                                                   res.stderr.strip()))
    return res.stdout.splitlines()


def parse_kv(lines):
    out = {}
    for line in lines:
        key, _, value = line.partition(" ")
        out[key] = value
    return out


class Case:
    """One image size: content, style, a test point x, and loss weights that make each term ≈ 1
    there (so that all three matter)."""

    def __init__(self, name, w, h, seed, tmp, nets):
        rng = np.random.default_rng(seed)
        self.name, self.w, self.h = name, w, h
        self.content = nsref.smooth_image(rng, h, w)
        self.style = np.clip(0.5 * nsref.noise_image(rng, h, w) + nsref.smooth_image(rng, h, w) - 0.25,
                             0, 1).astype(np.float32)
        mix = 0.7 * self.content + 0.3 * nsref.noise_image(rng, h, w)
        self.x = np.ascontiguousarray(mix.transpose(2, 0, 1), dtype=np.float32)
        self.paths = {k: os.path.join(tmp, "%s-%s.npy" % (name, k)) for k in ("content", "style", "x")}
        nsref.save_npy(self.paths["content"], self.content)
        nsref.save_npy(self.paths["style"], self.style)
        nsref.save_npy(self.paths["x"], self.x)
        self.tmp = tmp
        self.objectives = {}
        for dt, net in nets.items():
            self.objectives[dt] = nsref.Objective(net, nsref.hwc_to_chw(self.content).to(dt),
                                                  nsref.hwc_to_chw(self.style).to(dt), 1, 1, 1)
        c0, s0, t0 = self.objective(torch.float64, 1, 1, 1).unweighted(
            torch.from_numpy(self.x).double())
        # Round so that the weights read well in the log; each term stays ≈ 1 at x.
        self.weights = tuple(float("%.3g" % (1.0 / v)) for v in (c0, s0, t0))

    def objective(self, dtype, alpha, beta, tv):
        obj = self.objectives[dtype]
        obj.alpha, obj.beta, obj.tv_weight = alpha, beta, tv
        return obj

    def torch_eval(self, dtype):
        """([content, style, tv] weighted, [their gradients]) at x with the case's weights."""
        obj = self.objective(dtype, *self.weights)
        parts, grads = obj.term_grads(torch.from_numpy(self.x).to(dtype))
        return parts, [g.double().numpy() for g in grads]

    def probe_eval(self, probe, weight_sets, padding=None):
        """[(total, [content, style, tv], gradient)] for each (α, β, tv) in weight_sets;
        padding (ns_padding_parse's text) replaces the network's default."""
        prefix = os.path.join(self.tmp, "%s-grad" % self.name)
        args = [probe, "eval", self.tmp + "/vgg19.safetensors", self.paths["content"],
                self.paths["style"], self.paths["x"], prefix]
        for weights in weight_sets:
            args += [repr(w) for w in weights]
        values = {}
        for line in run_probe(args, padding):
            key, k, v = line.split()
            values[key, int(k)] = float(v)
        return [(values["loss", k], [values[t, k] for t in ("content", "style", "tv")],
                 np.load("%s.%d.npy" % (prefix, k)).astype(np.float64))
                for k in range(len(weight_sets))]


def check_eval(tap, probe, case, padding=None):
    alpha, beta, tv = case.weights
    tap.diag("%s: %d×%d, alpha=%g beta=%g tv=%g%s" % (case.name, case.w, case.h, alpha, beta, tv,
                                                     ", padding " + padding if padding else ""))
    # The weights together, then each term alone, so that an error in one gradient cannot hide
    # behind a larger one.
    alone = [tuple(w if j == i else 0.0 for j, w in enumerate(case.weights)) for i in range(3)]
    results = case.probe_eval(probe, [case.weights] + alone, padding)
    ours, ours_parts, ours_grad = results[0]
    ref_parts, ref_grads = case.torch_eval(torch.float64)
    f32_parts, f32_grads = case.torch_eval(torch.float32)
    ref, f32 = sum(ref_parts), sum(f32_parts)
    ref_grad, f32_grad = sum(ref_grads), sum(f32_grads)

    tap.diag("  loss ours=%.9g torch64=%.9g torch32=%.9g" % (ours, ref, f32))
    tap.ok(rel(ours, ref) <= TOL, "%s: total loss rel. error %.2e <= %g (float32 torch: %.2e)"
           % (case.name, rel(ours, ref), TOL, rel(f32, ref)))
    for i, term in enumerate(("content", "style", "tv")):
        tap.ok(rel(ours_parts[i], ref_parts[i]) <= TOL,
               "%s: %s term %.6g vs %.6g, rel. error %.2e <= %g (float32 torch: %.2e)"
               % (case.name, term, ours_parts[i], ref_parts[i], rel(ours_parts[i], ref_parts[i]),
                  TOL, rel(f32_parts[i], ref_parts[i])))
    tap.ok(ours_grad.shape == ref_grad.shape, "%s: gradient shape %s" % (case.name, ours_grad.shape))
    err = grad_rel(ours_grad, ref_grad)
    tap.ok(err <= TOL, "%s: total gradient rel. error %.2e <= %g (float32 torch: %.2e)"
           % (case.name, err, TOL, grad_rel(f32_grad, ref_grad)))
    for i, term in enumerate(("content", "style", "tv")):
        loss, _, grad = results[1 + i]
        err = grad_rel(grad, ref_grads[i])
        tap.ok(rel(loss, ref_parts[i]) <= TOL and err <= TOL,
               "%s: %s alone: loss rel. error %.2e, gradient rel. error %.2e <= %g (float32 torch: %.2e)"
               % (case.name, term, rel(loss, ref_parts[i]), err, TOL, grad_rel(f32_grads[i], ref_grads[i])))


def check_lbfgs(tap, probe, case):
    x_path = os.path.join(case.tmp, "%s-lbfgs.npy" % case.name)
    lines = run_probe([probe, "lbfgs", case.tmp + "/vgg19.safetensors", case.paths["content"],
                       case.paths["style"]] + [repr(w) for w in case.weights]
                      + [str(LBFGS_ITERATIONS), str(LBFGS_HISTORY), x_path])
    evals = [float(l.split()[2]) for l in lines if l.startswith("eval ")]
    iters = [float(l.split()[2]) for l in lines if l.startswith("iter ")]
    kv = parse_kv(l for l in lines if not l.startswith(("eval ", "iter ")))
    ours_final = float(kv["final"])

    # torch's defaults throughout, max_eval = max_iter·5/4 included (the engine keeps that budget).
    x0 = nsref.hwc_to_chw(case.content)
    obj = case.objective(torch.float32, *case.weights)
    ref_x, ref_evals, ref_iter = nsref.run_lbfgs(obj, x0, LBFGS_ITERATIONS, LBFGS_HISTORY)
    ref, ref_parts, _ = obj.value_and_grad(ref_x)

    tap.diag("%s L-BFGS: %d iterations / %d evaluations (torch: %d / %d)"
             % (case.name, len(iters), len(evals), ref_iter, len(ref_evals)))
    for i in range(max(len(evals), len(ref_evals))):
        a = "%.9g" % evals[i] if i < len(evals) else "-"
        b = "%.9g" % ref_evals[i] if i < len(ref_evals) else "-"
        tap.diag("  eval %2d  ours %-16s torch %s" % (i + 1, a, b))
    tap.diag("  final ours=%.9g (content %.4g style %.4g tv %.4g)" % (
        ours_final, float(kv["content"]), float(kv["style"]), float(kv["tv"])))
    tap.diag("  final torch=%.9g (content %.4g style %.4g tv %.4g)" % (
        ref, ref_parts[0], ref_parts[1], ref_parts[2]))
    x_ours = np.load(x_path).astype(np.float64)
    tap.diag("  image difference ‖x_ours − x_torch‖/‖x_torch − x0‖ = %.3g" % (
        np.linalg.norm(x_ours - ref_x.double().numpy())
        / np.linalg.norm((ref_x - x0).double().numpy())))

    tap.ok(len(evals) > 0 and rel(evals[0], ref_evals[0]) <= TOL,
           "%s L-BFGS: loss at the content image matches (%.2e)"
           % (case.name, rel(evals[0], ref_evals[0]) if evals else float("nan")))
    tap.ok(len(iters) == ref_iter, "%s L-BFGS: %d iterations, torch %d" % (case.name, len(iters), ref_iter))
    tap.ok(rel(ours_final, ref) <= LBFGS_TOL,
           "%s L-BFGS: final loss %.6g vs torch %.6g, rel. difference %.2e <= %g"
           % (case.name, ours_final, ref, rel(ours_final, ref), LBFGS_TOL))
    tap.ok(rel(float(kv["f_out"]), ours_final) <= 1e-6,
           "%s L-BFGS: the loss it reports (%.9g) is that of the image it returns (%.9g)"
           % (case.name, float(kv["f_out"]), ours_final))
    tap.ok(ours_final < 0.8 * evals[0],
           "%s L-BFGS: the loss fell from %.4g to %.4g" % (case.name, evals[0], ours_final))


def main():
    if len(sys.argv) != 2:
        print("usage: reference.py PROBE", file=sys.stderr)
        return 2
    probe = os.path.abspath(sys.argv[1])
    torch.set_num_threads(1)
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix="ns-reference-")
    try:
        tensors = nsref.random_vgg19_weights(seed=1234)
        nsref.write_safetensors(os.path.join(tmp, "vgg19.safetensors"), tensors)
        nets = {dt: nsref.Vgg19(tensors, dtype=dt) for dt in (torch.float64, torch.float32)}
        cases = [Case("64x48", 64, 48, 1, tmp, nets),
                 Case("odd-41x29", 41, 29, 2, tmp, nets)]
        for case in cases:
            check_eval(tap, probe, case)
        check_lbfgs(tap, probe, cases[1])
        # The other paddings, each against torch's F.pad: on every convolution (Winograd and
        # the folded input gradient at 41×29), and on the first alone.
        for padding, size in (("replicate", (41, 29)), ("reflect:1", (64, 48))):
            padded = {dt: nsref.Vgg19(tensors, dtype=dt, padding=nsref.parse_padding(padding))
                      for dt in (torch.float64, torch.float32)}
            check_eval(tap, probe, Case("%s-%dx%d" % (padding.replace(":", ""), *size), *size, 3,
                                        tmp, padded), padding)
    except Exception as e:  # a crash is a failure, reported as such
        tap.ok(False, "reference run: %s: %s" % (type(e).__name__, e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
