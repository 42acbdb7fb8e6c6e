#!/usr/bin/env python3
"""Where each head looks from a probe's right-hand side, against the uniform baseline.

Reads an activation file made with
    lens run PROBE --model M --hooks 'blocks.*.attn.hook_pattern' --positions rhs_pos --out D.h5
and prints the probe's accuracy and, per layer and head, the attention on each operand
occurrence, on each operand's value position (its definition's right-hand side), and the
mean attention per right-hand-side value of the context (what a head spreading evenly over all
values gives). A head that looks up an operand by name shows operand-value mass far above
that mean; a "bag" head shows the two equal. Needs numpy and h5py (reference tooling only).

With --summary it prints one line instead: the accuracy, and per layer and operand the heads
that find the operand's occurrence (≥ 0.3) or look up its value (≥ 0.2 above the even
spread), as research/plateau/track_snapshots.sh collects over a run's snapshots.
"""
import sys

import h5py
import numpy as np


def main(path: str, summary: bool = False, modulus: int = 23) -> None:
    f = h5py.File(path, "r")
    meta = {k: f["meta"][k][:] for k in f["meta"]}
    n = len(meta["answer"])
    rows = np.arange(n)
    operands = sorted(int(k[len("operand"):-len("_pos")]) for k in meta
                      if k.startswith("operand") and k.endswith("_pos") and "value" not in k)
    syntax, values = f["tokens"][:, 0, :, 0], f["tokens"][:, 0, :, 3]
    predicted = f["predictions"][:, 0, :, 3][rows, meta["rhs_pos"]]
    accuracy = np.mean(predicted == meta["answer"])
    if not summary:
        print(f"{path}: {n} sequences, accuracy at rhs {accuracy:.3f}")
    found = []
    # Value positions of the context: right-hand sides (syntax id 0, VARIABLE, in the
    # syntax order of docs/model-spec.md) holding a value in Z_modulus before the probe equation; leaf literals are left out.
    context = np.arange(values.shape[1])[None, :] < meta["probe_start"][:, None]
    is_value = context & (syntax == 0) & (values < modulus)
    counts = is_value.sum(axis=1)
    header = " ".join(f"op{i}  op{i}val" for i in operands)
    for layer in sorted(int(k.split(".")[1]) for k in f["activations"]):
        pattern = f["activations"][f"blocks.{layer}.attn.hook_pattern"][:, 0, :, 0, :]  # [n, heads, keys]
        if not summary:
            print(f"layer {layer}   {header}  mean/value")
        for h in range(pattern.shape[1]):
            a = pattern[:, h, :]
            cells = []
            for i in operands:
                cells.append(a[rows, meta[f"operand{i}_pos"]].mean())
                cells.append(a[rows, meta[f"operand{i}_value_pos"]].mean())
            uniform = ((a * is_value).sum(axis=1) / np.maximum(counts, 1)).mean()
            if not summary:
                print(f"  h{h:<3} " + " ".join(f"{c:5.2f}" for c in cells) + f"  {uniform:5.2f}")
            for j, i in enumerate(operands):
                if cells[2 * j] >= 0.3:
                    found.append((layer, f"op{i}", h, cells[2 * j]))
                if cells[2 * j + 1] >= uniform + 0.2:
                    found.append((layer, f"op{i}val", h, cells[2 * j + 1]))
    if summary:
        parts = [f"acc {accuracy:.3f}"]
        for key in sorted({(layer, what) for layer, what, _, _ in found}):
            heads = sorted((-m, h) for layer, what, h, m in found if (layer, what) == key)
            parts.append(f"L{key[0]} {key[1]}: " + " ".join(f"h{h} {-m:.2f}" for m, h in heads))
        print(" | ".join(parts))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--summary"]
    if len(arguments) != 1:
        sys.exit("usage: operand_attention.py [--summary] DUMP.h5")
    main(arguments[0], summary="--summary" in sys.argv[1:])
