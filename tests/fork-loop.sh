#!/usr/bin/env bash
# tests/fork-loop.sh [N] [TEST...]: runs `tests/run.sh t_fork_locks t_fork_early t_fork
# t_fork_waits_for_fetch` (or the
# tests named) N times in a row (default 25) and reports each failing run and the count.
# A fork test that fails at random shows here, not once in a while in CI. Run two copies at once
# to try it under load (each run starts its own local Heroku on free ports).
# Exits 0 when no run failed. FORK_LOOP_KEEP=DIR keeps each failing run's output in DIR.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-25}
shift || true
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=(t_fork_locks t_fork_early t_fork t_fork_waits_for_fetch)
failed=0
start=$(date +%s)
for i in $(seq 1 "$N"); do
    out=$("$ROOT/tests/run.sh" "${TESTS[@]}" 2>&1)
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
    if [[ $summary =~ ^[0-9]+\ passed,\ 0\ failed ]]; then
        echo "run $i/$N: $summary"
    else
        failed=$((failed + 1))
        echo "run $i/$N: FAILED: ${summary:-no summary line}"
        grep -A3 '^FAIL' <<<"$out" | cut -c1-300 | sed 's/^/    /'
        if [ -n "${FORK_LOOP_KEEP:-}" ]; then
            mkdir -p "$FORK_LOOP_KEEP" && printf '%s\n' "$out" >"$FORK_LOOP_KEEP/run-$$-$i.log"
        fi
    fi
done
echo "fork-loop: ${TESTS[*]}: $N runs, $failed failed, $(($(date +%s) - start)) s"
[ "$failed" = 0 ]
