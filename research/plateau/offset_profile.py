#!/usr/bin/env python3
"""Where each head looks from a probe's right-hand side, by relative offset.

Reads an activation file made with
    lens run PROBE --model M --hooks 'blocks.*.attn.hook_pattern' --positions rhs_pos --out D.h5
and prints, per layer and head, the mean attention from the right-hand side on offsets 0..8
(0: the right-hand side itself, 1: the `=`, and in `v0 + v1 + v2 = rhs` 2, 4, 6: the last,
middle and first operand, 3 and 5: the `+` signs) and on everything further back.

With --summary it prints one line per layer instead: the heads at ≥ 0.5 on one offset ("hard",
by offset) and the heads with no offset at 0.5 ("soft": those that can still move). In a fresh
run this shows which layer takes the operand offsets (layer 0 in the paper's circuit) and how
many heads are left soft. Needs numpy and h5py (reference tooling only).
"""
import sys

import h5py
import numpy as np

OFFSETS = 9


def main(path: str, summary: bool = False) -> None:
    f = h5py.File(path, "r")
    rhs = f["meta"]["rhs_pos"][:]
    rows = np.arange(len(rhs))
    lines = []
    for layer in sorted(int(k.split(".")[1]) for k in f["activations"]):
        pattern = f["activations"][f"blocks.{layer}.attn.hook_pattern"][:, 0, :, 0, :]  # [n, heads, keys]
        heads = pattern.shape[1]
        # Offsets beyond a sequence's start do not occur in the probes (contexts are longer).
        table = np.array([[pattern[rows, h, rhs - o].mean() for o in range(OFFSETS)] for h in range(heads)])
        if not summary:
            print(f"layer {layer}: mean attention from rhs at offsets 0..{OFFSETS - 1}, and further back")
            for h in range(heads):
                print(f"  h{h:<3}" + "".join(f"{c:5.2f}" for c in table[h]) + f"  rest {1 - table[h].sum():4.2f}")
            continue
        hard = {}
        soft = []
        for h in range(heads):
            o = int(table[h].argmax())
            if table[h, o] >= 0.5:
                hard.setdefault(o, []).append(h)
            else:
                soft.append(h)
        parts = [f"@{o}: " + ",".join(str(h) for h in hard[o]) for o in sorted(hard)]
        lines.append(f"L{layer} " + " ".join(parts) + f" | soft {len(soft)}: " + ",".join(map(str, soft)))
    if summary:
        print("  ||  ".join(lines))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--summary"]
    if len(arguments) != 1:
        sys.exit("usage: offset_profile.py [--summary] DUMP.h5")
    main(arguments[0], summary="--summary" in sys.argv[1:])
