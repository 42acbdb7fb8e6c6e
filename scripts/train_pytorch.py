#!/usr/bin/env python3
"""Trains LatentLens's recurrent transformer in PyTorch with `lens train`'s recipe, for a GPU.

The model is scripts/reference_model.py's (the spec's, imported, not restated); the batches are
`lens train`'s own, drawn by scripts/training_data.py from the same generator state; the loss is
Sources/Transformer/Backward.swift's (per factor Σ w·CE / Σ w, times the factor's weight);
dropout sits where `lens train --dropout/--attention-dropout` puts it (attention and MLP outputs
before the residual add, attention weights before they mix the values); AdamW with decoupled
weight decay on matrices and embedding tables only (Sources/Training/AdamW.swift), linear
warm-up then cosine to --final-lr-fraction, clipping of the global gradient norm; the size
curriculum advances as Sources/Training/Trainer.swift's does. Options are `lens train`'s, with
the same names, defaults and meaning (`--help`). docs/training.md "Training in PyTorch" has the
commands for a GPU session.

What differs from `lens train`: dropout masks come from torch's generator (lens hashes them), so
runs with dropout agree in distribution only; float rounding differs (the loss of the same
weights and batch agrees to float32 rounding); no --eval-every or --track-every (evaluate the
exported snapshots with `lens eval` / `lens timeline` afterwards).

Writes, every --checkpoint-every steps and at the end, atomically:
  OUT                a LatentLens model (`lens eval`, `lens run`, `lens analyze` read it)
  OUT.torch.pt       the resumable torch state: model, AdamW, step, data generator, curriculum,
                     torch's generators (--resume OUT.torch.pt continues)
  OUT.resume.h5      a `lens train` resume state (with --lens-resume): `lens train --resume` continues on a CPU
  OUT.stepS.h5       with --snapshot-every N, the model at the first checkpoint past every N steps

Start from a `lens train` run instead of from scratch with --from-lens-resume STATE.resume.h5
(its weights, AdamW moments, step, generator state, curriculum and recipe), or from a model's
weights alone with --init-from MODEL.h5.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_model import (FACTORS, Config, RecurrentTransformer,  # noqa: E402
                             load_latentlens_checkpoint, save_latentlens_checkpoint)
from training_data import (DEFAULT_STAGES, MASK, RECIPE_DEFAULTS, Stage, TaskRNG,  # noqa: E402
                           TrainingData, signed_words)

PRESETS = {  # ModelConfig.Preset
    "paper": dict(n_layers=2, n_heads=16, d_model=256, d_head=16, d_mlp=1024, rel_window=64),
    "small": dict(n_layers=2, n_heads=8, d_model=128, d_head=16, d_mlp=512, rel_window=64),
    "tiny": dict(n_layers=2, n_heads=4, d_model=32, d_head=8, d_mlp=64, rel_window=16),
}


# ---------------------------------------------------------------- options and recipe

def parse_arguments(argv=None) -> argparse.Namespace:
    d = RECIPE_DEFAULTS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    a = p.add_argument
    a("--out", required=True, help="the LatentLens model to write (OUT.torch.pt, OUT.resume.h5 and snapshots go beside it)")
    a("--resume", help="continue the run saved in OUT.torch.pt")
    a("--from-lens-resume", help="start from a lens train resume state (weights, AdamW moments, step, data state, recipe)")
    a("--init-from", help="start from this LatentLens model's weights (a fresh optimizer and data stream)")
    a("--force", action="store_true", help="replace OUT and its companions if they exist")
    a("--config", choices=sorted(PRESETS), default="paper", help="model size")
    a("--seed", type=int, default=d["seed"], help="seed of initialisation, data and dropout")
    a("--steps", type=int, default=d["steps"], help="total optimizer steps (may change on resume)")
    a("--stop-after", type=int, help="stop this invocation after N steps")
    a("--time-limit", type=float, help="stop (with a checkpoint) after the step that passes this many seconds")
    a("--batch", type=int, default=d["batchSize"], help="graphs per step")
    a("--lr", type=float, default=d["learningRate"], help="peak learning rate (may change on resume)")
    a("--warmup", type=int, default=d["warmupSteps"], help="linear warm-up steps")
    a("--final-lr-fraction", type=float, default=d["finalLearningRateFraction"], help="cosine floor × peak (1: constant)")
    a("--weight-decay", type=float, default=d["weightDecay"], help="AdamW decoupled weight decay")
    a("--clip", type=float, default=d["gradientClip"], help="gradient-norm clipping")
    a("--min-nodes", type=int, default=d["minNodes"])
    a("--max-nodes", type=int, default=d["maxNodes"])
    a("--max-depth", type=int, default=d["maxDepth"])
    a("--leaves", type=int, default=d["leaves"])
    a("--curriculum-start", type=int, help="largest graph at step 0 (default --min-nodes)")
    a("--curriculum-steps", type=int, default=d["curriculumSteps"])
    a("--curriculum", default="none", help=f"none, auto ({DEFAULT_STAGES}) or stages L:MIN-MAX[/F][@N][~D],…")
    a("--advance-accuracy", type=float, default=d["advanceAccuracy"])
    a("--advance-window", type=int, default=d["advanceWindow"])
    a("--max-stage-steps", type=int)
    a("--frontier", type=float, default=d["frontierFraction"])
    a("--computable-weight", type=float, default=d["computableWeight"])
    a("--error-correction", type=float, default=d["errorCorrection"])
    a("--init", choices=("normal", "pytorch"), default="normal", help="GPT-2's N(0, 0.02) or torch.nn's defaults")
    a("--dropout", type=float, default=0.0, help="dropout of attention and MLP outputs")
    a("--attention-dropout", type=float, default=0.0, help="dropout of attention weights")
    a("--attention-temperature", help="T0:STEPS, every score divided by τ annealed linearly to 1")
    a("--attention-entropy-bonus", help="L0:STEPS, −λ·H̄ on the loss, λ annealed linearly to 0")
    a("--operand-lookup", action="store_true")
    a("--all-factors", action="store_true", help="also supervise the syntax, variable and operation factors")
    a("--depth-by-parents", action="store_true")
    a("--every-iteration", action="store_true")
    a("--checkpoint-every", type=int, default=500)
    a("--snapshot-every", type=int, help="keep OUT.stepS.h5 at the first checkpoint past every N steps")
    a("--lens-resume", action="store_true", help="also write OUT.resume.h5, a lens train resume state, at each checkpoint")
    a("--log-every", type=int, default=50)
    a("--log-json", help="also append each progress window as a JSON line to this file (full precision)")
    a("--device", default="auto", help="cuda, cpu or auto (cuda when there is one)")
    a("--threads", type=int, help="CPU threads for torch")
    a("--tf32", action="store_true", help="allow TF32 matrix products on the GPU (faster, ~1e-3 relative rounding)")
    return p.parse_args(argv)


def anneal(text: str | None, option: str, from_step: int = 0) -> dict | None:
    """`V0:STEPS` → LinearAnneal's JSON ({initial, steps, fromStep})."""
    if text is None:
        return None
    try:
        initial, steps = text.split(":")
        return {"initial": float(initial), "steps": int(steps), "fromStep": from_step}
    except ValueError:
        raise SystemExit(f"{option} expects V0:STEPS like 3:15000, found \"{text}\"") from None


