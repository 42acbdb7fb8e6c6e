#!/usr/bin/env python3
"""`lens train`'s training batches, drawn in Python: the same generator, the same draws, the same tokens.

A port of Sources/GraphTask (TaskRNG, GraphGenerator, Program.solve / nextFilled, tokenize,
Vocabulary) and Sources/Training/TrainingData.swift + the recipe fields of TrainingRecipe.swift
that the data reads, for training on a machine without the `lens` binary
(scripts/train_pytorch.py). For a recipe (the JSON `lens train` stores as `training_recipe`), a
data-generator state, a step and a curriculum stage, `TrainingData(recipe).batch(step, stage, rng)`
returns the batch `TrainingData.batch(step:stage:rng:)` returns, id for id and weight for weight,
and leaves the generator in the same state. Needs only numpy.

Checked against the Swift code by `TrainingTests.PythonTrainingDataTests`: Swift writes batches of
several recipes (the authors', the default curriculum, frontier states, error correction, operand
lookup, fan-in and name caps, skewed leaf values) to an HDF5 file and this script compares:

    python scripts/training_data.py --compare BATCHES.h5     # needs h5py too
"""
from __future__ import annotations

import json
import math
import struct
import sys

import numpy as np

MASK = (1 << 64) - 1

# Syntax ids (docs/model-spec.md "Factored tokens").
VARIABLE, OPERATION, VALUE, PAD, UNK, EQUALS, EQ_SEP = range(7)
ADD, OPERATION_NA = 0, 1


def float32(x: float) -> float:
    """`x` rounded to the Float32 a Swift recipe field holds."""
    return struct.unpack("f", struct.pack("f", x))[0]


