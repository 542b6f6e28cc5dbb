"""The standard training step in PyTorch on the CPU, for bench/node-bench.ts (docs/performance.md).

The same step as the engine's gdSteps (docs/math.md sections 2-6): fresh noise z every step,
x_t = a x0 + sigma z, the student's softmax score, L = mean ||s(x_t) + z / sigma||^2, autograd's
dL/dm and one GD update, in float32. Prints one JSON line: median seconds per step and
sample-gradients per second over `steps` steps after `warmup`.
"""
import argparse
import json
import math
import os
import statistics
import time

import torch


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=2**20)
    p.add_argument("--d", type=int, default=64)
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--t", type=float, default=0.5)
    p.add_argument("--lr", type=float, default=0.05)
    args = p.parse_args()
    # Every core, as the engine has: some builds (Debian's) start with one thread.
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(11)
    a = math.exp(-args.t)
    sigma = math.sqrt(-math.expm1(-2 * args.t))
    x0 = torch.randn(args.n, args.d)
    m = (2 * a * torch.randn(args.k, args.d)).requires_grad_(True)
    times = []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        z = torch.randn(args.n, args.d)
        xt = a * x0 + sigma * z
        logits = xt @ m.T - 0.5 * (m * m).sum(1)
        w = torch.softmax(logits, dim=1)
        r = w @ m - xt + z / sigma
        loss = (r * r).sum(1).mean()
        (grad,) = torch.autograd.grad(loss, m)
        with torch.no_grad():
            m -= args.lr * grad
        if not math.isfinite(loss.item()):
            raise SystemExit(f"the PyTorch step diverged at step {i}")
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "secondsPerStep": seconds,
        "stepSeconds": times,
        "sampleGradsPerSec": args.n / seconds,
    }))


if __name__ == "__main__":
    main()
