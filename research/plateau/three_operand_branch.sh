#!/bin/sh
# Replays the shipped model's lineage exactly (one thread, models/default.log's first two
# commands) to step BRANCH_AT, then branches it to sums of one, two and three operands
# (research/training-history.md, ninth and tenth sessions). Each phase is skipped when its log
# says it finished, and an interrupted phase resumes where it stopped (Ctrl-C or kill -INT
# leave a resume state), so the script can be rerun after an interruption or on a new machine.
#   research/plateau/three_operand_branch.sh RUN_DIR [BRANCH_AT]
# BRANCH_AT defaults to 35000 (30535 at most is an exact replay of the shipped run: it moved
# to two cores there; later steps are a one-thread sibling, the one the ninth session used).
# A branch state committed elsewhere can be continued with START=PATH.resume.h5 (RUN_DIR/branch
# is then created from it). BRANCH_THREADS (default: every core) sets the branch's threads.
# LENS (default: .build/release/lens) is copied into RUN_DIR so a rebuild cannot change a run.
# About 15 min + 50 min of replay on one core, then the branch runs until interrupted. The
# branch stretches the cosine to 400,000 steps with a peak of 4.52e-4, which keeps the rate
# continuous at 35,000 (4.45e-4 either way) and lets it decay slowly over several sessions.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 RUN_DIR [BRANCH_AT]" >&2; exit 2; }
run=$1
at=${2:-35000}
lens=${LENS:-.build/release/lens}
mkdir -p "$run/branch"
[ -x "$run/lens-bin" ] || cp "$lens" "$run/lens-bin"
bin=$(cd "$run" && pwd)/lens-bin
# START may be relative to where the script was called; the phases below change directory.
start=${START:+$(cd "$(dirname "$START")" && pwd)/$(basename "$START")}
export OMP_WAIT_POLICY=PASSIVE
# The branch's threads; the replay's commands set one thread each for themselves.
if [ -n "${BRANCH_THREADS:-}" ]; then export LATENTLENS_THREADS="$BRANCH_THREADS"; else unset LATENTLENS_THREADS; fi
# What every branch invocation keeps and prints; it appends to one log across sessions.
branch_options="--snapshot-every 1000 --keep-resume-every 5000 --checkpoint-every 1000 --log-every 100"

finished() { [ -f "$1" ] && grep -q "^stopped at step $2 " "$1"; }
# The step a resume state was saved at (lens inspect prints its attributes).
state_step() {
    n=$("$bin" inspect "$1" | sed -n 's/^ *@step = \([0-9]*\)$/\1/p' | head -n 1)
    [ -n "$n" ] || { echo "cannot read the step of $1 (lens inspect)" >&2; exit 1; }
    echo "$n"
}

if [ -z "$start" ] && [ ! -f "$run/branch/m.h5.resume.h5" ]; then
    cd "$run"
    # An interrupted replay phase resumes from its last checkpoint (every 1,000 steps) with
    # the options it started with: resumption is bit for bit, so the replay stays exact.
    # models/default.log, first command: sums of two at lr 5e-4, interrupted at 8,594.
    # What the first command printed and kept; a resumed phase must give the same.
    replay1_options="--checkpoint-every 1000 --eval-every 0 --log-every 100"
    if ! finished replay1.log 8594; then
        if [ -f sp5.h5.resume.h5 ]; then
            s=$(state_step sp5.h5.resume.h5) || exit 1
            # shellcheck disable=SC2086
            LATENTLENS_THREADS=1 "$bin" train --resume sp5.h5.resume.h5 --out sp5.h5 \
                $replay1_options --stop-after $((8594 - s)) >>replay1.log 2>&1 || true
        else
            # shellcheck disable=SC2086
            LATENTLENS_THREADS=1 "$bin" train --out sp5.h5 \
                --curriculum 3:4-6/2-2,4:5-8/2-3,6:8-12,6:8-16,6:8-24,6:8-32 --lr 5e-4 --steps 150000 \
                --warmup 1000 $replay1_options --stop-after 8594 >replay1.log 2>&1 || true
        fi
    fi
    finished replay1.log 8594 || { echo "replay stopped early: see $run/replay1.log" >&2; exit 1; }
    # Second command: copies with 16 names; stopped at the branch point. Its curriculum is
    # given once, at 8,594; a resumed run keeps it.
    if ! finished replay2.log "$at"; then
        s=$(state_step sp5.h5.resume.h5) || exit 1
        if [ "$s" -eq 8594 ]; then
            set -- --curriculum 4:5-8/1@16,4:5-8/1-2@16,6:8-16@32,6:8-16,6:8-24,6:8-32
        else
            set --
        fi
        LATENTLENS_THREADS=1 "$bin" train --resume sp5.h5.resume.h5 --out sp5.h5 "$@" \
            --log-every 100 --checkpoint-every 1000 --keep-resume-every 1000 \
            --stop-after $((at - s)) >>replay2.log 2>&1 || true
    fi
    finished replay2.log "$at" || { echo "replay stopped early: see $run/replay2.log" >&2; exit 1; }
    cd branch
    # The ninth session's x28b curriculum: fan-in 1-3 in small graphs, names widening, then
    # the 6-leaf stages of the shipped run.
    # shellcheck disable=SC2086 # branch_options is a list of words
    exec "$bin" train --resume ../sp5.h5.resume.h5 --out m.h5 \
        --curriculum 4:5-8/1-3@16,4:5-8/1-3@32,4:5-8@64,4:5-8,6:8-16,6:8-24,6:8-32 \
        --steps 400000 --lr 4.52e-4 $branch_options >>branch.log 2>&1
fi
cd "$run/branch"
if [ -n "$start" ] && [ ! -f m.h5.resume.h5 ]; then cp "$start" m.h5.resume.h5; fi
# shellcheck disable=SC2086
exec "$bin" train --resume m.h5.resume.h5 --out m.h5 $branch_options >>branch.log 2>&1
