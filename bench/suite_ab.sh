#!/usr/bin/env bash
# Benchmark of the test suite itself (issue 10): the suite at a baseline commit, run as
# it ran then (one process, `python -m pytest`), against HEAD run as CI runs it
# (`./dev test`: a worker per core), on the SAME tests: the test ids both collect.
#
#   bench/suite_ab.sh                 baseline adad572, two rounds (A B A B)
#   ROUNDS=3 BASE=<commit> bench/suite_ab.sh
#   BASE_ALL=1 bench/suite_ab.sh      the baseline runs all its tests, not only the
#                                     common ones (how it was first measured)
#   IDS_MATCH=test_changes ROUNDS=1 bench/suite_ab.sh   only the common ids matching
#                                     that regular expression (a quick check of the script)
#   NO_BYTECODE=1 bench/suite_ab.sh   both sides without a bytecode cache
#                                     (PYTHONDONTWRITEBYTECODE=1)
#
# The baseline is checked out in a temporary worktree and run with HEAD's .venv (./dev
# makes it), its own code first on PYTHONPATH so that its subprocesses (`python -m
# coder ...`) run its code too. The runs are interleaved so that a change in the
# machine's load hits both sides alike; each figure is printed, the ratio is
# median(baseline) / median(HEAD). Wall-clock seconds, and the CPU seconds of the run
# and its children (user + system). Run it on a quiet machine: the figures are only
# as steady as the machine. The last line is one JSON object with all figures.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
base=${BASE:-adad572}
rounds=${ROUNDS:-2}
python=$repo/.venv/bin/python
# Python's default: bytecode (and pytest's rewritten test modules) cached in
# __pycache__, as on a developer's machine. A shell that sets PYTHONDONTWRITEBYTECODE
# would make every process of both sides compile everything again; NO_BYTECODE=1
# measures that way (as stop 19 did).
if [ -n "${NO_BYTECODE:-}" ]; then
    export PYTHONDONTWRITEBYTECODE=1
else
    unset PYTHONDONTWRITEBYTECODE
fi

"$repo/dev" test --version >/dev/null # creates or updates .venv

work=$(mktemp -d "${TMPDIR:-/tmp}/suite-ab.XXXXXX")
cleanup() {
    git -C "$repo" worktree remove --force "$work/base" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
git -C "$repo" worktree add --quiet --detach "$work/base" "$base"

collect() { # folder [PYTHONPATH]: the test ids that folder's suite collects, sorted
    (cd "$1" && env ${2:+PYTHONPATH="$2"} "$python" -m pytest --collect-only -q \
        -p no:cacheprovider -p no:xdist 2>/dev/null | grep '::' | LC_ALL=C sort -u)
}
collect "$work/base" "$work/base" >"$work/base.ids"
collect "$repo" >"$work/head.ids"
LC_ALL=C comm -12 "$work/base.ids" "$work/head.ids" | grep -E -- "${IDS_MATCH:-.}" >"$work/common.ids"
mapfile -t common <"$work/common.ids"
echo "tests: baseline $(wc -l <"$work/base.ids"), HEAD $(wc -l <"$work/head.ids")," \
    "in both ${#common[@]}" >&2
if [ -n "${BASE_ALL:-}" ]; then base_ids=(); else base_ids=("${common[@]}"); fi

# run NAME FOLDER PYTHONPATH COMMAND...: append "wall cpu passed failed" to $work/NAME
run() {
    local name=$1 folder=$2 path=$3
    shift 3
    local log=$work/$name.log start end
    start=$(date +%s.%N)
    (cd "$folder" && env ${path:+PYTHONPATH="$path"} /usr/bin/time -f "%U %S" \
        -o "$work/$name.cpu" "$@") >"$log" 2>&1 || true
    end=$(date +%s.%N)
    local summary passed failed cpu
    summary=$(grep -E '[0-9]+ (passed|failed)' "$log" | tail -1 || true)
    passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
    failed=$(grep -oE '[0-9]+ (failed|error)' <<<"$summary" | grep -oE '[0-9]+' | paste -sd+ | bc || echo 0)
    cpu=$(awk '{print $1 + $2}' "$work/$name.cpu" 2>/dev/null | tail -1)
    local wall
    wall=$(echo "$end - $start" | bc)
    printf '%s %s %s %s\n' "$wall" "${cpu:-0}" "${passed:-0}" "${failed:-0}" >>"$work/$name"
    printf '%-9s wall %7.1f s  cpu %7.1f s  passed %s  failed %s\n' \
        "$name" "$wall" "${cpu:-0}" "${passed:-0}" "${failed:-0}" >&2
    if [ "${failed:-0}" != 0 ] || [ "${passed:-0}" = 0 ]; then
        echo "  $name did not pass cleanly; its log: $log (kept: $work)" >&2
        trap - EXIT
    fi
}

for round in $(seq "$rounds"); do
    echo "round $round/$rounds" >&2
    run baseline "$work/base" "$work/base" \
        "$python" -m pytest -p no:cacheprovider -q -p no:xdist "${base_ids[@]}"
    run head "$repo" "" "$repo/dev" test -p no:cacheprovider -q "${common[@]}"
done

"$python" - "$work/baseline" "$work/head" "$base" "$(git -C "$repo" rev-parse --short HEAD)" \
    "${#common[@]}" "${BASE_ALL:+all}" <<'EOF'
import json
import statistics
import sys

def runs(path):
    with open(path) as fh:
        return [dict(zip(("wall_s", "cpu_s", "passed", "failed"), map(float, line.split())))
                for line in fh if line.strip()]

base, head = runs(sys.argv[1]), runs(sys.argv[2])
a = statistics.median(r["wall_s"] for r in base)
b = statistics.median(r["wall_s"] for r in head)
print(f"baseline {sys.argv[3]}: median {a:.1f} s; HEAD {sys.argv[4]}: median {b:.1f} s; "
      f"ratio {a / b:.2f}x (target 2x)")
print(json.dumps({
    "baseline": sys.argv[3], "head": sys.argv[4], "common_tests": int(sys.argv[5]),
    "baseline_selection": sys.argv[6] or "common",
    "baseline_runs": base, "head_runs": head,
    "baseline_median_s": round(a, 2), "head_median_s": round(b, 2),
    "ratio": round(a / b, 3), "target_ratio": 2.0,
}))
EOF
