#!/usr/bin/env bash
# The test suite: unit tests (cmocka), then real programs through the shim
# against a real PostgreSQL (SSL only, scram) and the Heroku API double, both
# started here on loopback and always stopped. Ends with
# "N passed, N failed, N skipped".
#
#   tests/run.sh              every unit test and every integration test registered
#                             with `tests` (make test: every behaviour, in minutes)
#   tests/run.sh --check      the long runs registered with `check_tests` (make check
#                             runs them after make test): the soak, the sanitizer and
#                             valgrind re-runs, fuzzing, the minimal root, the .deb
#   tests/run.sh NAME...      only the integration tests named (t_NAME or NAME, of
#                             either set), with their own local Heroku
#   tests/run.sh --list [--check]   names the tests of the set, one a line
#   --times                   (with any of the above) each test's time, slowest first,
#                             before the closing line
#
# Integration tests live in tests/integration/*.sh (sourced in name order);
# each file registers its tests with `tests t_a t_b` or `check_tests t_c`.
# Helpers: tests/lib.sh.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lib.sh
source "$ROOT/tests/lib.sh"
hpq_clean_env
export PGCONNECT_TIMEOUT=10

WORK=$(mktemp -d /tmp/herokupq-test.XXXXXX)
chmod 755 "$WORK"
ENVDIR=$WORK/env
cleanup() { hpq_env_down "$ENVDIR"; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

for f in "$ROOT"/tests/integration/*.sh; do
    # shellcheck disable=SC1090
    source "$f"
done

# --- unit tests: cmocka's TAP output, one count per test -----------------------------------------
run_unit() {
    local bin out ok bad
    for bin in "$ROOT"/build/tests/*; do
        [ -x "$bin" ] || continue
        out=$(cd "$ROOT" && CMOCKA_MESSAGE_OUTPUT=TAP "$bin" 2>&1)
        local rc=$?
        ok=$(grep -c '^ok [0-9]' <<<"$out")
        bad=$(grep -c '^not ok [0-9]' <<<"$out")
        PASSED=$((PASSED + ok))
        FAILED=$((FAILED + bad))
        if [ "$bad" != 0 ] || [ "$ok" = 0 ] || [ "$rc" != 0 ]; then
            [ "$bad" = 0 ] && FAILED=$((FAILED + 1)) # crashed, or ran nothing
            printf 'FAIL unit %s (exit %s)\n%s\n' "$(basename "$bin")" "$rc" \
                "$(grep -v '^ok [0-9]' <<<"$out" | head -40)"
        else
            printf 'ok   unit %s (%s tests)\n' "$(basename "$bin")" "$ok"
        fi
    done
}

# --- the benchmark's verdicts (bench/report.py's doctests on made-up results; under a second) ---
check_bench_report() {
    run python3 "$ROOT/bench/report.py" --self-test
    if [ "$RC" = 0 ] && grep -q 'checks passed' <<<"$OUT"; then
        pass "bench/report.py: a target comparing two timed sides whose quartiles overlap is 'not resolved' ($OUT)"
    else fail "bench/report.py --self-test" "rc=$RC $OUT" "$ERR"; fi
}

# --- no secret in any log line, program output or file the shim wrote ----------------------------
# What the shim writes is its cache (each test's under $WORK/cache.*): only an
# entry (a 64-hex name, mode 0600) may hold a password, and no file the token.
cache_files_leak() { # SECRET IS_TOKEN: prints each cache file that should not hold SECRET
    local f
    while IFS= read -r f; do
        [ "$2" = 0 ] && [[ $(basename "$f") =~ ^[0-9a-f]{64}$ ]] &&
            [ "$(stat -c %a "$f")" = 600 ] && continue
        echo "$f"
    done < <(grep -rlF -- "$1" "$WORK"/cache.* 2>/dev/null)
}

scan_for_secrets() {
    local secret leaks="" lines outs n=0 files=0 is_token
    touch "$WORK/all-logs" "$WORK/all-out"
    [ -s "$WORK/all-logs" ] || [ -s "$WORK/all-out" ] || compgen -G "$WORK/cache.*" >/dev/null || return 0
    local tokens=" $HPQ_TOKEN $HPQ_FORBIDDEN_TOKEN "
    while IFS= read -r secret; do
        [ -z "$secret" ] && continue
        n=$((n + 1))
        is_token=0
        [[ $tokens == *" $secret "* ]] && is_token=1
        grep -qF -- "$secret" "$WORK/all-logs" && leaks+=" ${secret:0:4}… (stderr)"
        grep -qF -- "$secret" "$WORK/all-out" && leaks+=" ${secret:0:4}… (stdout)"
        [ -n "$(cache_files_leak "$secret" "$is_token")" ] && leaks+=" ${secret:0:4}… (a cache file)"
    done < <(known_secrets)
    lines=$(grep -c '^herokupq: ' "$WORK/all-logs")
    outs=$(wc -l <"$WORK/all-out")
    files=$(find "$WORK" -path "$WORK/cache.*" -type f 2>/dev/null | wc -l)
    if [ -z "$leaks" ] && [ "$n" -ge 3 ]; then
        pass "none of $n tokens and passwords in any of the $lines log lines, the $outs lines programs printed, or the $files cache files but their 0600 entries"
    else fail "secrets shown" "leaked:$leaks (checked $n secrets, $lines log lines, $outs output lines, $files cache files)"; fi
}

# --- the two sets: every test function registered once, in make test's set or make check's -------
check_registration() {
    local defined registered dup unregistered
    defined=$(declare -F | awk '$3 ~ /^t_/ { print $3 }' | sort)
    registered=$(printf '%s\n' "${REGISTERED[@]}" | sort)
    dup=$(uniq -d <<<"$registered" | tr '\n' ' ')
    unregistered=$(comm -3 <(echo "$defined") <(uniq <<<"$registered") | tr -d '\t' | tr '\n' ' ')
    if [ -z "$dup$unregistered" ]; then
        pass "each of the ${#REGISTERED[@]} test functions runs once: ${#QUICK[@]} in make test, ${#CHECK[@]} more in make check"
    else fail "test registration" "registered twice: ${dup:-none}" "defined but not registered, or registered but not defined: ${unregistered:-none}"; fi
}

# The registered test named NAME (t_NAME or NAME), or nothing.
find_test() {
    local t
    for t in "${REGISTERED[@]}"; do
        [ "$t" = "$1" ] || [ "$t" = "t_$1" ] && { echo "$t"; return 0; }
    done
    return 1
}

# timed NAME CMD...: CMD, its wall time kept for --times.
TIMES=()
timed() {
    local t0=$EPOCHREALTIME rc
    "${@:2}"
    rc=$?
    TIMES+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') $1")
    return $rc
}

print_times() {
    echo
    echo "times, slowest first (seconds):"
    printf '%s\n' "${TIMES[@]}" | sort -rn | awk '{ t = $1; $1 = ""; printf "%8.1f %s\n", t, $0 }'
}

main() {
    local set=quick list="" times="" names=() selected=() name t
    for name in "$@"; do
        case $name in
            --list) list=1 ;;
            --check) set=check ;;
            --times) times=1 ;;
            -*) echo "run: unknown option $name" >&2; exit 2 ;;
            *) names+=("$name") ;;
        esac
    done
    local setname=QUICK
    [ "$set" = check ] && setname=CHECK
    local -n chosen=$setname
    if [ -n "$list" ]; then [ ${#chosen[@]} = 0 ] || printf '%s\n' "${chosen[@]}"; exit 0; fi
    [ -x "$SHIM" ] && [ -x "$CONNECT" ] || { echo "run: make test-build first" >&2; exit 2; }
    for name in "${names[@]}"; do
        t=$(find_test "$name") || { echo "run: no test named $name (tests/run.sh --list)" >&2; exit 2; }
        selected+=("$t")
    done
    if [ ${#selected[@]} = 0 ]; then
        if [ "$set" = quick ]; then
            timed "(unit tests)" run_unit
            check_bench_report
            check_registration
        fi
        selected=("${chosen[@]}")
    fi
    timed "(test environment up)" hpq_env_up "$ENVDIR" || { fail "test environment" "scripts/testenv.sh up failed"; exit 1; }
    for t in "${selected[@]}"; do
        timed "$t" "$t"
    done
    scan_for_secrets
    [ -z "$times" ] || print_times
    echo
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
    [ "$FAILED" = 0 ]
}

main "$@"
