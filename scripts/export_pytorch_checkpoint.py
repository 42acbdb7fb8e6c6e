#!/usr/bin/env python3
"""Moves models between the authors' PyTorch checkpoints and LatentLens HDF5 checkpoints.

Their checkpoint → LatentLens (a Lightning `.ckpt` as their training saves it, or a `.pt`
state_dict of their `RecurrentTransformer`):

    python scripts/export_pytorch_checkpoint.py last.ckpt --out model.h5

LatentLens → theirs (the direction follows the source's extension):

    python scripts/export_pytorch_checkpoint.py model.h5 --out model.pt    # a state_dict: RecurrentTransformer(cfg).load_state_dict(torch.load("model.pt"), strict=True)
    python scripts/export_pytorch_checkpoint.py model.h5 --out model.ckpt  # a checkpoint their LitRecurrentTransformerModel.load_ckpt reads

Names are theirs in both directions (docs/model-spec.md "Parameter names"): a LatentLens
checkpoint holds their tensors under their keys. What differs:

* their network has six factors, LatentLens four. Regret and modification are FALSE (id 0) at
  every token and every token's embedding is the sum of all six tables, so their FALSE rows
  are folded into LatentLens's syntax table (each position has exactly one syntax row, so
  adding both rows to every syntax row leaves every embedding as it was); their readouts of
  those two factors are dropped. Going back, both tables are written as zeros (the fold is
  already in the syntax table) and both readouts as zeros.
* a Lightning checkpoint keeps the state_dict under `model.` (`model._orig_mod.` after
  torch.compile) and the configuration in `hyper_parameters["model_config"]`; the number of
  heads comes from there (shapes cannot tell it), else from --n-heads, else d_model / 16.
  The configuration is pickled as objects of their own classes; a file that needs them is read
  with stand-ins for those classes (only from a file you trust: unpickling runs its code, as
  their own loader's `torch.load(weights_only=False)` does).

Self-test (a random network of their layout, six factors, every tensor non-trivial, saved as
their Lightning training saves it → LatentLens → lens → back), see scripts/authors_layout.py:
    python scripts/export_pytorch_checkpoint.py --self-test [--lens .build/debug/lens]
"""
from __future__ import annotations

import argparse
import os
import pickle
import re
import subprocess
import sys
import tempfile
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_model import (CONFIG_ATTRIBUTES, FACTORS, Config, RecurrentTransformer,  # noqa: E402
                             load_latentlens_checkpoint, save_latentlens_checkpoint)

# Their factor order; LatentLens keeps the first four.
THEIR_FACTORS = FACTORS + ("regret", "modification")
FOLDED = (4, 5)  # regret, modification: FALSE at every token
PREFIXES = ("model._orig_mod.", "model.", "_orig_mod.")


def note(message: str) -> None:
    print("note: " + message, file=sys.stderr)


# ---------------------------------------------------------------- reading their files

