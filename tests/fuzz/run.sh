#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS TARGET...: run each libFuzzer target (build/fuzz/fuzz_TARGET) for
# SECONDS, one after the other, and print one line each: "ok   fuzz TARGET: ..." or
# "FAIL fuzz TARGET: ..." with the failing input and its report. Exits 1 if any failed.
#
# Each run reads the tracked seeds (tests/fuzz/corpus/TARGET, never written) and the
# inputs earlier runs found (build/fuzz/corpus/TARGET, where new ones go); a failing
# input is saved as build/fuzz/artifacts/TARGET-crash-* (or -leak-, -timeout-, -oom-).
# FUZZ_SEED fixes libFuzzer's random seed (0, the default: a new one each run).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:?usage: $0 SECONDS TARGET...}
shift

fuzz_one() { # target seconds: prints the result line (and the report if it failed)
    local t=$1 secs=$2 bin=$ROOT/build/fuzz/fuzz_$1 found=$ROOT/build/fuzz/corpus/$1
    local artifacts=$ROOT/build/fuzz/artifacts log=$ROOT/build/fuzz/$1.log dict=()
    [ -x "$bin" ] || { printf 'FAIL fuzz %s: %s is not built\n' "$t" "$bin"; return 1; }
    mkdir -p "$found" "$artifacts"
    [ -f "$ROOT/tests/fuzz/$t.dict" ] && dict=(-dict="$ROOT/tests/fuzz/$t.dict")
    local start=$SECONDS rc
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$bin" -max_total_time="$secs" -timeout=10 \
        -seed="${FUZZ_SEED:-0}" \
        -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$artifacts/$t-" "$found" "$ROOT/tests/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -n1)
    if [ "$rc" = 0 ]; then
        printf 'ok   fuzz %s: %s inputs in %d s, no failure (%s, corpus %s)\n' "$t" "${runs:-?}" \
            $((SECONDS - start)) "${cov:-cov: ?}" "$(ls "$found" "$ROOT/tests/fuzz/corpus/$t" | wc -l)"
        return 0
    fi
    printf 'FAIL fuzz %s: exit %s after %d s; input: %s\n' "$t" "$rc" $((SECONDS - start)) \
        "$(grep -a -o "$artifacts/$t-[a-z-]*[0-9a-f]*" "$log" | tail -n1)"
    # What broke, and where in the shim or the target (the full report: build/fuzz/TARGET.log).
    { grep -a -m1 -E 'hpq-fuzz: invariant|ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|ERROR: libFuzzer' "$log"
      grep -a -E '^ *#[0-9]+ .* in (hpq_|LLVMFuzzerTestOneInput|[a-z_]+ /.*/(shim|tests)/)' "$log" | head -n 8
    } | cut -c1-300 | sed 's/^/     /'
    return 1
}

status=0
for t in "$@"; do
    fuzz_one "$t" "$seconds" || status=1
done
exit $status
