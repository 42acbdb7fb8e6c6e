# %% [markdown]
# # Exploring LatentLens activation files with h5py and numpy
#
# `make demo` writes activation files to `notebooks-data/demo/`. This notebook (a plain Python
# file in the "percent" cell format: it runs as a script, and Jupyter/VS Code open it as a
# notebook) reads them with nothing but h5py and numpy, and recomputes two of LatentLens's
# numbers independently: layer-1 attention on the operands' values, and the Fourier spectrum of
# the layer-1 MLP. The schema is in docs/activation-file.md.
#
#     python3 -m venv .venv && .venv/bin/pip install h5py numpy
#     .venv/bin/python notebooks-data/explore_demo.py

# %%
import json
import os
import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "demo")


def open_activations(name):
    f = h5py.File(os.path.join(DEMO, name + ".h5"), "r")
    assert f.attrs["schema"] == "latentlens.activations" and f.attrs["schema_version"] == 1
    if not f.attrs["complete"]:
        print(f"warning: {name} is incomplete; only its finished sequences are read")
    return f


def at_column(f, hook, column, t=-1):
    """A hook's activations at the query position named by a meta column, last recorded iteration.

    Activation files recorded with --positions keep only some query positions: /query_positions [N, P] and
    the root attribute query_columns say which."""
    n = len(f["lengths"])
    data = f["activations/" + hook]
    dims = [d.decode() if isinstance(d, bytes) else d for d in data.attrs["dims"]]
    if "query" in dims and "query_columns" in f.attrs:
        p = list(f.attrs["query_columns"]).index(column)
        x = data[:n, t]
        return x[:, :, p] if dims[2] == "head" else x[:, p]
    positions = f["meta/" + column][:n]
    x = data[:n, t]
    return x[np.arange(n), :, positions] if dims[2] == "head" else x[np.arange(n), positions]


# %% [markdown]
# ## Layer-1 attention on the operands' values (slot sweeps)

# %%
masses = []
for name in ["slot_var0", "slot_var1", "slot_var2"]:
    f = open_activations(name)
    n = len(f["lengths"])
    rows = at_column(f, "blocks.1.attn.hook_pattern", "rhs_pos")          # [N, H, L]
    per_operand = [rows[np.arange(n), :, f[f"meta/operand{i}_value_pos"][:n]] for i in range(3)]  # [N, H] each
    best = [m.mean(0).max() for m in per_operand]
    pred = f["predictions"][:n, -1, :, 3][np.arange(n), f["meta/rhs_pos"][:n]]
    accuracy = (pred == f["meta/answer"][:n]).mean()
    print(f"{name}: best head's mass on each operand's value {np.round(best, 3)}, sweep accuracy {accuracy:.3f}")
    masses += best
print(f"mean over operands and sweeps: {np.mean(masses):.3f}")

# %% [markdown]
# ## The layer-1 MLP over the (a, b) grid, in a Fourier basis

# %%
f = open_activations("value_grid")
n = len(f["lengths"])
p = 23
a, b = f["meta/operand0_value"][:n], f["meta/operand1_value"][:n]
mlp = at_column(f, "blocks.1.mlp.hook_post", "rhs_pos")                  # [N, F]
grid = np.zeros((p, p, mlp.shape[1]))
grid[a, b] = mlp
centred = grid - grid.mean(axis=(0, 1))
power = np.abs(np.fft.fft2(centred, axes=(0, 1))) ** 2                   # [p, p, F]
variance = power.sum(axis=(0, 1))
active = variance > 1e-3 * variance.max()
# Power in frequency k: terms (k, 0), (0, k) and (k, ±k), with both signs of k (a real signal).
freq = np.zeros((p // 2, mlp.shape[1]))
for k in range(1, p // 2 + 1):
    for (i, j) in [(k, 0), (0, k), (k, k), (k, p - k)]:
        freq[k - 1] += power[i, j] + power[(p - i) % p, (p - j) % p]
fraction = freq / np.maximum(variance, 1e-30)
top = fraction.argmax(0) + 1
print(f"active neurons: {active.sum()} of {mlp.shape[1]}")
print("neurons whose top frequency is k:", {int(k): int((top[active] == k).sum()) for k in range(1, p // 2 + 1)})
print(f"weighted fraction of variance in each neuron's top frequency: {(fraction.max(0) * variance)[active].sum() / variance[active].sum():.3f}")

# %% [markdown]
# ## Compare with LatentLens's own analysis (reports/demo/analysis.json)

# %%
path = os.path.join(HERE, "..", "reports", "demo", "analysis.json")
if os.path.exists(path):
    fourier = json.load(open(path))["analysis"].get("fourier", {})
    print("LatentLens: weighted top-frequency fraction", round(fourier.get("weighted_top_frequency_fraction", float("nan")), 3),
          "key frequencies", fourier.get("key_frequencies"))

# %% [markdown]
# ## Redraw one attention pattern (attention_examples: full patterns of every head)

# %%
f = open_activations("attention_examples")
n = int(f["lengths"][0])
pattern = f["activations/blocks.1.attn.hook_pattern"][0, -1]          # [H, L, L], sequence 0
tokens = f["tokens"][0, -1, :n]                                       # [n, 4] factor ids
def label(t):
    syntax, var, _, value = (int(x) for x in t)
    return {0: f"x_{var}" + (f":{value}" if value < 23 else ""), 1: "+", 2: str(value), 5: "=", 6: ";"}.get(syntax, "·")
rhs = int(f["meta/rhs_pos"][0])
head = int(pattern[:, rhs, :n].max(axis=1).argmax())                  # the sharpest layer-1 head at the rhs
print(f"layer 1, head {head}: attention from the probe's right-hand side ({label(tokens[rhs])} at {rhs})")
for k in np.argsort(-pattern[head, rhs, :n])[:5]:
    print(f"  {pattern[head, rhs, k]:.3f} → {label(tokens[k])} at {k}")
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 8))
    ax.imshow(pattern[head, :n, :n], cmap="viridis")
    ax.set_xticks(range(n), [label(t) for t in tokens], rotation=90, fontsize=5)
    ax.set_yticks(range(n), [label(t) for t in tokens], fontsize=5)
    ax.set_xlabel("key"); ax.set_ylabel("query"); ax.set_title(f"layer 1, head {head}")
    fig.savefig(os.path.join(DEMO, "attention.png"), dpi=150, bbox_inches="tight")
    print("wrote", os.path.join(DEMO, "attention.png"))
except ImportError:
    # Without matplotlib: a coarse text rendering of the last 24 query rows and keys.
    shades = " .:-=+*#%@"
    lo = max(0, n - 24)
    for q in range(lo, n):
        print(f"{label(tokens[q]):>8} " + "".join(shades[min(9, int(pattern[head, q, k] * 9.99))] for k in range(lo, n)))
