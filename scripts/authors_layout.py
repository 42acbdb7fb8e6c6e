#!/usr/bin/env python3
"""A stand-in for the authors' network: their state_dict names and shapes, their forward pass.

The tests of scripts/export_pytorch_checkpoint.py need a checkpoint *of the authors' layout*,
not one built from LatentLens's own names; their code is not part of this repository, so this
module reproduces, from the facts listed in docs/model-spec.md ("The authors' checkpoints"),
what matters to an importer:

* six factors in their tokenizer's order: syntax, variable, operation, value, regret,
  modification (vocabularies 7, names + 1, 2, modulus + 2, 2, 2). Regret and modification are
  FALSE (id 0) at every token of every program, and a token's embedding is the sum of **all six**
  tables, so their FALSE rows are added at every position;
* `token_embedder.embeddings.{0..5}` and `output_layers.{0..5}` are ModuleLists (index = factor);
* `transformer.pos_model.relpos_embeddings` [W, D] and its LayerNorm
  `transformer.pos_model.layer_norm` (PyTorch's default eps, 1e-5), shared by every layer;
* blocks `transformer.blocks.layer_{l}` with `ln_1`, `attn.{q,k,v,o}_proj`,
  `attn.relpos_k_proj`, `attn.relpos_q_proj`, `ln_2`, `mlp.fc`, `mlp.proj`; `transformer.ln_final`;
* attention scores (q·k + q·Rk[δ] + k·Rq[δ]) / sqrt(3·d_head), δ = clamp(key − query, −(W−1), 0)
  + W − 1, causal; Rk = relpos_k_proj(LN(E_rel)), Rq = relpos_q_proj(LN(E_rel));
* a Lightning checkpoint holds the network's state_dict under `model.` (`model._orig_mod.`
  when the network was wrapped by torch.compile) in `state_dict`, and the configuration in
  `hyper_parameters["model_config"]` (`num_layers`, `num_heads`, `hidden_size`,
  `relpos_win_size`, `layer_norm_eps`, `vocab_sizes`, …), pickled as objects of their own
  dict classes, which an importer cannot import.

The forward pass is written independently of scripts/reference_model.py (the relative-position
terms are gathered from [W]-wide score tables, as DeBERTa does, rather than indexed per pair).
"""
from __future__ import annotations

import contextlib
import math
import sys
import types

import torch
import torch.nn as nn

FACTORS = ("syntax", "variable", "operation", "value", "regret", "modification")
FALSE = 0  # the id of FALSE in the regret and modification vocabularies


def model_config(n_layers=2, n_heads=4, d_model=32, d_mlp=None, rel_window=64, names=128, modulus=23,
                 ln_eps=1e-5) -> dict:
    """A configuration in the authors' keys (their model_config.yaml plus what training adds)."""
    config = {
        "num_layers": n_layers, "num_heads": n_heads, "hidden_size": d_model, "input_size": d_model,
        "relpos_win_size": rel_window, "relpos_embed_size": d_model, "relpos_shift": 0,
        "relpos_q_k_enabled": [True, True], "q_k_v_o_proj_enabled": [True, True, True, True],
        "layer_norm_eps": ln_eps, "pos_enc_type": "DeBERTa", "attention_type": "softmax",
        "causal_attn": True, "use_bias": True, "use_layer_norm": True, "use_pos_layer_norm": True,
        "use_readout_proj": True, "attn_pdrop": 0.1, "resid_pdrop": 0.1, "max_seq_len": 1024,
        "vocab_sizes": (7, names + 1, 2, modulus + 2, 2, 2),
        "factors": ["SYNTAX", "VARIABLE", "OPERATION", "VALUE", "REGRET", "MODIFICATION"],
    }
    if d_mlp is not None and d_mlp != 4 * d_model:
        config["n_inner"] = d_mlp
    return config


class _PositionModel(nn.Module):
    def __init__(self, window: int, width: int):
        super().__init__()
        self.relpos_embeddings = nn.Embedding(window, width)
        self.layer_norm = nn.LayerNorm(width)  # eps left at PyTorch's default