def anneal_value(setting: dict | None, step: int, final: float) -> float:
    """LinearAnneal.value(at:)."""
    if not setting:
        return final
    elapsed = step - setting.get("fromStep", 0)
    if elapsed < 0 or elapsed >= setting["steps"]:
        return final
    return setting["initial"] + (final - setting["initial"]) * elapsed / setting["steps"]


def parse_stage(text: str) -> Stage:
    """One `--curriculum` stage, refused with a sentence when it cannot be a stage lens train runs."""
    try:
        stage = Stage.parse(text)
    except ValueError:
        raise SystemExit(f"--curriculum expects stages L:MIN-MAX[/F|/FMIN-FMAX][@N][~D] like 6:8-12, found \"{text}\"") from None
    if not (1 <= stage.leaves < stage.min_nodes <= stage.max_nodes <= (stage.names or 128) <= 128
            and 1 <= stage.min_fan_in <= stage.max_fan_in <= 3 and stage.min_fan_in <= stage.leaves):
        raise SystemExit(f"curriculum stage \"{text}\" needs 1 ≤ leaves < min-nodes ≤ max-nodes ≤ names ≤ 128 "
                         "and 1 ≤ min fan-in ≤ max fan-in ≤ 3")
    return stage


def recipe_from(args) -> dict:
    """TrainingRecipe's JSON for a fresh run (TrainCommand.recipe(from:)'s mapping)."""
    r = dict(RECIPE_DEFAULTS)
    r.update(seed=args.seed, steps=args.steps, batchSize=args.batch, learningRate=args.lr, warmupSteps=args.warmup,
             weightDecay=args.weight_decay, gradientClip=args.clip, minNodes=args.min_nodes, maxNodes=args.max_nodes,
             maxDepth=args.max_depth, leaves=args.leaves, curriculumSteps=args.curriculum_steps,
             frontierFraction=args.frontier, computableWeight=args.computable_weight,
             errorCorrection=args.error_correction, finalLearningRateFraction=args.final_lr_fraction,
             advanceAccuracy=args.advance_accuracy, advanceWindow=args.advance_window)
    if args.dropout:
        r["dropout"] = args.dropout
    if args.attention_dropout:
        r["attentionDropout"] = args.attention_dropout
    for key, text, option in (("attentionTemperature", args.attention_temperature, "--attention-temperature"),
                              ("attentionEntropyBonus", args.attention_entropy_bonus, "--attention-entropy-bonus")):
        if text:
            r[key] = anneal(text, option)
    if args.every_iteration:
        r["everyIteration"] = True
    if args.depth_by_parents:
        r["depthCappedByParents"] = True
    if args.init == "pytorch":
        r["initialisation"] = "pytorch"
    if args.all_factors:
        r["factorWeights"] = [1, 1, 1, 1]
    if args.operand_lookup:
        r["operandLookup"] = True
    if args.curriculum != "none":
        stages = [parse_stage(s) for s in (DEFAULT_STAGES if args.curriculum == "auto" else args.curriculum).split(",")]
        r["stages"] = [s.to_json() for s in stages]  # TrainingRecipe.follow
        r["leaves"], r["minNodes"], r["maxNodes"] = stages[-1].leaves, stages[-1].min_nodes, stages[-1].max_nodes
    r["curriculumStartNodes"] = args.curriculum_start or r["minNodes"]
    if args.max_stage_steps:
        r["maxStageSteps"] = args.max_stage_steps
    for rate, flag in ((args.dropout, "--dropout"), (args.attention_dropout, "--attention-dropout")):
        if not 0 <= rate < 1:
            raise SystemExit(f"{flag} must lie in [0, 1), found {rate}")
    if r["minNodes"] < r["leaves"] + 1 or r["maxNodes"] < r["minNodes"] or r["maxNodes"] > r["names"]:
        raise SystemExit("the graph sizes need leaves < --min-nodes ≤ --max-nodes ≤ 128")
    return r


