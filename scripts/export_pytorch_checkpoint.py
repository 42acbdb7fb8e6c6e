#!/usr/bin/env python3
"""Turns a PyTorch state_dict of the authors' layout into a LatentLens HDF5 checkpoint.

Input: a `.pt` file holding a state_dict (or a dict with a `state_dict` / `model` entry, as a
Lightning `.ckpt` has). A `model.` prefix on every key (Lightning modules that hold the network
as `self.model`) is stripped. The configuration is inferred from the tensor shapes, except
the number of heads, which shapes cannot tell ([D, D] projections for any split): it comes
from --n-heads, else from the Lightning `hyper_parameters`, else d_model / 16 (the paper's
d_head), with a note.

The paper's model has two unused factors, `regret` and `modification`; their embeddings and
readouts are dropped (with a note), since LatentLens's vocabulary has the four others only.

Output: one float32 dataset per parameter named by its state_dict key, with PyTorch's shape,
and the configuration as root attributes, exactly as Sources/Transformer/Checkpoint.swift
writes them, so `lens` loads the file as it is.

    python scripts/export_pytorch_checkpoint.py model.ckpt --out model.h5 [--n-heads 16]

Round-trip check (Swift-initialised checkpoint → reference model → .pt → this script → Swift):
    python scripts/export_pytorch_checkpoint.py --self-test --lens .build/debug/lens
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_model import (CONFIG_ATTRIBUTES, FACTORS, Config, RecurrentTransformer,  # noqa: E402
                             load_latentlens_checkpoint, save_latentlens_checkpoint)

UNUSED_FACTORS = ("regret", "modification")
HEAD_KEYS = ("n_heads", "n_head", "nhead", "num_heads", "heads")


def read_state_dict(path: str) -> tuple[dict, dict]:
    """(state_dict, hyper-parameters) from a .pt state_dict or a Lightning .ckpt."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # older checkpoints pickle other objects next to the weights
        obj = torch.load(path, map_location="cpu", weights_only=False)
    hyper = {}
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        hyper = dict(obj.get("hyper_parameters") or {})
        obj = obj["state_dict"]
    elif isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise SystemExit(f"{path}: no state_dict found (expected a dict of tensors, or a Lightning .ckpt)")
    if obj and all(k.startswith("model.") for k in obj):
        obj = {k[len("model."):]: v for k, v in obj.items()}
    return obj, hyper


def find_heads(hyper: dict) -> int | None:
    """n_heads from (possibly nested) Lightning hyper-parameters."""
    stack = [hyper]
    while stack:
        d = stack.pop()
        for key, value in d.items():
            if key in HEAD_KEYS and isinstance(value, int):
                return value
            if isinstance(value, dict):
                stack.append(value)
            elif hasattr(value, "__dict__"):
                stack.append(vars(value))
    return None


