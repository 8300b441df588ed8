#!/usr/bin/env python3
"""lbfgs_torch.py — torch.optim.LBFGS(line_search_fn="strong_wolfe") on two small problems,
for comparison with engine/lbfgs.c (tests/test-lbfgs.c, /lbfgs/torch-*, holds these numbers).

  rosenbrock  (1 − x)² + 100 (y − x²)² from (−1.2, 1)
  pow15       Σ |xᵢ − 1|^1.5 over 10 variables from xᵢ = 3 − 0.05 i (most of its line
              searches go through the zoom phase)

One step() call with max_iter=20 (so max_eval=25, torch's default), history 100, lr 1, as the
engine runs.  Prints, in float64 and float32, each accepted iterate (obtained by re-running
with max_iter=k and max_eval fixed at 25, which gives the same first k iterations), then the
final x, f, iteration and evaluation counts.  Note that torch's n_iter also counts an
iteration that stops at once because the direction is no longer a descent direction; the
engine does not call its iteration callback for that one.

Run inside the Debian 13 root:  tools/run exec python3 tests/reference/lbfgs_torch.py
"""

import torch

ITERATIONS = 20
HISTORY = 100


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def pow15(x):
    return (x - 1).abs().pow(1.5).sum()


PROBLEMS = {
    "rosenbrock": (rosenbrock, [-1.2, 1.0]),
    "pow15": (pow15, [3.0 - 0.05 * i for i in range(10)]),
}


def run(problem, dtype, max_iter, max_eval=None):
    fn, x0 = PROBLEMS[problem]
    x = torch.tensor(x0, dtype=torch.float64).to(dtype).requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1, max_iter=max_iter, max_eval=max_eval,
                            history_size=HISTORY, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        f = fn(x)
        f.backward()
        return f

    opt.step(closure)
    state = opt.state[x]
    with torch.no_grad():
        f = float(fn(x))
    return x.detach().tolist(), f, state["n_iter"], state["func_evals"]


def main():
    default_max_eval = ITERATIONS * 5 // 4
    for problem in PROBLEMS:
        for dtype in (torch.float64, torch.float32):
            print("# %s, %s" % (problem, dtype))
            for k in range(1, ITERATIONS + 1):
                x, f, n_iter, n_evals = run(problem, dtype, k, default_max_eval)
                if n_iter < k:
                    break
                print("iter %2d  x[0:2] = (%.9f, %.9f)  f = %.9g  evals %d"
                      % (k, x[0], x[1], f, n_evals))
            x, f, n_iter, n_evals = run(problem, dtype, ITERATIONS)
            print("final (max_iter %d, max_eval %d): x[0:2] = (%.9f, %.9f)  f = %.9g  "
                  "iterations %d  evals %d"
                  % (ITERATIONS, default_max_eval, x[0], x[1], f, n_iter, n_evals))


if __name__ == "__main__":
    main()
