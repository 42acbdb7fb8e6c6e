#!/bin/sh
# The three mechanisms on a run's snapshots, one block per snapshot (issue 27's readings):
#   - accuracy and the heads that find / look up each operand from the right-hand side, on
#     copies, sums of two and sums of three (operand_attention.py --summary, 16-name probes);
#   - per layer, which heads sit hard (≥ 0.5) on which offset from the right-hand side, and
#     which are still soft (offset_profile.py --summary, sums of three);
#   - whether layer 0 can still see each of three operands (operand_gradients.py --summary:
#     the median over the 16 heads of each head's median log10 attention on the operand's
#     occurrence, the best head's, and how many heads are above 10^-4) — the first of three
#     operands (offset 6) is the one the shipped lineage lost;
#     With TEMPERATURE=T it reads the patterns as a run training at attention temperature T sees
#     them (every score divided by T: operand_gradients.py --soften 1/sqrt(T)), as well as at 1;
#   - with CIRCUIT=1, lens demo --smoke: layer-0 head groups per slot (the slot probes) and the
#     circuit's evidence (which layer looks values up, and where);
#   - with EVAL=1, lens eval on 200 graphs of 12 and 16 nodes, by operand count.
#   research/plateau/fresh_lineage_readings.sh SNAPSHOT.h5...   (from the repository root)
# e.g. CIRCUIT=1 EVAL=1 research/plateau/fresh_lineage_readings.sh /work/runs/fb/m.step*.h5
# LENS (default .build/release/lens), PYTHON (python3 with h5py and numpy; default
# /usr/bin/python3) and TORCH_PYTHON (with torch too; default .venv/bin/python, skipped if
# absent) can be set. Run it niced beside training.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 SNAPSHOT.h5..." >&2; exit 2; }
here=$(dirname "$0")
lens=${LENS:-.build/release/lens}
python=${PYTHON:-/usr/bin/python3}
torch_python=${TORCH_PYTHON:-.venv/bin/python}
work=$(mktemp -d)
# Scaling q, k and both relative maps by 1/sqrt(T) divides every score by T.
soften=
[ -n "${TEMPERATURE:-}" ] && soften=$("$python" -c 'import sys; print(1 / float(sys.argv[1]) ** 0.5)' "$TEMPERATURE")
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$@" | grep -v '\.resume\.h5$' | sed 's/.*\.step\([0-9]*\)\.h5$/\1\t&/; t; s/^/0\t/' | sort -n -k1,1 | cut -f2- |
while IFS= read -r model; do
    echo "== $(basename "$model")"
    for probe in copies16 sums16 sums-of-three16; do
        "$lens" run "$here/$probe.probe" --model "$model" --hooks 'blocks.*.attn.hook_pattern' --positions rhs_pos \
            --out "$work/$probe.h5" --force --quiet >/dev/null
        printf '  %-16s %s\n' "$probe" "$("$python" "$here/operand_attention.py" --summary "$work/$probe.h5")"
    done
    printf '  %-16s %s\n' "offsets (s3)" "$("$python" "$here/offset_profile.py" --summary "$work/sums-of-three16.h5")"
    if [ -x "$torch_python" ]; then
        for layer in 0 1; do
            printf '  %-16s %s\n' "softness L$layer" \
                "$("$torch_python" "$here/operand_gradients.py" "$model" "$work/sums-of-three16.h5" --layer $layer --summary)"
            if [ -n "$soften" ]; then
                printf '  %-16s %s\n' "L$layer at τ $TEMPERATURE" \
                    "$("$torch_python" "$here/operand_gradients.py" "$model" "$work/sums-of-three16.h5" --layer $layer --summary --soften "$soften")"
            fi
        done
    fi
    if [ "${CIRCUIT:-0}" = 1 ]; then
        # The shipped analyses (lens demo --smoke): layer-0 head groups per slot and the
        # circuit's evidence (layer-0 value lookups at operand occurrences: the mirrored
        # circuit; layer-1 mass on operand values: the paper's).
        "$lens" demo --model "$model" --smoke --out "$work/demo" --report "$work/report" > "$work/demo.txt" 2>&1
        grep -E 'layer-0 head groups|layer-1 attention on operand values|circuit:' "$work/demo.txt" | sed 's/^ */  /'
        "$python" -c 'import json, sys
e = json.load(open(sys.argv[1]))["analysis"]["circuit_evidence"]["evidence"]
print("  evidence: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in sorted(e.items())))' "$work/report/analysis.json"
    fi
    if [ "${EVAL:-0}" = 1 ]; then
        # Recurrent accuracy on fresh graphs of 12 and 16 nodes, by operand count ("operands
        # right": one step of the computation, errors carried in set aside).
        "$lens" eval --model "$model" --nodes 12,16 --samples 200 | grep -E 'nodes:|operands' | sed 's/^/  /'
    fi
done