# ---------------------------------------------------------------- model, optimizer, schedule

def initialise(model: RecurrentTransformer, scheme: str, seed: int) -> None:
    """`--init pytorch`: torch.nn's module defaults as drawn at construction; `normal`: GPT-2's
    N(0, 0.02) for matrices and tables, biases 0, LayerNorm gains 1 (Model.randomlyInitialised)."""
    torch.manual_seed(seed)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    if scheme == "normal":
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.endswith(".bias"):
                    p.zero_()
                elif is_layer_norm(name):
                    p.fill_(1)
                else:
                    p.normal_(0, 0.02)


def is_layer_norm(name: str) -> bool:
    return any(part in name for part in ("ln_1.", "ln_2.", "ln_final.", "pos_model.layer_norm."))


def decays(name: str) -> bool:
    """AdamW's decay mask: weights of matrices and embedding tables, not biases or LayerNorms."""
    return name.endswith(".weight") and not is_layer_norm(name)


def make_optimizer(model, recipe) -> torch.optim.AdamW:
    named = list(model.named_parameters())
    groups = [{"params": [p for n, p in named if decays(n)], "weight_decay": recipe["weightDecay"]},
              {"params": [p for n, p in named if not decays(n)], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=recipe["learningRate"], betas=(0.9, 0.999), eps=1e-8)


def learning_rate(recipe: dict, step: int) -> float:
    """LearningRateSchedule.rate(at:): linear warm-up, then cosine to floor × peak at the last step."""
    peak, warmup, floor = recipe["learningRate"], recipe["warmupSteps"], recipe["finalLearningRateFraction"]
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, recipe["steps"] - warmup))
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


