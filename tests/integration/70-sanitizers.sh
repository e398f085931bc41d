# shellcheck shell=bash
# Sanitizers: the suite again against the ASan+UBSan build of the library, and valgrind's
# memcheck on the tests' own C programs through the shim.
#
# The ASan library (build/asan/libherokupq.so) has libasan and libubsan as its own
# dependencies, so a program needs nothing preloaded but the shim (preloading libasan
# itself makes libpq programs hang at exit, in p11-kit's destructor, on Debian 12). The
# runtime then comes after libc in the lookup order: ASan checks the shim's stack and
# globals and UBSan all of its code, but heap blocks are libc's (no redzones, and no
# LeakSanitizer); valgrind covers the heap and leaks.

ASAN_SHIM=$ROOT/build/asan/libherokupq.so
# An error ends the program with a status of its own; the report goes to stderr.
HPQ_ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:halt_on_error=1:exitcode=86
HPQ_UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
# Not run against the ASan library: the exports and structure checks are about the
# release build, the fuzz targets and this file do not use the shim, the client matrix
# writes build/client-matrix.md (the outer run's), the herokupq command and packaging
# tests install and run the release build.
ASAN_SKIP='^t_(exports|structure|wipe_kept_by_the_compiler|matrix|fuzz_.*|asan_.*|valgrind_.*|cmd_.*|doctor_.*|make_install|debian_package|minimal_root)$'

asan_env() { env ASAN_OPTIONS="$HPQ_ASAN_OPTIONS" UBSAN_OPTIONS="$HPQ_UBSAN_OPTIONS" "$@"; }

# An error under the ASan library fails the program: a stack overflow (ASan) and a
# signed overflow (UBSan) in a library built the same way, loaded beside it.
t_asan_probe() {
    local probe=$ROOT/build/asan/libprobe.so what want
    for what in stack ubsan; do
        want='ERROR: AddressSanitizer: stack-buffer-overflow'
        [ "$what" = ubsan ] && want='runtime error: signed integer overflow'
        run asan_env LD_PRELOAD="$ASAN_SHIM $probe" HPQ_PROBE="$what" true
        local bad_rc=$RC bad_err=$ERR
        run asan_env LD_PRELOAD="$ASAN_SHIM $probe" true
        if [ "$bad_rc" != 0 ] && grep -qF -- "$want" <<<"$bad_err" && [ "$RC" = 0 ] && [ -z "$ERR" ]; then
            pass "under the ASan library, a $what error ends the program with status $bad_rc and a report; without one it exits 0 in silence"
        else fail "sanitizer probe ($what)" "with the error: rc=$bad_rc $(head -c 300 <<<"$bad_err")" "without: rc=$RC $ERR"; fi
    done
}

# Every other integration test, against the ASan library, each result a line of this run.
t_asan_suite() {
    local names out=$WORK/asan-suite.out line summary
    mapfile -t names < <("$ROOT/tests/run.sh" --list | grep -vE "$ASAN_SKIP")
    asan_env SHIM="$ASAN_SHIM" "$ROOT/tests/run.sh" "${names[@]}" >"$out" 2>&1
    local rc=$?
    while IFS= read -r line; do
        case $line in
            "ok   "*) pass "asan+ubsan: ${line#ok   }" ;;
            "FAIL "*) fail "asan+ubsan: ${line#FAIL }" "$(sed -n "/^FAIL ${line#FAIL }/,/^[a-zF]/p" "$out" | sed '1d;$d' | head -n 30)" ;;
            "skip "*) skip "asan+ubsan: ${line#skip }" "as in the run against the ASan library" ;;
        esac
    done <"$out"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out")
    if [ -n "$summary" ] && grep -q ' 0 failed' <<<"$summary" && [ "$rc" = 0 ]; then
        pass "asan+ubsan: ${#names[@]} integration tests against build/asan/libherokupq.so: $summary"
    else fail "asan+ubsan run" "rc=$rc summary: ${summary:-none}" "$(tail -n 20 "$out")"; fi
}

