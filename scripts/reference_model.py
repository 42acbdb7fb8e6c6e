#!/usr/bin/env python3
"""An independent PyTorch implementation of LatentLens's recurrent transformer.

Written from docs/model-spec.md and the hook points of docs/hooks.md, not from
the Swift sources, so that agreement between the two is evidence that both follow the spec.

* Module names reproduce the authors' state_dict keys exactly (``model.state_dict().keys()``
  equals the parameter list of docs/model-spec.md, in the same order): the factor embeddings
  and readouts are ModuleLists indexed 0 syntax, 1 variable, 2 operation, 3 value.
* ``load_latentlens_checkpoint(path)`` reads a LatentLens HDF5 checkpoint with h5py (files
  written before the authors' names were adopted, schema_version 1, too).
* ``model(tokens, capture=...)`` returns the logits of every factor and, on request, a dict
  of intermediates named like the hook points of docs/hooks.md (``blocks.0.attn.hook_pattern``, ...).
* ``model.run(tokens, iterations)`` runs the recurrence through the discrete bottleneck.

Usage as a script (a quick look at a checkpoint):
    python scripts/reference_model.py m.h5 "17 = x_1; x_1 + x_1 = x_2"
"""
from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

FACTORS = ("syntax", "variable", "operation", "value")

# Syntax ids (docs/model-spec.md "Factored tokens").
VARIABLE, OPERATION, VALUE, PAD, UNK, EQUALS, EQ_SEP = range(7)
ADD, OPERATION_NA = 0, 1


@dataclass
class Config:
    """Model hyper-parameters; names as in the checkpoint's root attributes."""

    n_layers: int = 2
    n_heads: int = 16
    d_model: int = 256
    d_head: int = 16
    d_mlp: int = 1024
    rel_window: int = 64
    names: int = 128
    modulus: int = 23
    ln_eps: float = 1e-5

    @property
    def factor_sizes(self) -> dict:
        return {"syntax": 7, "variable": self.names + 1, "operation": 2, "value": self.modulus + 2}

    def validate(self) -> None:
        if self.n_heads * self.d_head != self.d_model:
            raise ValueError(f"n_heads × d_head must equal d_model: {self.n_heads} × {self.d_head} ≠ {self.d_model}")
        for name in ("n_layers", "n_heads", "d_model", "d_head", "d_mlp", "rel_window", "names"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, found {getattr(self, name)}")


class TokenEmbedder(nn.Module):
    """Sum of one learned embedding per factor (no absolute position embedding)."""

    def __init__(self, c: Config):
        super().__init__()
        self.embeddings = nn.ModuleList([nn.Embedding(c.factor_sizes[f], c.d_model) for f in FACTORS])

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return sum(table(tokens[..., i]) for i, table in enumerate(self.embeddings))


class RelativePositions(nn.Module):
    """The shared table E_rel [W, D] and its LayerNorm; every layer projects LN(E_rel)."""

    def __init__(self, c: Config):
        super().__init__()
        self.relpos_embeddings = nn.Embedding(c.rel_window, c.d_model)
        self.layer_norm = nn.LayerNorm(c.d_model, eps=c.ln_eps)

    def forward(self) -> torch.Tensor:
        return self.layer_norm(self.relpos_embeddings.weight)


def relative_index(length: int, window: int, device=None) -> torch.Tensor:
    """δ[n, m] = clamp(m − n, −(W−1), 0) + (W−1), an int64 [L, L] table."""
    n = torch.arange(length, device=device)[:, None]
    m = torch.arange(length, device=device)[None, :]
    return (m - n).clamp(-(window - 1), 0) + (window - 1)


class Attention(nn.Module):
    """Causal DeBERTa-style disentangled attention with relative positions."""

    def __init__(self, c: Config):
        super().__init__()
        self.c = c
        d = c.d_model
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.o_proj = nn.Linear(d, d)
        self.relpos_k_proj = nn.Linear(d, d)
        self.relpos_q_proj = nn.Linear(d, d)

    def forward(self, a: torch.Tensor, rel: torch.Tensor, hook) -> torch.Tensor:
        c = self.c
        B, L, _ = a.shape
        H, Dh, W = c.n_heads, c.d_head, c.rel_window
        q = hook("attn.hook_q", self.q_proj(a).view(B, L, H, Dh))
        k = hook("attn.hook_k", self.k_proj(a).view(B, L, H, Dh))
        v = hook("attn.hook_v", self.v_proj(a).view(B, L, H, Dh))
        rk = self.relpos_k_proj(rel).view(W, H, Dh).transpose(0, 1)   # [H, W, Dh]
        rq = self.relpos_q_proj(rel).view(W, H, Dh).transpose(0, 1)
        qh, kh, vh = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B, H, L, Dh]
        delta = relative_index(L, W, a.device)
        # content-to-position: c2p[n, δ] = q_n · Rk[δ]; position-to-content: p2c[m, δ] = k_m · Rq[δ]
        c2p = torch.matmul(qh, rk.transpose(-1, -2))                      # [B, H, L(n), W]
        p2c = torch.matmul(kh, rq.transpose(-1, -2))                      # [B, H, L(m), W]
        index = delta.expand(B, H, L, L)
        scores = torch.matmul(qh, kh.transpose(-1, -2))                   # [B, H, n, m]
        scores = scores + torch.gather(c2p, -1, index)
        # p2c term at (n, m) is p2c[m, δ(n, m)]: gather row m with the transposed index, transpose back.
        scores = scores + torch.gather(p2c, -1, index.transpose(-1, -2)).transpose(-1, -2)
        scores = scores / math.sqrt(3 * Dh)
        causal = torch.ones(L, L, dtype=torch.bool, device=a.device).triu(1)
        scores = scores.masked_fill(causal, float("-inf"))
        scores = hook("attn.hook_attn_scores", scores)
        pattern = hook("attn.hook_pattern", torch.softmax(scores, dim=-1))
        z = hook("attn.hook_z", torch.matmul(pattern, vh).transpose(1, 2))  # [B, L, H, Dh]
        if hook.wants("attn.hook_result"):
            # Per-head output without the bias: z[n,h] · Wo[:, h·Dh:(h+1)·Dh]ᵀ.
            wo = self.o_proj.weight.view(c.d_model, H, Dh)
            result = hook("attn.hook_result", torch.einsum("blhe,dhe->blhd", z, wo))
            return result.sum(dim=2) + self.o_proj.bias
        return self.o_proj(z.reshape(B, L, c.d_model))


