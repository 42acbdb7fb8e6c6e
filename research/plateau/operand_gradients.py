#!/usr/bin/env python3
"""Does the loss want a head to attend an operand it ignores? Attention and its gradient.

Reads a checkpoint and an activation file of a probe made with
    lens run PROBE --model M --hooks 'blocks.*.attn.hook_pattern' --positions rhs_pos --out D.h5
runs the probe's sequences through scripts/reference_model.py (PyTorch, the repository's
.venv), takes the value cross-entropy at the right-hand side against the probe's answer, and
prints per head of --layer, for each operand occurrence (layer 0) or the operand's value
position (layer 1, where the paper's heads look values up), over the sequences where that place is
no other operand's: the mean attention from the
right-hand side, its median log10, and -dL/dscore (per sequence, x 1000): positive means the
loss would have the head attend there more. A softmax passes almost no gradient to a key it
gives ~0 attention, so a head at 1e-8 on an operand will not find it by gradient descent.

--soften X multiplies the layer's query, key and both relative-position projections by X
(every attention score by X^2) before measuring, to ask what the gradient would be if the
patterns were less sharp. --summary prints one line instead: the accuracy and, per operand,
the median over the layer's heads of each head's median log10 attention, the best head's, and
how many heads are above 10^-4 there (whether the layer can still see the operand at all, as
the training history's tables give it per snapshot). Reference tooling only; lens itself needs
no python.

    .venv/bin/python research/plateau/operand_gradients.py models/default.h5 D.h5 [--layer 0] [--soften 0.7] [--summary]
"""
import argparse
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

# scripts/reference_model.py, from research/plateau/ (the readings moved here from scripts/).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from reference_model import load_latentlens_checkpoint  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("dump")
    parser.add_argument("--layer", type=int, default=0)
    parser.add_argument("--soften", type=float, default=1.0)
    parser.add_argument("--summary", action="store_true")
    args = parser.parse_args()

    model = load_latentlens_checkpoint(args.model)
    if args.soften != 1.0:
        with torch.no_grad():
            for name, p in model.named_parameters():
                if f"layer_{args.layer}.attn." in name and name.split(".")[-2] in (
                        "q_proj", "k_proj", "relpos_k_proj", "relpos_q_proj"):
                    p.mul_(args.soften)

    f = h5py.File(args.dump, "r")
    meta = f["meta"]
    tokens = torch.tensor(f["tokens"][:, 0].astype(np.int64))
    rhs = torch.tensor(meta["rhs_pos"][:].astype(np.int64))
    answer = torch.tensor(meta["answer"][:].astype(np.int64))
    operands = sorted(int(k[len("operand"):-len("_pos")]) for k in meta
                      if k.startswith("operand") and k.endswith("_pos") and "value" not in k)
    rows = torch.arange(tokens.shape[0])

    kept = {}

    def keep(name, scores):
        scores.retain_grad()
        kept[name] = scores
        return scores

    scores_name = f"blocks.{args.layer}.attn.hook_attn_scores"
    logits, _ = model(tokens, intervene={scores_name: keep})
    value = logits["value"][rows, rhs]
    loss = F.cross_entropy(value, answer, reduction="sum")
    loss.backward()
    scores = kept[scores_name]
    pattern = torch.softmax(scores.detach(), dim=-1)
    accuracy = (value.argmax(-1) == answer).float().mean().item()
    if not args.summary:
        print(f"{args.dump}: {len(rows)} sequences, accuracy {accuracy:.3f}, loss {loss.item() / len(rows):.3f}"
              + (f", layer {args.layer} softened x{args.soften}" if args.soften != 1.0 else ""))
    # Layer 0 finds operand occurrences (names); layer 1 looks up their values.
    places = [(f"op{i}", f"operand{i}_pos") for i in operands] if args.layer == 0 else \
        [(f"op{i}val", f"operand{i}_value_pos") for i in operands]
    if not args.summary:
        print(f"layer {args.layer}: per operand {'occurrence' if args.layer == 0 else 'value position'}, attention / median log10 attention / -dL/dscore x 1000")
    # Each place's key position per sequence, and the sequences where that place is no other
    # operand's (a swept operand that repeats another would borrow that operand's attention);
    # the same for every head, so read once.
    keys = {field: torch.tensor(meta[field][:].astype(np.int64)) for _, field in places}
    owns = {}
    for _, field in places:
        own = torch.ones(len(rows), dtype=torch.bool)
        for _, other in places:
            if other != field:
                own &= keys[other] != keys[field]
        owns[field] = own
    medians = {label: [] for label, _ in places}
    for h in range(scores.shape[1]):
        cells = []
        for label, field in places:
            key, own = keys[field], owns[field]
            a = pattern[rows, h, rhs, key][own]
            g = -scores.grad[rows, h, rhs, key][own]
            median = float(np.median(np.log10(a.numpy() + 1e-30)))
            medians[label].append(median)
            cells.append(f"{label} {a.mean():4.2f} {median:6.1f} {g.mean() * 1e3:+7.2f}")
        if not args.summary:
            print(f"  h{h:<3}" + "   ".join(cells))
    if args.summary:
        parts = [f"acc {accuracy:.3f}"]
        for label, values in medians.items():
            parts.append(f"L{args.layer} {label} median {np.median(values):6.1f} best {max(values):5.1f}"
                         f" heads>-4 {sum(v > -4 for v in values)}")
        print(" | ".join(parts))


if __name__ == "__main__":
    main()
