#!/usr/bin/env bash
# One GPU session of issue 27's fresh lineage, as a single device command (docs/training.md,
# "Training in PyTorch"): (1) three steps from the same weights and batches, dropout off, on the
# CPU and on the device, whose losses must agree; (2) the lens train run in START continued on the
# device for TRAIN_SECONDS seconds, with checkpoints; (3) the model, the logs, the lens resume state
# (in parts under 16 MiB) and the last two snapshots copied to $OUT.
#
#   scripts/gpu_session.sh [START.resume.h5 [train_pytorch.py options that may change on resume…]]
#
# START defaults to fb's committed state. Environment: TRAIN_SECONDS (420), DEVICE (cuda),
# PYTHON (python3), OUT (where the files go; nothing is copied without it). Back here:
# cat m.h5.resume.h5.part-* > m.h5.resume.h5, then lens eval / lens train --resume.
set -euo pipefail
start=${1:-research/models/fresh-lineage-fb.resume.h5}
shift $(( $# > 0 ? 1 : 0 ))
extra=("$@")
seconds=${TRAIN_SECONDS:-420}
device=${DEVICE:-cuda}
python=${PYTHON:-python3}
dir=runs/gpu
rm -rf "$dir/check" && mkdir -p "$dir/check"
export PYTHONUNBUFFERED=1

# (1) The device computes what the CPU computes: START's weights, its recipe's data, dropout off.
check=(--init-from "$start" --curriculum 6:8-12 --max-depth 6 --depth-by-parents --every-iteration --all-factors
       --computable-weight 1 --frontier 0 --lr 1e-3 --warmup 500 --final-lr-fraction 1 --clip 1.0 --batch 32
       --stop-after 3 --log-every 1 --force)
for run in "cpu reference" "$device device"; do
    read -r on name <<< "$run"
    "$python" scripts/train_pytorch.py "${check[@]}" --device "$on" --out "$dir/check/$name.h5" \
        --log-json "$dir/check/$name.jsonl" > "$dir/check/$name.log" 2>&1 || { cat "$dir/check/$name.log"; exit 1; }
done
"$python" - "$dir/check/reference.jsonl" "$dir/check/device.jsonl" <<'EOF'
import json, sys
cpu, device = ([json.loads(line)["loss"] for line in open(path)] for path in sys.argv[1:])
worst = max(abs(a - b) / a for a, b in zip(cpu, device))
print(f"device check: losses of 3 steps, cpu {cpu}, device {device}: relative difference at most {worst:.1e}")
sys.exit(0 if len(cpu) == len(device) == 3 and worst < 1e-3 else 1)
EOF

# (2) The run, stopping itself with a checkpoint after TRAIN_SECONDS. Whatever it wrote comes back
# even if it fails (its last checkpoint is complete: every file is written aside and renamed).
rm -f "$dir/run.jsonl" "$dir"/m.*
status=0
"$python" scripts/train_pytorch.py --from-lens-resume "$start" --out "$dir/m.h5" --force --device "$device" \
    --time-limit "$seconds" --checkpoint-every 500 --snapshot-every 1000 --lens-resume --log-every 100 \
    --log-json "$dir/run.jsonl" ${extra[@]+"${extra[@]}"} 2>&1 | tee "$dir/run.log" || status=$?

# (3) What comes back (at most 8 files of 16 MiB each).
if [ -n "${OUT:-}" ]; then
    shopt -s nullglob
    for f in "$dir/m.h5" "$dir/run.log" "$dir/run.jsonl"; do [ -f "$f" ] && cp "$f" "$OUT/"; done
    [ -f "$dir/m.h5.resume.h5" ] && split -b 15m "$dir/m.h5.resume.h5" "$OUT/m.h5.resume.h5.part-"
    snapshots=("$dir"/m.step*.h5)
    if (( ${#snapshots[@]} )); then printf '%s\n' "${snapshots[@]}" | sort -V | tail -2 | xargs cp -t "$OUT/"; fi
    ls -l "$OUT"
fi
exit "$status"