class MLP(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.fc = nn.Linear(c.d_model, c.d_mlp)
        self.proj = nn.Linear(c.d_mlp, c.d_model)

    def forward(self, x: torch.Tensor, hook) -> torch.Tensor:
        pre = hook("mlp.hook_pre", self.fc(x))
        post = hook("mlp.hook_post", F.relu(pre))
        return self.proj(post)


class Block(nn.Module):
    """Pre-LN block: x + attn(LN1 x), then + mlp(LN2 x)."""

    def __init__(self, c: Config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c.d_model, eps=c.ln_eps)
        self.attn = Attention(c)
        self.ln_2 = nn.LayerNorm(c.d_model, eps=c.ln_eps)
        self.mlp = MLP(c)

    def forward(self, x: torch.Tensor, rel: torch.Tensor, hook) -> torch.Tensor:
        x = hook("hook_resid_pre", x)
        attn_out = hook("hook_attn_out", self.attn(hook("ln1.hook_normalized", self.ln_1(x)), rel, hook))
        x = hook("hook_resid_mid", x + attn_out)
        mlp_out = hook("hook_mlp_out", self.mlp(hook("ln2.hook_normalized", self.ln_2(x)), hook))
        return hook("hook_resid_post", x + mlp_out)


class Transformer(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.pos_model = RelativePositions(c)
        self.blocks = nn.ModuleDict({f"layer_{l}": Block(c) for l in range(c.n_layers)})
        self.ln_final = nn.LayerNorm(c.d_model, eps=c.ln_eps)


class _Hooks:
    """Names intermediates like the hook points of docs/hooks.md and keeps those that `capture` selects.

    `capture` is None (nothing kept, no extra work), a glob or a list of globs. `intervene`
    maps a glob to a function (name, tensor) -> tensor that replaces the intermediate.
    """

    def __init__(self, capture, intervene=None):
        if isinstance(capture, str):
            capture = [capture]
        self.patterns = list(capture or [])
        self.intervene = dict(intervene or {})
        self.prefix = ""
        self.cache: dict[str, torch.Tensor] = {}

    def wants(self, short: str) -> bool:
        name = self.prefix + short
        return any(fnmatch.fnmatchcase(name, p) for p in list(self.patterns) + list(self.intervene))

    def __call__(self, short: str, tensor: torch.Tensor) -> torch.Tensor:
        if not self.patterns and not self.intervene:
            return tensor
        name = self.prefix + short
        for pattern, fn in self.intervene.items():
            if fnmatch.fnmatchcase(name, pattern):
                tensor = fn(name, tensor)
        if any(fnmatch.fnmatchcase(name, p) for p in self.patterns):
            self.cache[name] = tensor.detach().clone()
        return tensor


class RecurrentTransformer(nn.Module):
    """The paper's recurrent transformer (docs/model-spec.md)."""

    def __init__(self, c: Config):
        super().__init__()
        c.validate()
        self.config = c
        self.token_embedder = TokenEmbedder(c)
        self.transformer = Transformer(c)
        self.output_layers = nn.ModuleList([nn.Linear(c.d_model, c.factor_sizes[f]) for f in FACTORS])

    def forward(self, tokens: torch.Tensor, capture=None, intervene=None, factors=FACTORS):
        """tokens: int64 [B, L, 4], right-padded. Returns (logits per factor, captured hooks).

        Padded positions are computed like any other token; causality keeps them from
        influencing real tokens (docs/model-spec.md), so no separate padding mask is needed.
        """
        hook = _Hooks(capture, intervene)
        x = hook("hook_embed", self.token_embedder(tokens))
        rel = self.transformer.pos_model()
        for l, block in enumerate(self.transformer.blocks.values()):
            hook.prefix = f"blocks.{l}."
            x = block(x, rel, hook)
        hook.prefix = ""
        y = hook("ln_final.hook_normalized", self.transformer.ln_final(x))
        logits = {f: hook(f"hook_logits.{f}", self.output_layers[FACTORS.index(f)](y)) for f in factors}
        return logits, hook.cache

    @staticmethod
    def value_slots(tokens: torch.Tensor) -> torch.Tensor:
        """Bool [B, L]: a VARIABLE token right after EQUALS (docs/model-spec.md value slot rule)."""
        syntax = tokens[..., 0]
        slots = torch.zeros_like(syntax, dtype=torch.bool)
        slots[:, 1:] = (syntax[:, 1:] == VARIABLE) & (syntax[:, :-1] == EQUALS)
        return slots

    @torch.no_grad()
    def run(self, tokens: torch.Tensor, iterations: int, capture=None):
        """The recurrence through the discrete bottleneck.

        Returns (inputs [T, B, L, 4], predictions [T, B, L, 4], logits {f: [T, B, L, V]},
        captures {hook: [T, ...]}). After each iteration the value factor of every value slot
        becomes the argmax of the value logits (ties: lowest id, as torch.argmax returns the
        first maximum); everything else stays as given.
        """
        slots = self.value_slots(tokens)
        current = tokens.clone()
        inputs, predictions, logits_t, captures_t = [], [], {f: [] for f in FACTORS}, {}
        for _ in range(iterations):
            logits, cache = self(current, capture=capture)
            predicted = torch.stack([logits[f].argmax(dim=-1) for f in FACTORS], dim=-1)
            inputs.append(current.clone())
            predictions.append(predicted)
            for f in FACTORS:
                logits_t[f].append(logits[f])
            for name, tensor in cache.items():
                captures_t.setdefault(name, []).append(tensor)
            current = current.clone()
            current[..., 3] = torch.where(slots, predicted[..., 3], current[..., 3])
        stack = lambda xs: torch.stack(xs, dim=0)
        return (stack(inputs), stack(predictions), {f: stack(v) for f, v in logits_t.items()},
                {k: stack(v) for k, v in captures_t.items()})


# ---------------------------------------------------------------- checkpoint I/O (h5py)

CONFIG_ATTRIBUTES = ("n_layers", "n_heads", "d_model", "d_head", "d_mlp", "rel_window", "names", "modulus")
SCHEMA_VERSION = 2  # 2: the authors' state_dict names; 1: the earlier names (legacy_name)


def legacy_name(name: str) -> str | None:
    """The name a schema_version 1 checkpoint gave the tensor `name`, or None if unchanged
    (Sources/Transformer/ParameterNames.swift holds the same table)."""
    fixed = {"transformer.pos_model.relpos_embeddings.weight": "transformer.pos_model.rel_embeddings.weight",
             "transformer.pos_model.layer_norm.weight": "transformer.pos_model.ln.weight",
             "transformer.pos_model.layer_norm.bias": "transformer.pos_model.ln.bias"}
    if name in fixed:
        return fixed[name]
    parts = name.split(".")
    if parts[0] in ("token_embedder", "output_layers"):
        i = 2 if parts[0] == "token_embedder" else 1
        if parts[i].isdigit() and int(parts[i]) < len(FACTORS):
            return ".".join(parts[:i] + [FACTORS[int(parts[i])]] + parts[i + 1:])
    return None


def load_latentlens_checkpoint(path: str, dtype=torch.float32) -> RecurrentTransformer:
    """Reads a LatentLens HDF5 checkpoint (Sources/Transformer/Checkpoint.swift's layout)."""
    import h5py
    import numpy as np

    with h5py.File(path, "r") as f:
        schema = f.attrs.get("schema")
        if schema is not None and str(schema) != "latentlens.checkpoint":
            raise ValueError(f"{path}: schema is {schema!r}, expected 'latentlens.checkpoint'")
        missing = [a for a in CONFIG_ATTRIBUTES if a not in f.attrs]
        if missing:
            raise ValueError(f"{path}: root attributes missing: {', '.join(missing)}")
        c = Config(**{a: int(f.attrs[a]) for a in CONFIG_ATTRIBUTES}, ln_eps=float(f.attrs.get("ln_eps", 1e-5)))
        model = RecurrentTransformer(c)
        state = {}
        for name, param in model.state_dict().items():
            stored = name if name in f else legacy_name(name)
            if stored is None or stored not in f:
                raise ValueError(f"{path}: tensor {name} is missing")
            array = np.asarray(f[stored][...], dtype=np.float32)
            if tuple(array.shape) != tuple(param.shape):
                raise ValueError(f"{path}: tensor {name} has shape {list(array.shape)}, expected {list(param.shape)}")
            state[name] = torch.from_numpy(array)
    model.load_state_dict(state, strict=True)
    return model.to(dtype)


def save_latentlens_checkpoint(model: RecurrentTransformer, path: str, attributes: dict | None = None) -> None:
    """Writes `model` in the LatentLens HDF5 checkpoint format (float32, root attributes)."""
    import datetime

    import h5py
    import numpy as np

    c = model.config
    with h5py.File(path, "w") as f:
        f.attrs["schema"] = "latentlens.checkpoint"
        f.attrs["schema_version"] = SCHEMA_VERSION
        for a in CONFIG_ATTRIBUTES:
            f.attrs[a] = int(getattr(c, a))
        f.attrs["ln_eps"] = float(c.ln_eps)
        f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        for key, value in (attributes or {}).items():
            f.attrs[key] = value
        for name, tensor in model.state_dict().items():
            f.create_dataset(name, data=tensor.detach().to(torch.float32).cpu().numpy().astype(np.float32))


def main() -> None:
    import argparse
    import re

    parser = argparse.ArgumentParser(description="Run the reference model on a program in the text syntax.")
    parser.add_argument("checkpoint")
    parser.add_argument("program", help='e.g. "17 = x_1; x_1 + x_1 = x_2"')
    parser.add_argument("--iterations", type=int, default=4)
    args = parser.parse_args()
    model = load_latentlens_checkpoint(args.checkpoint).eval()
    c = model.config
    v_na, v_empty, x_na = c.modulus, c.modulus + 1, c.names
    tokens = []
    for e, equation in enumerate(args.program.replace(" ", "").split(";")):
        if e:
            tokens.append((EQ_SEP, x_na, OPERATION_NA, v_na))
        lhs, rhs = equation.split("=")
        for i, term in enumerate(lhs.split("+")):
            if i:
                tokens.append((OPERATION, x_na, ADD, v_na))
            if re.fullmatch(r"\d+", term):
                tokens.append((VALUE, x_na, OPERATION_NA, int(term)))
            else:
                tokens.append((VARIABLE, int(term[2:]), OPERATION_NA, v_empty))
        tokens.append((EQUALS, x_na, OPERATION_NA, v_na))
        tokens.append((VARIABLE, int(rhs[2:]), OPERATION_NA, v_empty))
    ids = torch.tensor([tokens], dtype=torch.long)
    _, predictions, _, _ = model.run(ids, args.iterations)
    slots = model.value_slots(ids)[0].nonzero().flatten().tolist()
    for n in slots:
        values = [int(predictions[t, 0, n, 3]) for t in range(args.iterations)]
        print(f"x_{tokens[n][1]}: " + " ".join(str(v) if v < c.modulus else "·" for v in values))


if __name__ == "__main__":
    main()