class _Stand_in(dict):
    """Takes the place of a class of theirs that cannot be imported here; keeps its items and
    attributes so that the configuration can still be read."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:  # (__dict__, __slots__ state)
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self.get(name)


class _StandInUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return type(name, (_Stand_in,), {"__module__": module})


_stand_in_pickle = types.ModuleType("latentlens_stand_in_pickle")
_stand_in_pickle.Unpickler = _StandInUnpickler
_stand_in_pickle.load = pickle.load


def read_checkpoint(path: str) -> tuple[dict, dict]:
    """(state_dict without prefixes, model_config) from a `.pt` state_dict or a Lightning `.ckpt`."""
    if not os.path.isfile(path):
        raise SystemExit(f"{path}: no such file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # their Lightning checkpoints pickle their configuration classes
        try:
            obj = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_stand_in_pickle)
        except Exception as error:
            raise SystemExit(f"{path}: cannot be read as a PyTorch checkpoint ({error})") from None
    hyper = {}
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        hyper = obj.get("hyper_parameters") or {}
        obj = obj["state_dict"]
    elif isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise SystemExit(f"{path}: no state_dict found (expected a dict of tensors, or a Lightning .ckpt with one)")
    for prefix in PREFIXES:
        inside = {k[len(prefix):]: v for k, v in obj.items() if k.startswith(prefix)}
        if inside:
            if len(inside) < len(obj):
                note(f"keeping the {len(inside)} tensors under {prefix}; {len(obj) - len(inside)} others are not the network")
            obj = inside
            break
    return dict(obj), find_model_config(hyper)


def find_model_config(hyper) -> dict:
    """The mapping (possibly nested, possibly an object) that holds `num_heads` or `hidden_size`."""
    stack, seen = [hyper], set()
    while stack:
        d = stack.pop()
        if id(d) in seen:
            continue
        seen.add(id(d))
        items = {}
        if isinstance(d, dict):
            items.update(d)
        if hasattr(d, "__dict__") and not isinstance(d, type):
            items.update({k: v for k, v in vars(d).items() if not k.startswith("_")})
        if "num_heads" in items or "hidden_size" in items:
            return items
        stack.extend(v for v in items.values() if isinstance(v, dict) or hasattr(v, "__dict__"))
    return {}


# Their options that LatentLens's model does not have, with the value it implies.
SUPPORTED = {"pos_enc_type": "DeBERTa", "attention_type": "softmax", "causal_attn": True, "use_bias": True,
             "use_layer_norm": True, "use_pos_layer_norm": True, "relpos_shift": 0,
             "relpos_q_k_enabled": [True, True], "q_k_v_o_proj_enabled": [True, True, True, True]}


def check_options(mc: dict, source: str) -> None:
    for key, wanted in SUPPORTED.items():
        if key in mc and mc[key] is not None:
            found = list(mc[key]) if isinstance(mc[key], (list, tuple)) else mc[key]
            if found != wanted:
                raise SystemExit(f"{source}: model_config {key} is {found!r}; LatentLens runs only {wanted!r}")
    if mc.get("relpos_embed_size") not in (None, mc.get("hidden_size")):
        raise SystemExit(f"{source}: model_config relpos_embed_size {mc['relpos_embed_size']} differs from "
                         f"hidden_size {mc.get('hidden_size')}; LatentLens needs them equal")


def import_theirs(state: dict, mc: dict, source: str, n_heads: int | None = None,
                  ln_eps: float | None = None, ignore_unknown: bool = False) -> RecurrentTransformer:
    """Their state_dict (six factors, or four) → the LatentLens model (reference_model.py)."""
    state = {k: v.detach().to(torch.float64) for k, v in state.items()}
    check_options(mc, source)

    def shape(key):
        if key not in state:
            raise SystemExit(f"{source}: the state_dict has no tensor {key}; a checkpoint of the authors' "
                             f"RecurrentTransformer has (docs/model-spec.md \"Parameter names\")")
        return tuple(state[key].shape)

    factors = sorted(int(m.group(1)) for k in state if (m := re.fullmatch(r"token_embedder\.embeddings\.(\d+)\.weight", k)))
    if factors not in ([0, 1, 2, 3], list(range(6))):
        raise SystemExit(f"{source}: token_embedder.embeddings holds factors {factors}; expected 0–5 (theirs) or 0–3")
    if len(factors) == 6:
        d_model = shape("token_embedder.embeddings.0.weight")[1]
        fold = torch.zeros(d_model, dtype=torch.float64)
        for f in FOLDED:
            table = state.pop(f"token_embedder.embeddings.{f}.weight")
            if table.ndim != 2 or table.shape[1] != d_model or table.shape[0] < 1:
                raise SystemExit(f"{source}: token_embedder.embeddings.{f}.weight has shape {list(table.shape)}, "
                                 f"expected [2, {d_model}]")
            fold += table[0]
        state["token_embedder.embeddings.0.weight"] = state["token_embedder.embeddings.0.weight"] + fold
        dropped = [k for k in list(state) if re.fullmatch(r"output_layers\.[45]\.(weight|bias)", k)]
        for k in dropped:
            del state[k]
        note(f"folded the FALSE rows of {THEIR_FACTORS[4]} and {THEIR_FACTORS[5]} into the syntax table "
             f"and dropped their readouts ({', '.join(dropped)})")

    d_model = shape("token_embedder.embeddings.0.weight")[1]
    layers = sorted({int(m.group(1)) for k in state if (m := re.match(r"transformer\.blocks\.layer_(\d+)\.", k))})
    if not layers or layers != list(range(len(layers))):
        raise SystemExit(f"{source}: blocks are not numbered layer_0 … layer_{{n-1}}: found {layers}")
    heads = n_heads or mc.get("num_heads")
    if heads is None:
        heads = max(1, d_model // 16)
        note(f"the number of heads is in neither --n-heads nor hyper_parameters; assuming d_head 16 → {heads} heads")
    heads = int(heads)
    if d_model % heads:
        raise SystemExit(f"{source}: d_model {d_model} is not divisible by {heads} heads")
    if ln_eps is None:
        ln_eps = float(mc.get("layer_norm_eps", 1e-5))
        if ln_eps != 1e-5:
            note(f"their relative-position LayerNorm uses PyTorch's default eps 1e-5 and the others {ln_eps}; "
                 f"LatentLens uses {ln_eps} for all of them, so logits may differ slightly")
    config = Config(n_layers=len(layers), n_heads=heads, d_model=d_model, d_head=d_model // heads,
                    d_mlp=shape("transformer.blocks.layer_0.mlp.fc.weight")[0],
                    rel_window=shape("transformer.pos_model.relpos_embeddings.weight")[0],
                    names=shape("token_embedder.embeddings.1.weight")[0] - 1,
                    modulus=shape("token_embedder.embeddings.3.weight")[0] - 2, ln_eps=ln_eps)
    for key, value, field in (("num_layers", config.n_layers, "blocks"), ("hidden_size", config.d_model, "d_model"),
                              ("relpos_win_size", config.rel_window, "the relative-position table")):
        if key in mc and mc[key] is not None and int(mc[key]) != value:
            raise SystemExit(f"{source}: hyper_parameters say {key} {mc[key]}, but the tensors have {value} ({field})")
    model = RecurrentTransformer(config)
    expected = model.state_dict()
    unknown = sorted(set(state) - set(expected))
    if unknown:
        message = f"{source}: {len(unknown)} tensors are not part of the model: {', '.join(unknown[:10])}"
        if not ignore_unknown:
            raise SystemExit(message + " (pass --ignore-unknown to drop them)")
        note(message + "; dropped")
    for name, param in expected.items():
        if tuple(shape(name)) != tuple(param.shape):
            raise SystemExit(f"{source}: tensor {name} has shape {list(state[name].shape)}, expected {list(param.shape)}")
    model.load_state_dict({k: state[k].to(torch.float32) for k in expected}, strict=True)
    return model


def to_latentlens(source: str, out: str, n_heads: int | None = None, ln_eps: float | None = None,
                  ignore_unknown: bool = False) -> Config:
    """Their `.ckpt` / `.pt` → a LatentLens HDF5 checkpoint at `out`."""
    state, mc = read_checkpoint(source)
    model = import_theirs(state, mc, source, n_heads, ln_eps, ignore_unknown)
    save_latentlens_checkpoint(model, out, {"source": f"export_pytorch_checkpoint.py {os.path.basename(source)}"})
    return model.config


# ---------------------------------------------------------------- writing their files

def their_model_config(c: Config) -> dict:
    """The model_config their RecurrentTransformer is built from, for a LatentLens configuration."""
    config = {"num_layers": c.n_layers, "num_heads": c.n_heads, "hidden_size": c.d_model, "input_size": c.d_model,
              "relpos_win_size": c.rel_window, "relpos_embed_size": c.d_model, "layer_norm_eps": c.ln_eps,
              "attn_pdrop": 0.1, "resid_pdrop": 0.1, "max_seq_len": 1024,
              "vocab_sizes": (7, c.names + 1, 2, c.modulus + 2, 2, 2),
              "factors": ["SYNTAX", "VARIABLE", "OPERATION", "VALUE", "REGRET", "MODIFICATION"]}
    config.update({k: v for k, v in SUPPORTED.items()})
    if c.d_mlp != 4 * c.d_model:
        config["n_inner"] = c.d_mlp
    return config


def their_state_dict(model: RecurrentTransformer) -> dict:
    """The six-factor state_dict their RecurrentTransformer loads with strict=True, in its order."""
    ours = {k: v.detach().to(torch.float32).clone() for k, v in model.state_dict().items()}
    d = model.config.d_model
    state = {}
    for f in range(6):
        key = f"token_embedder.embeddings.{f}.weight"
        state[key] = ours.pop(key) if f < 4 else torch.zeros(2, d)
    readouts = {}
    for f in range(6):
        for part, zeros in (("weight", (2, d)), ("bias", (2,))):
            key = f"output_layers.{f}.{part}"
            readouts[key] = ours.pop(key) if f < 4 else torch.zeros(zeros)
    state.update(ours)
    state.update(readouts)
    return state


def to_authors(source: str, out: str) -> Config:
    """A LatentLens checkpoint → their state_dict (`.pt`) or Lightning-style checkpoint (`.ckpt`)."""
    try:
        model = load_latentlens_checkpoint(source)
    except (OSError, ValueError) as error:
        raise SystemExit(f"{source}: cannot be read as a LatentLens checkpoint ({error})") from None
    state = their_state_dict(model)
    if out.endswith(".ckpt"):
        # Their load_ckpt strips `model._orig_mod.`, the prefix of their compiled training runs.
        torch.save({"state_dict": {"model._orig_mod." + k: v for k, v in state.items()},
                    "hyper_parameters": {"model_config": their_model_config(model.config)},
                    "source": f"export_pytorch_checkpoint.py {os.path.basename(source)}"}, out)
    else:
        torch.save(state, out)
    return model.config


# ---------------------------------------------------------------- self-test

def _relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    return float((got - expected).abs().max() / expected.abs().max())


def _lens_logits(lens: str, checkpoint: str, tmp: str, names: int) -> tuple[torch.Tensor, dict]:
    """Records random programs with `lens run` (every iteration, every factor's logits)."""
    import h5py

    probe = os.path.join(tmp, "long.probe")
    with open(probe, "w") as f:
        f.write(f"context random seed=1..2 nodes=24 names={names}\n")
    dump = os.path.join(tmp, "dump.h5")
    result = subprocess.run([lens, "run", probe, "--model", checkpoint, "--hooks", "hook_logits.*",
                             "--iterations", "all", "--out", dump], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"lens run failed: {result.stderr.strip()}")
    with h5py.File(dump, "r") as f:
        tokens = torch.from_numpy(f["tokens"][...].astype("int64"))
        logits = {name: torch.from_numpy(f["activations"][f"hook_logits.{name}"][...].astype("float64")) for name in FACTORS}
    return tokens, logits


def self_test(lens: str | None) -> None:
    """Their layout → LatentLens → (lens) → theirs, on programs longer than the window."""
    import h5py

    from authors_layout import (AuthorsNetwork, latentlens_program_tokens, model_config, randomise,
                                save_lightning_checkpoint)

    torch.manual_seed(0)
    mc = model_config(n_layers=2, n_heads=4, d_model=32, d_mlp=48, rel_window=16, names=40, modulus=23)
    theirs = randomise(AuthorsNetwork(mc), seed=11).double().eval()
    programs = [latentlens_program_tokens(40, 23, nodes, seed) for nodes, seed in ((20, 1), (12, 2))]
    length = max(len(p) for p in programs)
    pad = (3, 40, 1, 23)
    tokens = torch.tensor([p + [pad] * (length - len(p)) for p in programs], dtype=torch.long)
    assert length > 2 * mc["relpos_win_size"], "programs must be longer than the window"
    with torch.no_grad():
        expected = theirs(AuthorsNetwork.six_factors(tokens))[:4]
    worst = {}
    with tempfile.TemporaryDirectory() as tmp:
        for compiled in (True, False):
            ckpt = os.path.join(tmp, f"last-{compiled}.ckpt")
            save_lightning_checkpoint(theirs.float(), ckpt, compiled=compiled)
            theirs.double()
            out = os.path.join(tmp, f"exported-{compiled}.h5")
            config = to_latentlens(ckpt, out)
            assert (config.n_heads, config.d_mlp, config.rel_window, config.names) == (4, 48, 16, 40), config
            ours = load_latentlens_checkpoint(out).double().eval()
            with torch.no_grad():
                got, _ = ours(tokens)
            for i, f in enumerate(FACTORS):
                worst[f] = max(worst.get(f, 0.0), _relative_error(got[f], expected[i]))
        # The test can fail: without the fold, every logit moves.
        with h5py.File(out, "r") as g:
            unfolded = load_latentlens_checkpoint(out).double().eval()
            with torch.no_grad():
                table = unfolded.token_embedder.embeddings[0].weight
                table -= theirs.token_embedder.embeddings[4].weight[0] + theirs.token_embedder.embeddings[5].weight[0]
                drift, _ = unfolded(tokens)
            names = sorted(g.keys())
        assert all(_relative_error(drift[f], expected[i]) > 1e-2 for i, f in enumerate(FACTORS)), "the fold is invisible"
        theirs_names = set(theirs.state_dict())
        assert set(names) == theirs_names - {f"token_embedder.embeddings.{f}.weight" for f in FOLDED} - {
            f"output_layers.{f}.{p}" for f in FOLDED for p in ("weight", "bias")}, "names are not theirs"
        for f, e in worst.items():
            assert e < 1e-5, f"{f} logits differ from their network's by {e:.2e} of the logit scale"
        print("their layout → LatentLens: logits of every factor within "
              + ", ".join(f"{f} {e:.1e}" for f, e in worst.items()) + " of the logit scale (float64 forward)")

        if lens:
            dumped, logits = _lens_logits(lens, out, tmp, names=40)
            n, t = dumped.shape[:2]
            assert dumped.shape[2] > mc["relpos_win_size"]
            lens_worst = {}
            with torch.no_grad():
                for it in range(t):
                    want = theirs(AuthorsNetwork.six_factors(dumped[:, it]))[:4]
                    for i, f in enumerate(FACTORS):
                        lens_worst[f] = max(lens_worst.get(f, 0.0), _relative_error(logits[f][:, it], want[i]))
            for f, e in lens_worst.items():
                assert e < 1e-4, f"lens's {f} logits differ from their network's by {e:.2e} of the logit scale"
            print(f"lens run on the export: {n} programs of {dumped.shape[2]} tokens, {t} iterations, every factor within "
                  + ", ".join(f"{f} {e:.1e}" for f, e in lens_worst.items()) + " of the logit scale")

        # Back: LatentLens → their state_dict, loaded with strict=True, and a .ckpt back again.
        pt, back_ckpt = os.path.join(tmp, "back.pt"), os.path.join(tmp, "back.ckpt")
        to_authors(out, pt)
        again = AuthorsNetwork(mc).double().eval()
        again.load_state_dict(torch.load(pt, weights_only=True), strict=True)
        assert list(torch.load(pt, weights_only=True)) == list(theirs.state_dict()), "not in their order"
        with torch.no_grad():
            back = again(AuthorsNetwork.six_factors(tokens))[:4]
        back_error = max(_relative_error(back[i], expected[i]) for i in range(4))
        assert back_error < 1e-5, back_error
        to_authors(out, back_ckpt)
        state, hyper = read_checkpoint(back_ckpt)
        again.load_state_dict(state, strict=True)
        assert hyper["num_heads"] == 4 and hyper.get("n_inner") == 48
        twice = os.path.join(tmp, "twice.h5")
        to_latentlens(back_ckpt, twice)
        with h5py.File(out, "r") as f, h5py.File(twice, "r") as g:
            for name in f:
                assert (f[name][...] == g[name][...]).all(), f"{name} changed on the way back and forth"
        print(f"LatentLens → their state_dict: loads with strict=True, logits within {back_error:.1e}; "
              "→ .ckpt → LatentLens again: every tensor bit-identical")
    print("self-test ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", nargs="?", help="their .ckpt / .pt (→ .h5), or a LatentLens .h5 (→ .pt / .ckpt)")
    parser.add_argument("--out", help="the file to write: .h5 from theirs; .pt (state_dict) or .ckpt from a .h5")
    parser.add_argument("--n-heads", type=int, help="attention heads, when hyper_parameters do not say")
    parser.add_argument("--ln-eps", type=float, help="LayerNorm eps (default: their layer_norm_eps, else 1e-5)")
    parser.add_argument("--ignore-unknown", action="store_true", help="drop tensors the model does not have")
    parser.add_argument("--self-test", action="store_true", help="check both directions on a random model of their layout")
    parser.add_argument("--lens", help="with --self-test: also run this lens binary on the export")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.self_test:
        self_test(args.lens)
        return
    if not args.source or not args.out:
        parser.error("give a source checkpoint and --out")
    if args.source.endswith(".h5"):
        if not args.out.endswith((".pt", ".ckpt", ".pth")):
            parser.error(f"--out {args.out}: from a LatentLens .h5, write their .pt (state_dict) or .ckpt")
        c = to_authors(args.source, args.out)
        print(f"wrote {args.out}: their RecurrentTransformer's state_dict (six factors), "
              f"num_layers {c.n_layers}, num_heads {c.n_heads}, hidden_size {c.d_model}, relpos_win_size {c.rel_window}")
        return
    if not args.out.endswith(".h5"):
        parser.error(f"--out {args.out}: from their checkpoint, write a LatentLens .h5")
    c = to_latentlens(args.source, args.out, args.n_heads, args.ln_eps, args.ignore_unknown)
    print(f"wrote {args.out}: " + ", ".join(f"{a} {getattr(c, a)}" for a in CONFIG_ATTRIBUTES))


if __name__ == "__main__":
    main()