# --- valgrind -------------------------------------------------------------------------------------
# fork_client is not among them: under memcheck's timing its child hangs or fails its own
# fetch, and a forked child's leak report counts what the parent's other threads held.
# reset_client neither, yet: its reset repair fetches under memcheck, which on a loaded
# machine exceeds the API bounds below.
VALGRIND=(valgrind --error-exitcode=97 --leak-check=full --show-leak-kinds=definite
          --errors-for-leak-kinds=definite)

# vg_check WHAT EXPECTED_OUT: after `run shim ... "${VALGRIND[@]}" --log-file=$WORK/vg.%p PROG`,
# the program's own result and memcheck's, for every process it ran.
vg_check() {
    local what=$1 want=$2 logs errors lost n
    logs=("$WORK"/vg.*)
    n=${#logs[@]}
    errors=$(grep -h 'ERROR SUMMARY:' "${logs[@]}" 2>/dev/null | grep -vc 'ERROR SUMMARY: 0 errors')
    lost=$(grep -h 'definitely lost:' "${logs[@]}" 2>/dev/null | grep -vc 'definitely lost: 0 bytes')
    if [ "$RC" = 0 ] && [ "$OUT" = "$want" ] && [ "$errors" = 0 ] && [ "$lost" = 0 ] &&
        [ "$(grep -l 'ERROR SUMMARY:' "${logs[@]}" 2>/dev/null | wc -l)" = "$n" ]; then
        pass "valgrind: $what through the shim: 0 errors, 0 bytes definitely lost ($n process(es))$VG_RETRIED"
    else fail "valgrind: $what" "rc=$RC out=$OUT" "$(tail -n 5 <<<"$ERR")" "$(grep -h -A8 -E 'Invalid|uninitialised|definitely lost in|ERROR SUMMARY: [1-9]' "${logs[@]}" | head -n 40)"; fi
    rm -f "$WORK"/vg.*
}

# Programs run 20-50 times slower under memcheck: generous bounds for every wait. The
# shim's own 5 s bound on connecting to the API (TLS included) cannot be raised; when it
# expires under memcheck (a loaded machine), the run is made once more, and says so.
VG_RETRIED=
vg_run() {
    VG_RETRIED=
    rm -f "$WORK"/vg.*
    run shim PGCONNECT_TIMEOUT=60 HEROKUPQ_API_TIMEOUT_MS=60000 "$@"
    if [ "$RC" != 0 ] && grep -q 'cannot reach the Heroku API' <<<"$ERR" &&
        ! grep -h 'ERROR SUMMARY:' "$WORK"/vg.* | grep -vq 'ERROR SUMMARY: 0 errors'; then
        VG_RETRIED=" (run twice: the first time memcheck made the API connection miss its bound)"
        rm -f "$WORK"/vg.*
        run shim PGCONNECT_TIMEOUT=60 HEROKUPQ_API_TIMEOUT_MS=60000 "$@"
    fi
}

have_valgrind() { command -v valgrind >/dev/null || { skip "valgrind: $1" "valgrind is not installed"; return 1; }; }

t_valgrind_connect() {
    have_valgrind "hpq_connect" || return 0
    vg_run HEROKUPQ_LOG=info "${VALGRIND[@]}" --log-file="$WORK/vg.%p" "$CONNECT" "$(stale_url)"
    vg_check "hpq_connect with stale credentials (rewrite, fetch, connect)" "$OK_LINE"
}

t_valgrind_threads() {
    have_valgrind "hpq_connect -t 4" || return 0
    # The URL from the cache shared between processes, written by a run without memcheck:
    # no API handshake under memcheck (t_valgrind_connect has one).
    local dir
    dir=$(fresh_cache_dir)
    shim HEROKUPQ_CACHE_DIR="$dir" "$CONNECT" >/dev/null 2>&1
    vg_run HEROKUPQ_LOG=info HEROKUPQ_CACHE_DIR="$dir" "${VALGRIND[@]}" --log-file="$WORK/vg.%p" "$CONNECT" -t 4
    vg_check "4 threads connecting at once, the URL from the shared cache" "$(printf '%s\n' "$OK_LINE"{,,,})"
}



tests t_asan_probe t_asan_suite t_valgrind_connect t_valgrind_threads