class _Attention(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        for name in ("q_proj", "k_proj", "v_proj", "o_proj", "relpos_k_proj", "relpos_q_proj"):
            setattr(self, name, nn.Linear(width, width))


class _MLP(nn.Module):
    def __init__(self, width: int, inner: int):
        super().__init__()
        self.fc = nn.Linear(width, inner)
        self.proj = nn.Linear(inner, width)


class _Block(nn.Module):
    def __init__(self, width: int, inner: int, eps: float):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=eps)
        self.attn = _Attention(width)
        self.ln_2 = nn.LayerNorm(width, eps=eps)
        self.mlp = _MLP(width, inner)


class _Embedder(nn.Module):
    def __init__(self, sizes, width: int):
        super().__init__()
        self.embeddings = nn.ModuleList([nn.Embedding(n, width) for n in sizes])


class _Encoder(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        width = c["hidden_size"]
        self.pos_model = _PositionModel(c["relpos_win_size"], width)
        self.blocks = nn.ModuleDict({
            f"layer_{l}": _Block(width, c.get("n_inner", 4 * width), c["layer_norm_eps"]) for l in range(c["num_layers"])
        })
        self.ln_final = nn.LayerNorm(width, eps=c["layer_norm_eps"])


class AuthorsNetwork(nn.Module):
    """The network a LightningModule of theirs holds as `self.model`."""

    def __init__(self, c: dict):
        super().__init__()
        self.c = dict(c)
        self.token_embedder = _Embedder(c["vocab_sizes"], c["hidden_size"])
        self.transformer = _Encoder(c)
        self.output_layers = nn.ModuleList([nn.Linear(c["hidden_size"], n) for n in c["vocab_sizes"]])

    @staticmethod
    def six_factors(tokens: torch.Tensor) -> torch.Tensor:
        """LatentLens's four factor ids [B, L, 4] → the authors' six, regret and modification FALSE."""
        false = torch.full(tokens.shape[:-1] + (2,), FALSE, dtype=tokens.dtype)
        return torch.cat([tokens, false], dim=-1)

    def forward(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """tokens: int64 [B, L, 6]. Returns the logits of all six factors."""
        c = self.c
        heads, window = c["num_heads"], c["relpos_win_size"]
        x = sum(table(tokens[..., i]) for i, table in enumerate(self.token_embedder.embeddings))
        batch, length, width = x.shape
        dh = width // heads
        pos = self.transformer.pos_model
        table = pos.layer_norm(pos.relpos_embeddings.weight)                       # [W, D]
        query_at = torch.arange(length)[:, None]
        key_at = torch.arange(length)[None, :]
        delta = (key_at - query_at).clamp(min=-(window - 1), max=0) + (window - 1)  # [L(query), L(key)]
        delta = delta[None, None].expand(batch, heads, length, length)
        future = key_at > query_at
        for block in self.transformer.blocks.values():
            a = block.ln_1(x)
            att = block.attn
            q = att.q_proj(a).reshape(batch, length, heads, dh)
            k = att.k_proj(a).reshape(batch, length, heads, dh)
            v = att.v_proj(a).reshape(batch, length, heads, dh)
            rel_k = att.relpos_k_proj(table).reshape(window, heads, dh)
            rel_q = att.relpos_q_proj(table).reshape(window, heads, dh)
            content = torch.einsum("bqhe,bkhe->bhqk", q, k)
            query_to_position = torch.einsum("bqhe,whe->bhqw", q, rel_k).gather(3, delta)
            position_to_key = torch.einsum("bkhe,whe->bhwk", k, rel_q).gather(2, delta)
            scores = (content + query_to_position + position_to_key) * (3 * dh) ** -0.5
            weights = torch.softmax(scores.masked_fill(future, -math.inf), dim=-1)
            z = torch.einsum("bhqk,bkhe->bqhe", weights, v).reshape(batch, length, width)
            x = x + att.o_proj(z)
            x = x + block.mlp.proj(torch.relu(block.mlp.fc(block.ln_2(x))))
        y = self.transformer.ln_final(x)
        return [readout(y) for readout in self.output_layers]


def randomise(network: AuthorsNetwork, seed: int) -> AuthorsNetwork:
    """Every tensor random and far from its default: embeddings N(0, 1) (every row of regret and
    modification too), linear maps N(0, 1.5²/in), biases U(±0.2), LayerNorm weights 1 + U(±0.2)
    and biases U(±0.2), so that a tensor left out or misplaced changes the logits."""
    generator = torch.Generator().manual_seed(seed)

    def uniform(p, scale):
        return (torch.rand(p.shape, generator=generator, dtype=p.dtype) * 2 - 1) * scale

    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, nn.Embedding):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator))
            elif isinstance(module, nn.Linear):
                fan_in = module.weight.shape[1]
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (1.5 / fan_in ** 0.5))
                module.bias.copy_(uniform(module.bias, 0.2))
            elif isinstance(module, nn.LayerNorm):
                module.weight.copy_(1 + uniform(module.weight, 0.2))
                module.bias.copy_(uniform(module.bias, 0.2))
    return network


