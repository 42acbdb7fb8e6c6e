#!/usr/bin/env python3
"""Writes Tests/TransformerTests/Fixtures/parity.h5: the PyTorch reference's answers that the
Swift runtime must reproduce (Tests/TransformerTests/ParityTests.swift).

Regenerate (needs torch, numpy, h5py; the result is committed, the Swift test needs no Python):
    python3 -m venv .venv && .venv/bin/pip install torch numpy h5py
    .venv/bin/python scripts/make_parity_fixture.py

The file is a LatentLens checkpoint (root attributes and one dataset per parameter, so
`Checkpoint.load` reads it as it is) plus a group `parity`:
    parity/tokens         int32 [B, L, 4]     iteration 0's input, right-padded with PAD
    parity/lengths        int32 [B]
    parity/inputs         int32 [T, B, L, 4]  each iteration's input (the recurrence)
    parity/predictions    int32 [T, B, L, 4]  argmax of every factor at each iteration
    parity/logits/{f}     float32 [T, B, L, V_f]
    parity/hooks/{name}   float32 [T, ...]    hook tensors (docs/hooks.md) at each iteration
    attrs: iterations, min_margin (smallest top-1 − top-2 logit gap anywhere), command

The model is small (2 layers, 4 heads of 8, d_model 32, MLP 64, 16 names) with window 8, and
the sequences are longer than the window, so relative-position clamping is exercised. The
reference runs in float64 on the float32 weights; the stored answers are rounded to float32.
Weights are drawn larger than a training initialisation so that attention patterns and
argmaxes are far from uniform and far from ties (ties would make "identical predictions" a
matter of rounding).
"""
from __future__ import annotations

import os
import random
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_model import (ADD, EQ_SEP, EQUALS, FACTORS, OPERATION, OPERATION_NA, PAD, VALUE,  # noqa: E402
                             VARIABLE, Config, RecurrentTransformer, save_latentlens_checkpoint)

CONFIG = Config(n_layers=2, n_heads=4, d_model=32, d_head=8, d_mlp=64, rel_window=8, names=16, modulus=23)
ITERATIONS = 3
HOOKS = [
    "hook_embed",
    "blocks.0.attn.hook_q",
    "blocks.0.attn.hook_attn_scores",
    "blocks.0.attn.hook_pattern",
    "blocks.0.attn.hook_z",
    "blocks.0.hook_resid_mid",
    "blocks.1.attn.hook_pattern",
    "blocks.1.attn.hook_result",
    "blocks.1.mlp.hook_post",
    "blocks.1.hook_resid_post",
    "ln_final.hook_normalized",
]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TransformerTests", "Fixtures", "parity.h5")


def program_tokens(rng: random.Random, nodes: int, leaves: int, filled_depth: int) -> list[tuple[int, int, int, int]]:
    """Tokens of a random computation graph (docs/model-spec.md syntax); value slots of nodes
    of depth < filled_depth carry their value, the others EMPTY."""
    c = CONFIG
    x_na, v_na, v_empty = c.names, c.modulus, c.modulus + 1
    names = rng.sample(range(c.names), nodes)
    values, depths, equations = [], [], []
    for i in range(nodes):
        if i < leaves:
            v = rng.randrange(c.modulus)
            values.append(v), depths.append(0), equations.append(([], v))
        else:
            operands = rng.sample(range(i), rng.randint(1, min(3, i)))
            values.append(sum(values[o] for o in operands) % c.modulus)
            depths.append(1 + max(depths[o] for o in operands))
            equations.append((operands, None))
    order = sorted(range(nodes), key=lambda i: (depths[i], rng.random()))
    tokens = []
    for e, i in enumerate(order):
        if e:
            tokens.append((EQ_SEP, x_na, OPERATION_NA, v_na))
        operands, literal = equations[i]
        if literal is not None:
            tokens.append((VALUE, x_na, OPERATION_NA, literal))
        for j, o in enumerate(operands):
            if j:
                tokens.append((OPERATION, x_na, ADD, v_na))
            tokens.append((VARIABLE, names[o], OPERATION_NA, v_empty))
        tokens.append((EQUALS, x_na, OPERATION_NA, v_na))
        tokens.append((VARIABLE, names[i], OPERATION_NA, values[i] if depths[i] < filled_depth else v_empty))
    return tokens


def random_model(seed: int) -> RecurrentTransformer:
    torch.manual_seed(seed)
    model = RecurrentTransformer(CONFIG)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("ln_1.weight", "ln_2.weight", "layer_norm.weight", "ln_final.weight")):
                p.copy_(1 + 0.2 * (torch.rand_like(p) * 2 - 1))
            elif name.endswith(".bias"):
                p.copy_(0.2 * (torch.rand_like(p) * 2 - 1))
            elif "embeddings" in name:
                p.copy_(torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) * (1.5 / p.shape[1] ** 0.5))
    return model


def min_margin(logits: dict) -> float:
    worst = float("inf")
    for f in FACTORS:
        top = logits[f].topk(2, dim=-1).values
        worst = min(worst, float((top[..., 0] - top[..., 1]).min()))
    return worst


def main() -> None:
    torch.set_num_threads(1)
    rng = random.Random(7)
    sequences = [program_tokens(rng, 9, 3, 0), program_tokens(rng, 6, 2, 1), program_tokens(rng, 3, 2, 0)]
    lengths = [len(s) for s in sequences]
    L = max(lengths)
    c = CONFIG
    pad = (PAD, c.names, OPERATION_NA, c.modulus)
    tokens = torch.tensor([s + [pad] * (L - len(s)) for s in sequences], dtype=torch.long)
    assert L > 2 * c.rel_window, "sequences must be longer than the window to exercise clamping"

    for seed in range(100):
        model = random_model(seed)
        float32_state = {k: v.clone() for k, v in model.state_dict().items()}
        reference = random_model(seed).double().eval()
        inputs, predictions, logits, hooks = reference.run(tokens, ITERATIONS, capture=HOOKS)
        margin = min_margin(logits)
        changed = int((inputs[-1][..., 3] != inputs[0][..., 3]).sum())
        if margin > 1e-3 and changed > 0:
            break
    else:
        raise SystemExit("no seed gave argmax margins above 1e-3")
    print(f"seed {seed}: lengths {lengths}, min top-2 margin {margin:.4f}, "
          f"{changed} slot values rewritten by the recurrence")

    model.load_state_dict(float32_state)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_latentlens_checkpoint(model, OUT, {"source": "scripts/make_parity_fixture.py"})
    with h5py.File(OUT, "a") as f:
        g = f.create_group("parity")
        g.attrs["iterations"] = ITERATIONS
        g.attrs["min_margin"] = margin
        g.attrs["command"] = ".venv/bin/python scripts/make_parity_fixture.py"
        g.create_dataset("tokens", data=tokens.numpy().astype(np.int32))
        g.create_dataset("lengths", data=np.array(lengths, dtype=np.int32))
        g.create_dataset("inputs", data=inputs.numpy().astype(np.int32))
        g.create_dataset("predictions", data=predictions.numpy().astype(np.int32))
        for f_name in FACTORS:
            g.create_dataset(f"logits/{f_name}", data=logits[f_name].numpy().astype(np.float32),
                             compression="gzip", compression_opts=9)
        hook_group = g.create_group("hooks")
        for name in HOOKS:
            hook_group.create_dataset(name, data=hooks[name].numpy().astype(np.float32),
                                      compression="gzip", compression_opts=9)
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
