#!/usr/bin/env python3
"""PyTorch side of `lens bench`: the same model (scripts/reference_model.py), the same shapes,
the same JSON keys, so that `lens bench --python PY` can print both side by side.

    python benchmarks/pytorch_reference.py [--json] [--quick] [--no-compile] [--threads 2]

Figures (each a median over repetitions after a warm-up, like Sources/lens/BenchCommand.swift):
  sgemm_1024_gflops                        torch.matmul of two 1024² float32 matrices
  forward_b{B}_l{L}_tokens_per_s | _gflops  one forward pass of the paper configuration with the
                                           argmax of every factor, no grad, eager
  train_step_b32_l256_tokens_per_s | _seconds  forward + value-factor cross-entropy + backward +
                                           torch.optim.AdamW (lr 1e-4, weight decay 0.01)
  hdf5_append_mb_per_s                     h5py appending [1, 256, 1024] float32 rows, one chunk
                                           per row, to an extendable dataset (the recorder's layout)
torch.compile figures carry a `_compiled` suffix; where compiling fails the key is absent and
`notes` says why. `notes` is the only non-numeric key.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

# Inductor compiles its C++ in worker processes; keep them to the cores we measure on.
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
# OpenMP threads that spin while waiting collapse when the 2 cores are shared with other work
# (measured here under a background training job: a 1 × 64 forward took 300–640 ms with 2
# spinning threads, 12 ms with passive waiting, 10 ms with 1 thread). Passive waiting is
# PyTorch's best setting on a shared machine; set OMP_WAIT_POLICY=ACTIVE to measure the default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from reference_model import FACTORS, Config, RecurrentTransformer  # noqa: E402


class _SkipTraining(Exception):
    """--quick stops before compiling the training step."""


def timed(repetitions: int, body, warmup: int = 1) -> float:
    """Median wall time of `body` in seconds."""
    for _ in range(warmup):
        body()
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        body()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def forward_flops_per_token(c: Config, length: int) -> float:
    """Same count as BenchCommand.forwardFlopsPerToken (matmuls only)."""
    d, f, w = c.d_model, c.d_mlp, c.rel_window
    linear = 2 * (4 * d * d + 2 * d * f)
    attention = 2 * (length * d + length * d) + 2 * 2 * w * d
    return c.n_layers * (linear + attention) + 2 * d * sum(c.factor_sizes.values())


def bench_tokens(c: Config, batch: int, length: int) -> torch.Tensor:
    """Random in-vocabulary ids (the same generator as benchTokens in BenchCommand.swift)."""
    sizes = [c.factor_sizes[f] for f in FACTORS]
    state = 0x1234_5678
    ids = np.empty(batch * length * 4, dtype=np.int64)
    mask = (1 << 64) - 1
    for i in range(ids.size):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        ids[i] = (state >> 33) % sizes[i % 4]
    return torch.from_numpy(ids.reshape(batch, length, 4))


def forward_and_argmax(fn, tokens):
    logits, _ = fn(tokens)
    return torch.stack([logits[f].argmax(dim=-1) for f in FACTORS], dim=-1)


def main() -> None:
    parser = argparse.ArgumentParser(description="PyTorch reference figures for lens bench")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="fewer shapes and repetitions")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    quick = args.quick
    figures: dict[str, float] = {}
    notes: list[str] = [f"torch {torch.__version__}, {args.threads} threads, OMP_WAIT_POLICY="
                        f"{os.environ.get('OMP_WAIT_POLICY')}, python {platform.python_version()}"]
    rows: list[tuple[str, str]] = []

    # The machine's ceiling as torch sees it.
    n = 1024
    a, b = torch.full((n, n), 0.5), torch.full((n, n), 0.25)
    t = timed(3 if quick else 7, lambda: torch.matmul(a, b))
    figures["sgemm_1024_gflops"] = 2 * n ** 3 / t / 1e9
    rows.append(("torch.matmul 1024³", f"{figures['sgemm_1024_gflops']:.1f} GFLOP/s"))

    c = Config()
    model = RecurrentTransformer(c).eval()
    shapes = [(1, 64), (32, 256)] if quick else [(bb, ll) for bb in (1, 8, 32) for ll in (64, 256, 1024)]
    with torch.no_grad():
        for batch, length in shapes:
            tokens = bench_tokens(c, batch, length)
            reps = 3 if quick else (3 if batch * length >= 8192 else 10)
            t = timed(reps, lambda: forward_and_argmax(model, tokens))
            tok = batch * length / t
            figures[f"forward_b{batch}_l{length}_tokens_per_s"] = tok
            figures[f"forward_b{batch}_l{length}_gflops"] = tok * forward_flops_per_token(c, length) / 1e9
            rows.append((f"forward {batch} × {length} (eager)", f"{tok:.0f} tok/s, {t * 1000:.2f} ms"))

    # One training step at 32 × 256: value-factor loss (as the Swift bench), backward, AdamW.
    batch, length = 32, 256
    tokens = bench_tokens(c, batch, length)
    targets = tokens[..., 3]
    train_model = RecurrentTransformer(c).train()
    optimizer = torch.optim.AdamW(train_model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

    def train_step(fn):
        logits, _ = fn(tokens, factors=("value",))
        loss = F.cross_entropy(logits["value"].reshape(-1, logits["value"].shape[-1]), targets.reshape(-1))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    t = timed(2 if quick else 5, lambda: train_step(train_model))
    figures["train_step_b32_l256_tokens_per_s"] = batch * length / t
    figures["train_step_b32_l256_seconds"] = t
    rows.append(("training step 32 × 256 (eager)", f"{batch * length / t:.0f} tok/s, {t * 1000:.0f} ms"))

    # torch.compile where it works on this machine (inductor needs a C++ compiler).
    if not args.no_compile:
        try:
            compiled = torch.compile(model, dynamic=False)
            with torch.no_grad():
                for batch_c, length_c in [(1, 64), (32, 256)]:
                    tokens_c = bench_tokens(c, batch_c, length_c)
                    start = time.perf_counter()
                    forward_and_argmax(compiled, tokens_c)
                    compile_s = time.perf_counter() - start
                    t = timed(3 if quick else 10, lambda: forward_and_argmax(compiled, tokens_c))
                    tok = batch_c * length_c / t
                    figures[f"forward_b{batch_c}_l{length_c}_tokens_per_s_compiled"] = tok
                    rows.append((f"forward {batch_c} × {length_c} (torch.compile)",
                                 f"{tok:.0f} tok/s, {t * 1000:.2f} ms (compiled in {compile_s:.0f} s)"))
            if quick:
                raise _SkipTraining()
            compiled_train = torch.compile(train_model, dynamic=False)
            t = timed(2 if quick else 5, lambda: train_step(compiled_train), warmup=2)
            figures["train_step_b32_l256_tokens_per_s_compiled"] = batch * length / t
            rows.append(("training step 32 × 256 (torch.compile)", f"{batch * length / t:.0f} tok/s, {t * 1000:.0f} ms"))
        except _SkipTraining:
            notes.append("--quick: the torch.compile training step is skipped (compiling it takes minutes)")
        except Exception as error:  # report, keep the eager figures
            notes.append(f"torch.compile skipped: {type(error).__name__}: {str(error).splitlines()[0][:200]}")
    else:
        notes.append("torch.compile skipped (--no-compile)")

    # h5py appending the recorder's layout: [1, 256, 1024] float32 rows, one chunk per row.
    row_shape = (1, 256, 1024)
    row = np.full(row_shape, 0.5, dtype=np.float32)
    rows_per_file = 32 if quick else 128
    with tempfile.TemporaryDirectory(prefix="lens-bench-py-") as directory:
        counter = [0]

        def append_file():
            counter[0] += 1
            with h5py.File(os.path.join(directory, f"a{counter[0]}.h5"), "w") as f:
                ds = f.create_dataset("x", shape=(0,) + row_shape, maxshape=(None,) + row_shape,
                                      chunks=(1,) + row_shape, dtype=np.float32)
                for i in range(rows_per_file):
                    ds.resize(i + 1, axis=0)
                    ds[i] = row
                f.flush()

        t = timed(2 if quick else 5, append_file)
    megabytes = rows_per_file * row.nbytes / 1e6
    figures["hdf5_append_mb_per_s"] = megabytes / t
    rows.append(("h5py append (1 MB rows)", f"{megabytes / t:.0f} MB/s"))

    if args.json:
        print(json.dumps({**{k: figures[k] for k in sorted(figures)}, "notes": notes}, indent=2))
    else:
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            print(name.ljust(width + 2) + value)
        for note in notes:
            print("note: " + note)


if __name__ == "__main__":
    main()