class TaskRNG:
    """xoshiro256** seeded through SplitMix64 (Sources/GraphTask/TaskRNG.swift), draw for draw."""

    __slots__ = ("s0", "s1", "s2", "s3")

    def __init__(self, seed: int | None = None, state: list[int] | None = None):
        if state is not None:
            if len(state) != 4:
                raise ValueError("a TaskRNG state has four words")
            self.s0, self.s1, self.s2, self.s3 = (int(w) & MASK for w in state)
            return
        x = int(seed) & MASK
        words = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            words.append(z ^ (z >> 31))
        self.s0, self.s1, self.s2, self.s3 = words

    @property
    def state(self) -> list[int]:
        """The four words as unsigned integers (a checkpoint stores them as signed int64)."""
        return [self.s0, self.s1, self.s2, self.s3]

    def next(self) -> int:
        s0, s1, s2, s3 = self.s0, self.s1, self.s2, self.s3
        r = (s1 * 5) & MASK
        result = ((((r << 7) | (r >> 57)) & MASK) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & MASK
        self.s0, self.s1, self.s2, self.s3 = s0, s1, s2, s3
        return result

    def below(self, n: int) -> int:
        """Uniform in 0..<n by rejection (the same threshold as Swift's `(0 &- n) % n`)."""
        threshold = ((1 << 64) - n) % n
        while True:
            r = self.next()
            if r >= threshold:
                return r % n

    def unit_double(self) -> float:
        return (self.next() >> 11) * 2.0 ** -53

    def unit_float(self) -> float:
        return (self.next() >> 40) * 2.0 ** -24  # exact in Float32 as in Double

    def shuffle(self, array: list) -> None:
        for i in range(len(array) - 1, 0, -1):
            j = self.below(i + 1)
            array[i], array[j] = array[j], array[i]

    def sample(self, k: int, n: int) -> list[int]:
        """`k` distinct integers from 0..<n, in random order."""
        pool = list(range(n))
        for i in range(k):
            j = i + self.below(n - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]


def signed_words(state: list[int]) -> list[int]:
    """Unsigned 64-bit words → the signed int64 values a resume state stores."""
    return [w - (1 << 64) if w >= 1 << 63 else w for w in state]


# ---------------------------------------------------------------- graphs (Sources/GraphTask)

def generate_graph(rng: TaskRNG, nodes: int, leaves: int, names: int, modulus: int, max_fan_in: int,
                   min_fan_in: int, leaf_value_decay: float | None, parent_depth_limit: int | None):
    """GraphGenerator.generate: equations sorted by depth, each (operands, literal, target)."""
    operands, literal, depth = [], [], []
    for i in range(nodes):
        if i < leaves:
            operands.append([])
            literal.append(leaf_value(rng, modulus, leaf_value_decay))
            depth.append(0)
        else:
            if parent_depth_limit is None:
                candidates = range(i)
            else:
                candidates = [j for j in range(i) if depth[j] < parent_depth_limit]
            count = len(candidates)
            low, high = min(min_fan_in, count), min(max_fan_in, count)
            fan_in = low + rng.below(high - low + 1)
            chosen = [candidates[j] for j in rng.sample(fan_in, count)]
            operands.append(chosen)
            literal.append(None)
            depth.append(1 + max((depth[j] for j in chosen), default=0))
    name_of = rng.sample(nodes, names)
    order = list(range(nodes))
    rng.shuffle(order)
    order.sort(key=lambda node: depth[node])  # stable: ties keep the shuffled order
    return [([name_of[j] for j in operands[node]], literal[node], name_of[node]) for node in order]


def leaf_value(rng: TaskRNG, modulus: int, decay: float | None) -> int:
    if decay is None or decay >= 1:
        return rng.below(modulus)
    u = rng.unit_double() * (1 - math.pow(decay, float(modulus)))
    v = math.floor(math.log(1 - u) / math.log(decay))
    return min(max(v, 0), modulus - 1)


def solve(equations, modulus: int):
    """Program.solve for a generated program: (values, depths), or None when an equation sums nothing."""
    defined_by = {}
    values, depths = [], []
    for e, (ops, lit, target) in enumerate(equations):
        defined_by[target] = e
        if lit is not None:
            values.append(lit)
            depths.append(0)
            continue
        if not ops:
            return None
        total, d = 0, 0
        for op in ops:
            j = defined_by[op]
            total += values[j]
            d = max(d, depths[j] + 1)
        values.append(total % modulus)
        depths.append(d)
    return values, depths


def next_filled(equations, filled: list[bool]) -> list[bool]:
    """Program.nextFilled: leaves always, and every equation whose operands are all filled."""
    is_filled = {target: filled[e] for e, (_, _, target) in enumerate(equations)}
    return [filled[e] or lit is not None or all(is_filled.get(op, False) for op in ops)
            for e, (ops, lit, _) in enumerate(equations)]


class Tokenized:
    """Program.tokenize: the sequence with slots EMPTY, as an int32 [n, 4] array, and each
    equation's right-hand-side (value slot) and operand positions."""

    def __init__(self, equations, names: int, modulus: int):
        x_na, v_na, v_empty = names, modulus, modulus + 1
        tokens, self.slot, self.operand_positions = [], [], []
        for e, (ops, lit, target) in enumerate(equations):
            if e:
                tokens.append((EQ_SEP, x_na, OPERATION_NA, v_na))
            positions = []
            if lit is not None:
                tokens.append((VALUE, x_na, OPERATION_NA, lit))
            else:
                for i, op in enumerate(ops):
                    if i:
                        tokens.append((OPERATION, x_na, ADD, v_na))
                    positions.append(len(tokens))
                    tokens.append((VARIABLE, op, OPERATION_NA, v_empty))
            tokens.append((EQUALS, x_na, OPERATION_NA, v_na))
            self.slot.append(len(tokens))
            tokens.append((VARIABLE, target, OPERATION_NA, v_empty))
            self.operand_positions.append(positions)
        self.tokens = np.array(tokens, dtype=np.int32)
        self.slots = np.array(self.slot, dtype=np.int64)

    def state(self, filled, values) -> np.ndarray:
        result = self.tokens.copy()
        mask = np.asarray(filled, dtype=bool)
        result[self.slots[mask], 3] = np.asarray(values, dtype=np.int32)[mask]
        return result


# ---------------------------------------------------------------- recipes (Sources/Training)

class Stage:
    """CurriculumStage: leaves, node range, fan-in range, names, leaf value decay."""

    def __init__(self, leaves, minNodes, maxNodes, maxFanIn=3, minFanIn=1, names=None, leafValueDecay=None):
        self.leaves, self.min_nodes, self.max_nodes = leaves, minNodes, maxNodes
        self.max_fan_in, self.min_fan_in, self.names, self.leaf_value_decay = maxFanIn, minFanIn, names, leafValueDecay

    @classmethod
    def parse(cls, text: str) -> "Stage":
        """`L:MIN-MAX[/F|/FMIN-FMAX][@N][~D]`, as `lens train --curriculum` reads it."""
        decay = names = None
        if "~" in text:
            text, d = text.split("~")
            decay = float(d)
        if "@" in text:
            text, n = text.split("@")
            names = int(n)
        fan_in, min_fan_in = 3, 1
        if "/" in text:
            text, fans = text.split("/")
            parts = fans.split("-")
            fan_in = int(parts[-1])
            if len(parts) == 2:
                min_fan_in = int(parts[0])
        leaves, nodes = text.split(":")
        low, high = nodes.split("-")
        return cls(int(leaves), int(low), int(high), fan_in, min_fan_in, names, decay)

    def to_json(self) -> dict:
        out = {"leaves": self.leaves, "minNodes": self.min_nodes, "maxNodes": self.max_nodes,
               "maxFanIn": self.max_fan_in, "minFanIn": self.min_fan_in}
        if self.names is not None:
            out["names"] = self.names
        if self.leaf_value_decay is not None:
            out["leafValueDecay"] = self.leaf_value_decay
        return out

    @property
    def text(self) -> str:
        fan = f"/{self.min_fan_in}-{self.max_fan_in}" if self.min_fan_in > 1 else "" if self.max_fan_in == 3 else f"/{self.max_fan_in}"
        return (f"{self.leaves}:{self.min_nodes}-{self.max_nodes}{fan}" + (f"@{self.names}" if self.names else "")
                + (f"~{self.leaf_value_decay}" if self.leaf_value_decay is not None else ""))


DEFAULT_STAGES = "2:3-5,3:4-8,4:5-12,6:7-16,6:8-24,6:8-32"  # TrainingRecipe.defaultStages

# TrainingRecipe's defaults (the fields a fresh `lens train` starts from).
RECIPE_DEFAULTS = {
    "seed": 1, "steps": 100_000, "batchSize": 32, "learningRate": 1e-3, "warmupSteps": 1_000,
    "finalLearningRateFraction": 0.1, "weightDecay": 0.01, "gradientClip": 1.0, "minNodes": 8, "maxNodes": 32,
    "curriculumStartNodes": 8, "curriculumSteps": 0, "maxDepth": 6, "leaves": 6, "names": 128, "modulus": 23,
    "frontierFraction": 0.5, "computableWeight": 3.0, "errorCorrection": 0.0, "factorWeights": [0, 0, 0, 1],
    "stages": [], "advanceAccuracy": 0.9, "advanceWindow": 200,
}


class TrainingData:
    """TrainingData.swift for one recipe (a dict with TrainingRecipe's JSON keys)."""

    def __init__(self, recipe: dict):
        r = {**RECIPE_DEFAULTS, **recipe}
        self.recipe = r
        self.names, self.modulus = r["names"], r["modulus"]
        self.max_depth = r["maxDepth"]
        self.depth_by_parents = bool(r.get("depthCappedByParents"))
        self.every_iteration = bool(r.get("everyIteration"))
        self.operand_lookup = bool(r.get("operandLookup"))
        self.frontier = float32(r["frontierFraction"])
        self.error_correction = float32(r["errorCorrection"])
        self.computable_weight = float32(r["computableWeight"])
        stages = [s if isinstance(s, Stage) else Stage(**s) for s in r["stages"]]
        self.has_stages = bool(stages)
        self.stages = stages or [Stage(r["leaves"], r["minNodes"], r["maxNodes"])]
        self.pad = np.array([PAD, self.names, OPERATION_NA, self.modulus], dtype=np.int32)

    def max_nodes_at(self, step: int) -> int:
        r = self.recipe
        if r["curriculumSteps"] <= 0 or step >= r["curriculumSteps"]:
            return r["maxNodes"]
        start = r["curriculumStartNodes"]
        return start + (r["maxNodes"] - start) * step // r["curriculumSteps"]

    def graph(self, rng, nodes, stage: Stage):
        """A graph redrawn until its depth is at most maxDepth: (equations, values, depths)."""
        limit = self.max_depth if self.depth_by_parents else None
        names = stage.names if stage.names is not None else self.names
        while True:
            equations = generate_graph(rng, nodes, stage.leaves, names, self.modulus, stage.max_fan_in,
                                       stage.min_fan_in, stage.leaf_value_decay, limit)
            solved = solve(equations, self.modulus)
            if solved is not None and max(solved[1]) <= self.max_depth:
                return equations, solved[0], solved[1]

    def example(self, rng, nodes, stage):
        equations, values, depths = self.graph(rng, nodes, stage)
        count = len(equations)
        if rng.unit_float() < self.frontier:
            density = rng.unit_float()
            filled, is_filled = [False] * count, {}
            for e, (ops, _, target) in enumerate(equations):
                ready = all(is_filled.get(op, False) for op in ops)
                filled[e] = ready and rng.unit_float() < density  # drawn only when ready, as Swift's &&
                is_filled[target] = filled[e]
        else:
            t = rng.below(max(depths) + 1)
            filled = [d < t for d in depths]
        return [self.supervised(equations, values, Tokenized(equations, self.names, self.modulus), filled, rng)]

    def iteration_examples(self, rng, nodes, stage):
        equations, values, depths = self.graph(rng, nodes, stage)
        tokenized = Tokenized(equations, self.names, self.modulus)
        return [self.supervised(equations, values, tokenized, [d < t for d in depths], rng)
                for t in range(max(depths) + 1)]

    def supervised(self, equations, values, tokenized: Tokenized, filled, rng):
        """(input, target, weights, computed) of input state `filled`; its target is the next iteration's."""
        nxt = next_filled(equations, filled)
        inp = tokenized.state(filled, values)
        target = tokenized.state(nxt, values)
        weights = np.ones(len(inp), dtype=np.float32)
        computed = np.zeros(len(inp), dtype=bool)
        for e, (ops, lit, _) in enumerate(equations):
            if nxt[e] and not filled[e]:
                weights[tokenized.slot[e]] = self.computable_weight
                computed[tokenized.slot[e]] = lit is None
        if self.operand_lookup:
            defined_by = {target_: e for e, (_, _, target_) in enumerate(equations)}
            for e, (ops, _, _) in enumerate(equations):
                for op, position in zip(ops, tokenized.operand_positions[e]):
                    d = defined_by.get(op)
                    if d is not None and filled[d]:
                        target[position, 3] = values[d]
                        weights[position] = self.computable_weight
        if self.error_correction > 0:
            for e in range(len(equations)):
                if filled[e] and rng.unit_float() < self.error_correction:
                    wrong = (values[e] + 1 + rng.below(self.modulus - 1)) % self.modulus
                    inp[tokenized.slot[e], 3] = wrong
                    weights[tokenized.slot[e]] = self.computable_weight
        return inp, target, weights, computed

    def batch(self, step: int, stage: int, rng: TaskRNG):
        """TrainingData.batch: inputs and targets int32 [B, L, 4], weights float32 [B, L], computed bool [B, L]."""
        current = self.stages[min(stage, len(self.stages) - 1)]
        upper = current.max_nodes if self.has_stages else self.max_nodes_at(step)
        nodes = current.min_nodes + rng.below(upper - current.min_nodes + 1)
        draw = self.iteration_examples if self.every_iteration else self.example
        examples = [ex for _ in range(self.recipe["batchSize"]) for ex in draw(rng, nodes, current)]
        length = max(len(ex[0]) for ex in examples)
        b = len(examples)
        inputs = np.empty((b, length, 4), dtype=np.int32)
        inputs[:] = self.pad
        targets = inputs.copy()
        weights = np.zeros((b, length), dtype=np.float32)
        computed = np.zeros((b, length), dtype=bool)
        for i, (inp, target, w, c) in enumerate(examples):
            n = len(inp)
            inputs[i, :n], targets[i, :n], weights[i, :n], computed[i, :n] = inp, target, w, c
        return inputs, targets, weights, computed


def recipe_from_json(text: str) -> dict:
    return json.loads(text)


# ---------------------------------------------------------------- the check against Swift's batches

def compare(path: str) -> int:
    """Regenerates every batch in `path` (written by the Swift test) and compares; returns the exit status."""
    import h5py

    failures, batches = 0, 0
    with h5py.File(path, "r") as f:
        for name in sorted(f):
            case = f[name]
            data = TrainingData(recipe_from_json(case.attrs["recipe"]))
            rng = TaskRNG(state=[int(np.int64(w)) & MASK for w in case.attrs["rng_state"]])
            for key in sorted(case, key=lambda k: int(k.split("_")[1])):
                g = case[key]
                step, stage = int(g.attrs["step"]), int(g.attrs["stage"])
                got = data.batch(step, stage, rng)
                expected = (g["inputs"][...], g["targets"][...], g["weights"][...], g["computed"][...].astype(bool))
                for label, a, b in zip(("inputs", "targets", "weights", "computed"), got, expected):
                    if a.shape != b.shape or not np.array_equal(a, b):
                        print(f"{name}/{key} (step {step}, stage {stage}): {label} differ "
                              f"(python {list(a.shape)}, swift {list(b.shape)})")
                        failures += 1
                after = [int(np.int64(w)) & MASK for w in g.attrs["rng_state_after"]]
                if rng.state != after:
                    print(f"{name}/{key}: the generator's state after the batch differs")
                    failures += 1
                batches += 1
    if failures:
        print(f"{failures} differences in {batches} batches")
        return 1
    print(f"{batches} batches identical to Swift's (inputs, targets, weights, computed slots, generator state)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2]))
    print(__doc__)
    sys.exit(2)