class StepEffects:
    """The interventions one training step puts into the reference model's forward pass (its
    hook points): attention temperature on the scores, the entropy bonus's H̄ and attention
    dropout on the pattern, residual dropout on the attention and MLP outputs."""

    def __init__(self, recipe: dict, step: int, weights: torch.Tensor):
        self.temperature = anneal_value(recipe.get("attentionTemperature"), step, 1.0)
        self.bonus = anneal_value(recipe.get("attentionEntropyBonus"), step, 0.0)
        self.dropout = recipe.get("dropout") or 0.0
        self.attention_dropout = recipe.get("attentionDropout") or 0.0
        self.weights = weights
        self.entropy = []  # per layer: Σ_r w_r Σ_h H(p[h, r])

    def interventions(self) -> dict:
        out = {}
        if self.temperature != 1:
            out["blocks.*.attn.hook_attn_scores"] = lambda _, s: s / self.temperature
        if self.bonus > 0 or self.attention_dropout > 0:
            out["blocks.*.attn.hook_pattern"] = self.pattern
        if self.dropout > 0:
            out["blocks.*.hook_attn_out"] = out["blocks.*.hook_mlp_out"] = lambda _, x: F.dropout(x, self.dropout)
        return out

    def pattern(self, _, p: torch.Tensor) -> torch.Tensor:
        if self.bonus > 0:
            # H = −Σ_m p log p; clamping keeps the masked (p = 0) keys' gradient finite.
            rows = -(p * torch.log(p.clamp_min(1e-30))).sum(-1).sum(1)  # [B, L]
            self.entropy.append((rows * self.weights).sum())
        return F.dropout(p, self.attention_dropout) if self.attention_dropout > 0 else p


def loss_and_metrics(model, recipe, step, inputs, targets, weights, computed):
    """(loss to minimise, metrics tensor) of one batch: Σ_f factorWeight_f · Σ_r w_r CE_r / Σ_r w_r
    (Backward.swift), minus λ·H̄ with an entropy bonus. Metrics: cross-entropy, value positions
    counted / right, computed slots counted / right, heavy positions counted / right, H̄."""
    factor_weights = recipe["factorWeights"]
    supervised = tuple(f for i, f in enumerate(FACTORS) if factor_weights[i] != 0)
    effects = StepEffects(recipe, step, weights)
    logits, _ = model(inputs, intervene=effects.interventions() or None, factors=supervised)
    w = weights.reshape(-1)
    total = w.sum()
    cross_entropy = torch.zeros((), device=inputs.device)
    for i, f in enumerate(FACTORS):
        if factor_weights[i] == 0:
            continue
        v = logits[f].shape[-1]
        ce = F.cross_entropy(logits[f].reshape(-1, v), targets[..., i].reshape(-1).long(), reduction="none")
        cross_entropy = cross_entropy + factor_weights[i] * (ce * w).sum() / total
    loss = cross_entropy
    entropy = torch.zeros((), device=inputs.device)
    if effects.entropy:
        c = model.config
        entropy = torch.stack(effects.entropy).sum() / (total * c.n_layers * c.n_heads)
        loss = loss - effects.bonus * entropy
    zero = torch.zeros((), device=inputs.device)
    if "value" in logits:
        right = (logits["value"].argmax(-1) == targets[..., 3].long()) & (weights > 0)
        counted, heavy = weights > 0, weights > 1
        metrics = torch.stack([x.float() for x in (cross_entropy.detach(), counted.sum(), right.sum(), computed.sum(),
                                                   (right & computed).sum(), heavy.sum(), (right & heavy).sum(), entropy.detach())])
    else:
        metrics = torch.stack([cross_entropy.detach(), zero, zero, zero, zero, zero, zero, entropy.detach()]).float()
    return loss, metrics


# ---------------------------------------------------------------- state, checkpoints, exports

class RunState:
    """Where a run stands (TrainingState): step, data generator, curriculum, counters."""

    def __init__(self, recipe: dict):
        self.recipe = recipe
        self.step = 0
        self.rng_state = TaskRNG(seed=recipe["seed"]).state
        self.stage = 0
        self.stage_window: list[list[int]] = []
        self.stage_starts: list[int] = []
        self.elapsed = 0.0
        self.tokens = 0
        self.history: list[str] = []

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("recipe", "step", "rng_state", "stage", "stage_window", "stage_starts",
                                              "elapsed", "tokens", "history")}

    @classmethod
    def from_dict(cls, d: dict) -> "RunState":
        state = cls(d["recipe"])
        for k, v in d.items():
            setattr(state, k, v)
        return state

    def advance_curriculum(self, counted: int, correct: int) -> bool:
        """Trainer.advanceCurriculum: True when the run moves to the next stage."""
        r = self.recipe
        stages = len(r["stages"]) or 1
        if self.stage >= stages - 1:
            return False
        self.stage_window.append([counted, correct])
        if len(self.stage_window) > r["advanceWindow"]:
            self.stage_window.pop(0)
        start = self.stage_starts[-1] if self.stage_starts else 0
        out_of_time = r.get("maxStageSteps") is not None and self.step - start >= r["maxStageSteps"]
        if len(self.stage_window) != r["advanceWindow"] and not out_of_time:
            return False
        total = sum(c for c, _ in self.stage_window)
        right = sum(c for _, c in self.stage_window)
        if out_of_time or (total > 0 and right / total >= r["advanceAccuracy"]):
            self.stage += 1
            self.stage_starts.append(self.step)
            self.stage_window = []
            return True
        return False


