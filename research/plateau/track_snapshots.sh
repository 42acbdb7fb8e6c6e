#!/bin/sh
# One line per snapshot of a run (lens train --snapshot-every N): the probe's accuracy at the
# right-hand side and the heads that find or look up each operand (operand_attention.py --summary).
#   research/plateau/track_snapshots.sh PROBE SNAPSHOT.h5...
# e.g. research/plateau/track_snapshots.sh research/plateau/sums16.probe runs/sc/m.step*.h5
# LENS (default: .build/release/lens) and PYTHON (default: python3 with h5py) can be set.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 PROBE SNAPSHOT.h5..." >&2; exit 2; }
probe=$1; shift
here=$(dirname "$0")
lens=${LENS:-.build/release/lens}
python=${PYTHON:-python3}
dump=$(mktemp -d)/dump.h5
trap 'rm -rf "$(dirname "$dump")"' EXIT
# Numeric order of the step in NAME.stepS.h5, whatever order the shell globbed.
# Read line by line (not word-split) so paths with spaces survive.
# Kept resume states (NAME.stepS.resume.h5, lens train --keep-resume-every) match the same glob: skipped.
printf '%s\n' "$@" | grep -v '\.resume\.h5$' | sed 's/.*\.step\([0-9]*\)\.h5$/\1\t&/; t; s/^/0\t/' | sort -n -k1,1 | cut -f2- |
while IFS= read -r model; do
    "$lens" run "$probe" --model "$model" --hooks 'blocks.*.attn.hook_pattern' --positions rhs_pos --out "$dump" --force --quiet >/dev/null
    printf '%s  %s\n' "$(basename "$model")" "$("$python" "$here/operand_attention.py" --summary "$dump")"
done