# ---------------------------------------------------------------- their Lightning checkpoints

_THEIR_MODULES = ("Simtransformer", "Simtransformer.simtransformer", "Simtransformer.simtransformer.utils")


@contextlib.contextmanager
def _their_config_class():
    """Registers, for the time of a save, a dict class under the module path of the authors' own
    (`Simtransformer.simtransformer.utils.EasyDict`), so the saved file references a class that
    an importer without their code cannot import, as their real checkpoints do."""
    created = [name for name in _THEIR_MODULES if name not in sys.modules]
    for name in created:
        sys.modules[name] = types.ModuleType(name)

    class EasyDict(dict):
        def __getattr__(self, key):
            try:
                return self[key]
            except KeyError as error:
                raise AttributeError(key) from error

    EasyDict.__module__ = _THEIR_MODULES[-1]
    EasyDict.__qualname__ = "EasyDict"
    sys.modules[_THEIR_MODULES[-1]].EasyDict = EasyDict
    try:
        yield EasyDict
    finally:
        for name in created:
            del sys.modules[name]


def save_lightning_checkpoint(network: AuthorsNetwork, path: str, compiled: bool = True) -> None:
    """Writes `network` as their Lightning training saves it: the state_dict under `model.`
    (`model._orig_mod.` when `compiled`, as their configurations set `compile: true`), the
    configuration in `hyper_parameters` as their dict class, and the other entries Lightning adds."""
    prefix = "model._orig_mod." if compiled else "model."
    state = {prefix + k: v.detach().clone() for k, v in network.state_dict().items()}
    with _their_config_class() as EasyDict:
        hyper = {"model_config": EasyDict(network.c),
                 "data_config": EasyDict({"dag_config": EasyDict({"num_nodes": 32, "mod_val": 23})}),
                 "train_config": EasyDict({"batch_size": 32, "compile": compiled}),
                 "teacher_model": None}
        torch.save({"epoch": 3, "global_step": 1000, "pytorch-lightning_version": "2.4.0",
                    "state_dict": state, "hyper_parameters": hyper, "loops": {}, "callbacks": {},
                    "optimizer_states": [], "lr_schedulers": []}, path)


def latentlens_program_tokens(names: int, modulus: int, nodes: int, seed: int) -> list[tuple[int, int, int, int]]:
    """The four factor ids of a random program in the docs/model-spec.md syntax, every value
    slot EMPTY (iteration 0's input); six leaves, then nodes summing 1–3 earlier ones."""
    import random

    variable, operation, value, equals, separator = 0, 1, 2, 5, 6
    x_na, v_na, v_empty, add, op_na = names, modulus, modulus + 1, 0, 1
    rng = random.Random(seed)
    labels = rng.sample(range(names), nodes)
    tokens: list[tuple[int, int, int, int]] = []
    for i in range(nodes):
        if tokens:
            tokens.append((separator, x_na, op_na, v_na))
        if i < 6:
            tokens.append((value, x_na, op_na, rng.randrange(modulus)))
        else:
            for j, o in enumerate(rng.sample(range(i), rng.randint(1, min(3, i)))):
                if j:
                    tokens.append((operation, x_na, add, v_na))
                tokens.append((variable, labels[o], op_na, v_empty))
        tokens.append((equals, x_na, op_na, v_na))
        tokens.append((variable, labels[i], op_na, v_empty))
    return tokens