def replace_atomically(path: str, write) -> None:
    """Writes through `write(temporary)`, then renames over `path` (Sources/Outputs' rule)."""
    temporary = path + ".tmp"
    write(temporary)
    os.replace(temporary, path)


def model_attributes(state: RunState) -> dict:
    """The root attributes `lens train` gives its checkpoints (TrainingStateFile.save)."""
    r = state.recipe
    stages = r["stages"] or [{"maxNodes": r["maxNodes"]}]
    return {"training_recipe": json.dumps(r, sort_keys=True), "training_command": "\n".join(state.history),
            "source": "scripts/train_pytorch.py", "training_steps": float(state.step),
            "training_seconds": float(round(state.elapsed)), "training_tokens": float(state.tokens),
            "max_nodes": float(max(s["maxNodes"] for s in stages[:state.stage + 1])),
            "planned_max_nodes": float(r["maxNodes"]), "max_depth": float(r["maxDepth"]), "seed": float(r["seed"]),
            "curriculum_stage": float(state.stage), "dropout": float(r.get("dropout") or 0),
            "attention_dropout": float(r.get("attentionDropout") or 0)}


def save_lens_resume(path: str, model, optimizer, state: RunState) -> None:
    """A `lens train` resume state (TrainingStateFile's layout): the model, its recipe and a
    /training_state group with the AdamW moments flat in layout (= state_dict) order."""
    import h5py

    def write(temporary):
        save_latentlens_checkpoint(model, temporary, model_attributes(state))
        params = list(model.parameters())
        moments = [optimizer.state.get(p, {}) for p in params]
        first = torch.cat([m["exp_avg"].reshape(-1) if m else torch.zeros(p.numel(), device=p.device)
                           for p, m in zip(params, moments)]).float().cpu().numpy()
        second = torch.cat([m["exp_avg_sq"].reshape(-1) if m else torch.zeros(p.numel(), device=p.device)
                            for p, m in zip(params, moments)]).float().cpu().numpy()
        optimizer_step = int(moments[0]["step"]) if moments and moments[0] else 0
        with h5py.File(temporary, "a") as f:
            g = f.create_group("training_state")
            for name, values in (("first_moment", first), ("second_moment", second)):
                g.create_dataset(name, data=values, compression="gzip", compression_opts=6, shuffle=True)
            g.attrs["step"] = state.step
            g.attrs["optimizer_step"] = optimizer_step
            g.attrs["rng_state"] = np.array(signed_words(state.rng_state), dtype=np.int64)
            g.attrs["elapsed_seconds"] = float(state.elapsed)
            g.attrs["tokens_seen"] = state.tokens
            g.attrs["stage"] = state.stage
            if state.stage_starts:
                g.attrs["stage_starts"] = np.array(state.stage_starts, dtype=np.int64)
            if state.stage_window:
                g.create_dataset("stage_window", data=np.array(state.stage_window, dtype=np.int32))

    replace_atomically(path, write)


