#!/usr/bin/env python3
"""Writes Tests/TransformerTests/Fixtures/authors.h5: a checkpoint of the authors' layout
brought in by the exporter, with their network's logits, for
Tests/TransformerTests/AuthorsLayoutTests.swift (which needs no Python).

Regenerate (needs torch, numpy, h5py; the result is committed):
    make .venv/bin/python && .venv/bin/python scripts/make_authors_fixture.py

Steps: a random network of the authors' layout (scripts/authors_layout.py: six factors, every
tensor non-trivial, LayerNorms included) is saved as their Lightning training saves it
(`model._orig_mod.` keys, configuration in `hyper_parameters`); scripts/export_pytorch_checkpoint.py
turns that file into the LatentLens checkpoint written here; the group `authors` adds
    authors/tokens            int32 [B, L, 4]   right-padded with PAD, L > 2 × the 64-token window
    authors/lengths           int32 [B]
    authors/logits/{factor}   float32 [B, L, V_f]  their network's logits (float64 forward), four factors
    attrs: command, logit_scale (the largest |logit|), state_dict_names (every key of their
           state_dict, in its order)
"""
from __future__ import annotations

import os
import sys
import tempfile

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from authors_layout import (AuthorsNetwork, latentlens_program_tokens, model_config, randomise,  # noqa: E402
                            save_lightning_checkpoint)
from export_pytorch_checkpoint import to_latentlens  # noqa: E402
from reference_model import FACTORS  # noqa: E402

NAMES, MODULUS = 32, 23
CONFIG = model_config(n_layers=2, n_heads=4, d_model=32, d_mlp=64, rel_window=64, names=NAMES, modulus=MODULUS)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TransformerTests", "Fixtures", "authors.h5")


def main() -> None:
    torch.set_num_threads(1)
    network = randomise(AuthorsNetwork(CONFIG), seed=25).eval()
    programs = [latentlens_program_tokens(NAMES, MODULUS, nodes, seed) for nodes, seed in ((30, 1), (22, 2))]
    lengths = [len(p) for p in programs]
    length = max(lengths)
    assert min(lengths) > 64, lengths
    pad = (3, NAMES, 1, MODULUS)
    tokens = torch.tensor([p + [pad] * (length - len(p)) for p in programs], dtype=torch.long)
    with torch.no_grad():
        logits = network.double()(AuthorsNetwork.six_factors(tokens))[:4]
    network.float()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, "last.ckpt")
        save_lightning_checkpoint(network, ckpt, compiled=True)
        to_latentlens(ckpt, OUT)
    scale = max(float(x.abs().max()) for x in logits)
    with h5py.File(OUT, "a") as f:
        f.attrs["source"] = "scripts/make_authors_fixture.py"
        g = f.create_group("authors")
        g.attrs["command"] = ".venv/bin/python scripts/make_authors_fixture.py"
        g.attrs["logit_scale"] = scale
        g.create_dataset("tokens", data=tokens.numpy().astype(np.int32))
        g.create_dataset("lengths", data=np.array(lengths, dtype=np.int32))
        for name, values in zip(FACTORS, logits):
            g.create_dataset(f"logits/{name}", data=values.numpy().astype(np.float32))
        g.attrs["state_dict_names"] = list(network.state_dict())
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT) / 1024:.0f} KiB): lengths {lengths}, "
          f"logit scale {scale:.2f}")


if __name__ == "__main__":
    main()