def infer_config(state: dict, n_heads: int | None, hyper: dict, ln_eps: float) -> Config:
    def shape(key):
        if key not in state:
            raise SystemExit(f"the state_dict has no tensor {key}; is it the authors' layout?")
        return tuple(state[key].shape)

    d_model = shape("token_embedder.embeddings.syntax.weight")[1]
    layers = sorted({int(m.group(1)) for k in state if (m := re.match(r"transformer\.blocks\.layer_(\d+)\.", k))})
    if layers != list(range(len(layers))) or not layers:
        raise SystemExit(f"blocks are not numbered layer_0 … layer_{{n-1}}: found {layers}")
    heads = n_heads or find_heads(hyper)
    if heads is None:
        heads = max(1, d_model // 16)
        print(f"note: the number of heads cannot be read from shapes; assuming d_head 16 → n_heads {heads} "
              f"(pass --n-heads to override)", file=sys.stderr)
    if d_model % heads:
        raise SystemExit(f"d_model {d_model} is not divisible by n_heads {heads}")
    return Config(n_layers=len(layers), n_heads=heads, d_model=d_model, d_head=d_model // heads,
                  d_mlp=shape("transformer.blocks.layer_0.mlp.fc.weight")[0],
                  rel_window=shape("transformer.pos_model.rel_embeddings.weight")[0],
                  names=shape("token_embedder.embeddings.variable.weight")[0] - 1,
                  modulus=shape("token_embedder.embeddings.value.weight")[0] - 2, ln_eps=ln_eps)


def export(source: str, out: str, n_heads: int | None = None, ln_eps: float = 1e-5,
           ignore_unknown: bool = False) -> Config:
    state, hyper = read_state_dict(source)
    dropped = [k for k in state if any(f".{f}." in k for f in UNUSED_FACTORS)]
    if dropped:
        print(f"note: dropping the unused factors {', '.join(UNUSED_FACTORS)} ({len(dropped)} tensors: "
              f"{', '.join(dropped)})", file=sys.stderr)
    state = {k: v for k, v in state.items() if k not in dropped}
    config = infer_config(state, n_heads, hyper, ln_eps)
    model = RecurrentTransformer(config)
    expected = model.state_dict()
    unknown = sorted(set(state) - set(expected))
    if unknown:
        message = f"{len(unknown)} tensors are not part of the model: {', '.join(unknown[:10])}"
        if not ignore_unknown:
            raise SystemExit(message + " (pass --ignore-unknown to drop them)")
        print("note: " + message + "; dropped", file=sys.stderr)
    for name, param in expected.items():
        if name not in state:
            raise SystemExit(f"tensor {name} is missing from {source}")
        if tuple(state[name].shape) != tuple(param.shape):
            raise SystemExit(f"tensor {name} has shape {list(state[name].shape)}, expected {list(param.shape)}")
    model.load_state_dict({k: state[k].to(torch.float32) for k in expected}, strict=True)
    save_latentlens_checkpoint(model, out, {"source": f"export_pytorch_checkpoint.py {os.path.basename(source)}"})
    return config


def self_test(lens: str) -> None:
    """Swift init → reference model → Lightning-style .ckpt with `model.` keys and unused factors
    → export → Swift loads it (`lens solve`) and every tensor is bit-identical."""
    import h5py
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        swift = os.path.join(tmp, "swift.h5")
        subprocess.run([lens, "init", "--config", "tiny", "--seed", "5", "--out", swift], check=True)
        model = load_latentlens_checkpoint(swift)
        c = model.config
        state = {"model." + k: v for k, v in model.state_dict().items()}
        for f in UNUSED_FACTORS:  # as the authors' checkpoints carry them
            state[f"model.token_embedder.embeddings.{f}.weight"] = torch.zeros(3, c.d_model)
            state[f"model.output_layers.{f}.weight"] = torch.zeros(3, c.d_model)
            state[f"model.output_layers.{f}.bias"] = torch.zeros(3)
        ckpt = os.path.join(tmp, "authors.ckpt")
        torch.save({"state_dict": state, "hyper_parameters": {"model_config": {"n_heads": c.n_heads}}}, ckpt)
        out = os.path.join(tmp, "exported.h5")
        exported = export(ckpt, out)
        for a in CONFIG_ATTRIBUTES:
            assert getattr(exported, a) == getattr(c, a), (a, getattr(exported, a), getattr(c, a))
        with h5py.File(swift, "r") as f, h5py.File(out, "r") as g:
            for name in model.state_dict():
                assert np.array_equal(f[name][...], g[name][...]), name
                assert g[name].dtype == np.float32, name
            for a in CONFIG_ATTRIBUTES:
                assert int(f.attrs[a]) == int(g.attrs[a]), a
        result = subprocess.run([lens, "solve", "7 = x_1; x_1 + x_1 = x_2", "--model", out],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        print(result.stdout.strip().splitlines()[-1])
        print("round trip ok: lens init → reference model → .ckpt → export → lens loads it, "
              f"{len(model.state_dict())} tensors bit-identical")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", nargs="?", help=".pt state_dict or Lightning .ckpt")
    parser.add_argument("--out", help="LatentLens checkpoint to write (.h5)")
    parser.add_argument("--n-heads", type=int, help="attention heads (not recoverable from shapes)")
    parser.add_argument("--ln-eps", type=float, default=1e-5)
    parser.add_argument("--ignore-unknown", action="store_true", help="drop tensors the model does not have")
    parser.add_argument("--self-test", action="store_true", help="run the round-trip check with --lens")
    parser.add_argument("--lens", default=".build/debug/lens", help="lens binary for --self-test")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.self_test:
        self_test(args.lens)
        return
    if not args.source or not args.out:
        parser.error("give a source checkpoint and --out")
    c = export(args.source, args.out, args.n_heads, args.ln_eps, args.ignore_unknown)
    print(f"wrote {args.out}: " + ", ".join(f"{a} {getattr(c, a)}" for a in CONFIG_ATTRIBUTES))


if __name__ == "__main__":
    main()