def load_lens_resume(path: str) -> tuple:
    """(model, AdamW moments per parameter, optimizer step, RunState) from a `lens train` resume state."""
    import h5py

    model = load_latentlens_checkpoint(path)
    with h5py.File(path, "r") as f:
        if "training_state" not in f or "training_recipe" not in f.attrs:
            raise SystemExit(f"{path}: not a lens train resume state (no training_state group or training_recipe)")
        recipe = {**RECIPE_DEFAULTS, **json.loads(f.attrs["training_recipe"])}
        g = f["training_state"]
        state = RunState(recipe)
        state.step = int(g.attrs["step"])
        state.rng_state = [int(w) & MASK for w in g.attrs["rng_state"]]
        state.stage = int(g.attrs.get("stage", 0))
        state.stage_starts = [int(s) for s in g.attrs.get("stage_starts", [])]
        state.stage_window = g["stage_window"][...].astype(int).tolist() if "stage_window" in g else []
        state.elapsed = float(g.attrs.get("elapsed_seconds", 0))
        state.tokens = int(g.attrs.get("tokens_seen", 0))
        state.history = [line for line in str(f.attrs.get("training_command", "")).split("\n") if line]
        first, second = g["first_moment"][...], g["second_moment"][...]
        optimizer_step = int(g.attrs["optimizer_step"])
    sizes = [p.numel() for p in model.parameters()]
    if sum(sizes) != len(first):
        raise SystemExit(f"{path}: the AdamW moments hold {len(first)} numbers, the model {sum(sizes)} parameters")
    offsets = np.cumsum([0] + sizes)
    moments = [(torch.from_numpy(first[a:b].copy()), torch.from_numpy(second[a:b].copy()))
               for a, b in zip(offsets[:-1], offsets[1:])]
    return model, moments, optimizer_step, state


def set_moments(optimizer, model, moments, optimizer_step: int) -> None:
    for p, (m, v) in zip(model.parameters(), moments):
        optimizer.state[p] = {"step": torch.tensor(float(optimizer_step)), "exp_avg": m.reshape(p.shape).to(p.device),
                              "exp_avg_sq": v.reshape(p.shape).to(p.device)}


def save_checkpoint(args, model, optimizer, state: RunState, device) -> None:
    torch_state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "run": state.to_dict(),
                   "config": vars(model.config), "torch_rng": torch.get_rng_state(),
                   "cuda_rng": torch.cuda.get_rng_state() if device.type == "cuda" else None}
    replace_atomically(args.out + ".torch.pt", lambda t: torch.save(torch_state, t))
    replace_atomically(args.out, lambda t: save_latentlens_checkpoint(model, t, model_attributes(state)))
    if args.lens_resume:
        save_lens_resume(args.out + ".resume.h5", model, optimizer, state)


# ---------------------------------------------------------------- the loop

def format_duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def given(flag: str) -> bool:
    """Whether `flag` was on the command line (argparse cannot tell a default from a given value)."""
    return any(a == flag or a.startswith(flag + "=") for a in sys.argv[1:])


# What may change when a run continues (TrainCommand.changeOnResume): option → recipe key.
CHANGEABLE = {"--steps": "steps", "--lr": "learningRate", "--final-lr-fraction": "finalLearningRateFraction",
              "--weight-decay": "weightDecay", "--max-stage-steps": "maxStageSteps", "--advance-accuracy": "advanceAccuracy"}
RUN_OPTIONS = {"--out", "--resume", "--from-lens-resume", "--force", "--stop-after", "--time-limit", "--checkpoint-every",
               "--snapshot-every", "--lens-resume", "--log-every", "--log-json", "--device", "--threads", "--tf32",
               "--attention-temperature", "--attention-entropy-bonus"}


def change_on_resume(args, state: RunState) -> None:
    """Applies the options that may change on resume and refuses the rest of the recipe's."""
    for flag in (a.split("=")[0] for a in sys.argv[1:] if a.startswith("--")):
        if flag not in CHANGEABLE and flag not in RUN_OPTIONS:
            raise SystemExit(f"{flag} cannot change when a run continues (its recipe is saved); "
                             f"only {', '.join(CHANGEABLE)} and the anneals may be given")
    for flag, key in CHANGEABLE.items():
        if given(flag):
            state.recipe[key] = getattr(args, flag[2:].replace("-", "_"))
    for flag, key in (("--attention-temperature", "attentionTemperature"), ("--attention-entropy-bonus", "attentionEntropyBonus")):
        if given(flag):  # an anneal given on resume starts at the resume step
            state.recipe[key] = anneal(getattr(args, flag[2:].replace("-", "_")), flag, state.step)


def start(args, device):
    """(model, optimizer, state) of a fresh, resumed or imported run."""
    if args.resume:
        saved = torch.load(args.resume, map_location="cpu", weights_only=False)
        model = RecurrentTransformer(Config(**saved["config"]))
        model.load_state_dict(saved["model"])
        model.to(device)
        state = RunState.from_dict(saved["run"])
        change_on_resume(args, state)
        optimizer = make_optimizer(model, state.recipe)
        optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["torch_rng"])
        if device.type == "cuda" and saved.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(saved["cuda_rng"])
        print(f"resuming {args.resume} at step {state.step} of {state.recipe['steps']}")
        return model, optimizer, state
    if args.from_lens_resume:
        model, moments, optimizer_step, state = load_lens_resume(args.from_lens_resume)
        change_on_resume(args, state)
        model.to(device)
        optimizer = make_optimizer(model, state.recipe)
        set_moments(optimizer, model, moments, optimizer_step)
        torch.manual_seed(state.recipe["seed"] + state.step)
        print(f"continuing the lens train run of {args.from_lens_resume} at step {state.step} of {state.recipe['steps']}")
        return model, optimizer, state
    recipe = recipe_from(args)
    if args.init_from:
        model = load_latentlens_checkpoint(args.init_from)
    else:
        model = RecurrentTransformer(Config(**PRESETS[args.config]))
        initialise(model, args.init, recipe["seed"])
    model.to(device)
    torch.manual_seed(recipe["seed"])
    return model, make_optimizer(model, recipe), RunState(recipe)


class Progress:
    """`lens train`'s progress lines (plus steps/s; redrawn in place on a terminal, plain lines
    otherwise) over a window of steps, and the same window as a JSON line for --log-json."""

    def __init__(self, args, recipe: dict, start_step: int, end: int):
        self.args, self.recipe, self.start_step, self.end = args, recipe, start_step, end
        self.terminal = sys.stdout.isatty()
        self.json = open(args.log_json, "a") if args.log_json else None
        self.run_start = self.window_start = time.time()
        self.clear()

    def clear(self) -> None:
        # steps, cross-entropy, value positions counted / right, computed slots counted / right,
        # heavy positions counted / right, H̄, |g|, sequences, supervised tokens
        self.window = np.zeros(12)

    def add(self, values: list, batch) -> None:
        self.window += [1, *values, batch[0].shape[0], int((batch[2] > 0).sum())]

    def note(self, text: str) -> None:
        """A line of its own (the curriculum's stages), not overwritten by the next progress line."""
        print(("\n" if self.terminal else "") + text, flush=True)

    def report(self, step: int, stage: int) -> None:
        w, now = self.window, time.time()
        steps, seconds = w[0], now - self.window_start
        rate = (step - self.start_step) / max(now - self.run_start, 1e-9)
        eta = (self.end - step) / max(rate, 1e-9)  # of this invocation: --stop-after and --time-limit count
        if self.args.time_limit is not None:
            eta = min(eta, self.args.time_limit - (now - self.run_start))
        row = {"step": step, "loss": w[1] / steps, "value_accuracy": w[3] / max(w[2], 1),
               "computable_accuracy": w[7] / max(w[6], 1), "computed_accuracy": w[5] / max(w[4], 1),
               "gradient_norm": w[9] / steps, "lr": learning_rate(self.recipe, step), "sequences_per_second": w[10] / seconds,
               "tokens_per_second": w[11] / seconds, "steps_per_second": rate, "stage": stage}
        line = (f"step {step}/{self.recipe['steps']}  loss {row['loss']:.4f}  value acc {row['value_accuracy']:.3f}  "
                f"computable acc {row['computable_accuracy']:.3f}  computed-node acc {row['computed_accuracy']:.3f}  "
                f"|g| {row['gradient_norm']:.2f}  lr {row['lr']:.2e}  {row['sequences_per_second']:.0f} seq/s  "
                f"{row['tokens_per_second']:.0f} tok/s  {rate:.2f} steps/s  ETA {format_duration(eta)}")
        tau = anneal_value(self.recipe.get("attentionTemperature"), step, 1.0)
        if tau != 1:
            line += f"  τ {tau:.2f}"
        lam = anneal_value(self.recipe.get("attentionEntropyBonus"), step, 0.0)
        if lam > 0:
            row["mean_attention_entropy"] = w[8] / steps
            line += f"  λ {lam:.2g} H̄ {row['mean_attention_entropy']:.2f}"
        print(("\r\x1b[K" + line) if self.terminal else line, end="" if self.terminal else "\n", flush=True)
        if self.json:
            self.json.write(json.dumps(row) + "\n")
            self.json.flush()
        self.clear()
        self.window_start = now

    def out_of_time(self) -> bool:
        return self.args.time_limit is not None and time.time() - self.run_start >= self.args.time_limit


def clip_and_step(params, optimizer, recipe: dict, step: int) -> torch.Tensor:
    """Scales the gradient to a global norm of at most --clip (on the device, no wait), then takes
    the AdamW step at the schedule's rate; returns the norm before clipping."""
    grads = [p.grad for p in params]
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    clip = recipe["gradientClip"]
    torch._foreach_mul_(grads, torch.where(norm > clip, clip / norm, torch.ones_like(norm)))
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(recipe, step)
    optimizer.step()
    return norm


def train(args) -> int:
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = bool(args.tf32)
    for path in (args.out, args.out + ".torch.pt"):
        if os.path.exists(path) and not args.force and not args.resume:
            raise SystemExit(f"{path} exists; pass --force to replace it, or --resume {args.out}.torch.pt to continue")
    model, optimizer, state = start(args, device)
    state.history.append("scripts/train_pytorch.py " + " ".join(sys.argv[1:]))
    recipe = state.recipe
    model.train()
    data = TrainingData(recipe)
    stages = [Stage(**s) for s in recipe["stages"]] if recipe["stages"] else None
    params = list(model.parameters())
    optimizer.param_groups[0]["weight_decay"] = recipe["weightDecay"]  # the decaying group (make_optimizer)
    for p in params:  # readouts of unsupervised factors get zero gradients and still decay, as in lens
        p.grad = torch.zeros_like(p)
    end = recipe["steps"] if args.stop_after is None else min(recipe["steps"], state.step + args.stop_after)
    stop = {"requested": False}
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.__setitem__("requested", True))
    print(f"device {device}{' (' + torch.cuda.get_device_name(device) + ')' if device.type == 'cuda' else ''}; "
          f"{sum(p.numel() for p in params):,} parameters; step {state.step} → {end}; "
          f"stage {state.stage}{' (' + stages[state.stage].text + ')' if stages else ''}", flush=True)
    progress = Progress(args, recipe, state.step, end)
    rng = TaskRNG(state=state.rng_state)
    batch = data.batch(state.step, state.stage, rng)
    clock, last_checkpoint = time.time(), None
    snapshot_passed = state.step // args.snapshot_every if args.snapshot_every else 0
    while state.step < end:
        inputs, targets, weights, computed = (torch.from_numpy(x).to(device, non_blocking=True) for x in batch)
        optimizer.zero_grad(set_to_none=False)
        loss, metrics = loss_and_metrics(model, recipe, state.step, inputs.long(), targets.long(), weights, computed)
        loss.backward()
        norm = clip_and_step(params, optimizer, recipe, state.step)
        # The next batch is drawn while the device works; redrawn if the curriculum moves on.
        rng_after = rng.state
        next_batch = data.batch(state.step + 1, state.stage, rng)
        values = torch.cat([metrics, norm.reshape(1).float()]).tolist()  # waits for the step
        if not (math.isfinite(values[0]) and math.isfinite(values[-1])):
            kept = f"; the last good checkpoint is {last_checkpoint}" if last_checkpoint else "; no checkpoint was written yet"
            raise SystemExit(f"the loss became NaN or infinite at step {state.step}, so training stopped{kept}")
        state.step += 1
        state.rng_state = rng_after
        state.tokens += batch[0].shape[0] * batch[0].shape[1]
        if state.advance_curriculum(int(values[3]), int(values[4])):
            rng = TaskRNG(state=rng_after)
            next_batch = data.batch(state.step, state.stage, rng)
            progress.note(f"curriculum: stage {state.stage} ({stages[state.stage].text}) from step {state.step}")
        progress.add(values, batch)
        batch = next_batch
        stopping = stop["requested"] or progress.out_of_time()
        if state.step % args.log_every == 0 or state.step == end or stopping:
            progress.report(state.step, state.stage)
        if state.step % args.checkpoint_every == 0 or state.step == end or stopping:
            now = time.time()
            state.elapsed += now - clock
            clock = now
            save_checkpoint(args, model, optimizer, state, device)
            last_checkpoint = args.out + ".torch.pt"
            if args.snapshot_every and state.step // args.snapshot_every > snapshot_passed:
                snapshot_passed = state.step // args.snapshot_every
                stem = args.out[:-3] if args.out.endswith(".h5") else args.out
                replace_atomically(f"{stem}.step{state.step}.h5",
                                   lambda t: save_latentlens_checkpoint(model, t, model_attributes(state)))
        if stopping:
            break
    progress.note(f"stopped at step {state.step} of {recipe['steps']} after {format_duration(state.elapsed)} of training "
                  f"in all; model: {args.out}; resume with --resume {args.out}.torch.pt")
    if stop["requested"]:
        print(f"interrupted; continue with: --resume {args.out}.torch.pt", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(train(parse_arguments()))
