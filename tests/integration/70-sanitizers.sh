# shellcheck shell=bash
# Sanitizers: the suite again against the ASan+UBSan build of the library, with the tests'
# own C programs built with ASan too; valgrind's memcheck on those programs' release build.
#
# The ASan library (build/asan/libherokupq.so) has libasan and libubsan as its own
# dependencies, so a program needs nothing preloaded but the shim (preloading libasan
# itself makes libpq programs that call setlocale, psql among them, hang at exit in
# p11-kit's destructor, on Debian 12). What ASan sees depends on the program:
# - the tests' C programs, built again with -fsanitize=address into build/asan/progs (the
#   suite's PROGS): libasan is their first dependency, so ASan's malloc is the process's,
#   the shim's included. Heap overflows, use after free and double frees in the shim (and
#   in libpq and libcurl beneath it) are reported, and so are leaks: LeakSanitizer runs
#   at exit (detect_leaks=1), with no suppression.
# - every other program (psql, pg_dump, the clients): the runtime comes after libc in the
#   lookup order. ASan checks the shim's stack and globals and UBSan all of its code, but
#   heap blocks are libc's: no red zones, and LeakSanitizer sees no allocation.
# With the release programs even here: fork_locks (40 forks while threads allocate: GCC 12's
# ASan allocator takes no lock around fork, so a child can inherit its lock held and hang;
# LLVM added that in 18), the fault table's cycles rows (they name the release build), and
# the tests of ASAN_RELEASE_PROGS (time bounds set for the release build; the ASan build of
# the same scenarios runs here, smaller). Under strace, LeakSanitizer is off (it cannot run
# in a traced process). Every report also goes to a file (log_path): t_asan_suite fails if
# any process wrote one.
# valgrind: memcheck on the release programs, every kind of lost block counted, the forked
# child's inherited blocks told apart by allocation stack (see t_valgrind_fork).

ASAN_SHIM=$ROOT/build/asan/libherokupq.so
ASAN_PROGS=$ROOT/build/asan/progs
RELEASE_PROGS=$ROOT/build/progs
# An error ends the program with a status of its own (a leak too); the report goes to stderr.
HPQ_ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:halt_on_error=1:exitcode=86
HPQ_UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
# t_asan_suite re-runs make test's tests (tests/run.sh --list), never make check's long runs
# (the soak, fuzzing, valgrind, the packaging, this file), so nothing runs twice. Of make
# test's, not against the ASan library: the exports and structure checks are about the
# release build, the client matrix writes build/client-matrix.md (the outer run's), the
# herokupq command's tests (the proxy's too) and make install run the release build.
ASAN_SKIP='^t_(exports|structure|wipe_kept_by_the_compiler|matrix|cmd_.*|doctor_.*|proxy_.*|make_install)$'

# Run with the release build of the programs: tests whose time bounds are the release
# build's. Under ASan's allocator OpenSSL costs a process about 5 times the CPU (libpq's
# SCRAM login allocates in each of its 4096 HMAC rounds): 64 logins take 3.4 s of CPU
# against 0.6 s (measured, -t 64), and the 128 logins of 64 threads retrying at once after a
# rotation outlast the 10 s retry budget on a loaded machine (1 to 14 of the 64 failed, in
# each of 4 runs at load 5-20).
ASAN_RELEASE_PROGS='^t_threads_during_rotation$'

asan_env() { env ASAN_OPTIONS="$HPQ_ASAN_OPTIONS" UBSAN_OPTIONS="$HPQ_UBSAN_OPTIONS" "$@"; }

# under_asan [NAME=VALUE...] CMD...: as `shim`, with the ASan library and its options.
under_asan() {
    shim LD_PRELOAD="$ASAN_SHIM" ASAN_OPTIONS="$HPQ_ASAN_OPTIONS" UBSAN_OPTIONS="$HPQ_UBSAN_OPTIONS" "$@"
}

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

# Heap errors and leaks are seen where ASan's malloc is the process's. Through the shim, in
# the ASan build of a program, they end it with a report; the release build of the same
# program (libc's malloc) sees neither, which is why the suite runs build/asan/progs.
t_asan_probe_heap() {
    local probe=$ROOT/build/asan/libprobe.so what want error
    for what in heap leak; do
        want='ERROR: AddressSanitizer: heap-buffer-overflow' error="a read past a heap block"
        [ "$what" = leak ] && want='ERROR: LeakSanitizer: detected memory leaks' error="a lost block"
        run under_asan HEROKUPQ_LOG=warn LD_PRELOAD="$ASAN_SHIM $probe" HPQ_PROBE="$what" \
            "$ASAN_PROGS/hpq_connect" "$(stale_url)"
        local bad_rc=$RC bad_err=$ERR
        run under_asan HEROKUPQ_LOG=warn LD_PRELOAD="$ASAN_SHIM $probe" "$ASAN_PROGS/hpq_connect" "$(stale_url)"
        local clean_rc=$RC clean_out=$OUT clean_err=$ERR
        run under_asan HEROKUPQ_LOG=warn LD_PRELOAD="$ASAN_SHIM $probe" HPQ_PROBE="$what" "$CONNECT" "$(stale_url)"
        if [ "$bad_rc" = 86 ] && grep -qF -- "$want" <<<"$bad_err" && [ "$clean_rc" = 0 ] &&
            [ "$clean_out" = "$OK_LINE" ] && [ -z "$clean_err" ] && [ "$RC" = 0 ] && ! grep -q Sanitizer <<<"$ERR"; then
            pass "an ASan-built program through the ASan library: $error ends it with status 86 and the report (${want#ERROR: }); without one it connects in silence; the release build of the same program does not see it"
        else fail "sanitizer probe ($what)" "ASan program, with the error: rc=$bad_rc $(head -c 300 <<<"$bad_err")" \
            "without: rc=$clean_rc $clean_out $clean_err" "release program, with the error: rc=$RC $(head -c 300 <<<"$ERR")"; fi
    done
}

# Every other integration test, against the ASan library, with the ASan build of the tests'
# C programs; each result a line of this run. Sanitizer reports go to files as well, which
# must stay absent: no process of the run, whatever its test asserts, found an error.
t_asan_suite() {
    local names slow reports=$WORK/sanitizer-reports
    mkdir -p "$reports"
    mapfile -t names < <("$ROOT/tests/run.sh" --list | grep -vE "$ASAN_SKIP" | grep -vE "$ASAN_RELEASE_PROGS")
    mapfile -t slow < <("$ROOT/tests/run.sh" --list | grep -vE "$ASAN_SKIP" | grep -E "$ASAN_RELEASE_PROGS")
    asan_batch "" "$ASAN_PROGS" "$reports" "${names[@]}"
    asan_batch " (release programs)" "$RELEASE_PROGS" "$reports" "${slow[@]}"
    local found
    found=$(find "$reports" -type f | wc -l)
    if [ "$found" = 0 ]; then
        pass "asan+ubsan: no process of those runs wrote a sanitizer report (heap errors and leaks in the ASan-built programs; stack, globals and undefined behaviour in all)"
    else fail "asan+ubsan: $found sanitizer report(s) in those runs" "$(head -n 40 "$reports"/* | cut -c1-200)"; fi
}

# asan_batch LABEL PROGS REPORTS NAME...: the tests NAME against the ASan library, the
# programs from PROGS, every sanitizer report also written under REPORTS.
asan_batch() {
    local label=$1 progs=$2 reports=$3 out=$WORK/asan-suite.out line summary
    shift 3
    [ $# = 0 ] && return 0 # (no names would be the whole suite)
    env ASAN_OPTIONS="$HPQ_ASAN_OPTIONS:log_path=$reports/asan" SHIM="$ASAN_SHIM" PROGS="$progs" \
        UBSAN_OPTIONS="$HPQ_UBSAN_OPTIONS:log_path=$reports/ubsan" "$ROOT/tests/run.sh" "$@" >"$out" 2>&1
    local rc=$?
    while IFS= read -r line; do
        case $line in
            "ok   "*) pass "asan+ubsan$label: ${line#ok   }" ;;
            "FAIL "*) fail "asan+ubsan$label: ${line#FAIL }" "$(sed -n "/^FAIL ${line#FAIL }/,/^[a-zF]/p" "$out" | sed '1d;$d' | head -n 30)" ;;
            "skip "*) skip "asan+ubsan$label: ${line#skip }" "as in the run against the ASan library" ;;
        esac
    done <"$out"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out")
    if [ -n "$summary" ] && grep -q ' 0 failed' <<<"$summary" && [ "$rc" = 0 ]; then
        pass "asan+ubsan$label: $# integration tests against build/asan/libherokupq.so, programs from ${progs#"$ROOT"/}: $summary"
    else fail "asan+ubsan$label run" "rc=$rc summary: ${summary:-none}" "$(tail -n 20 "$out")"; fi
}

# Connect/finish cycles in one ASan-built process while the credentials rotate every 2 s
# (rotate_until: tests/integration/60-faults.sh): every cycle connects, and neither ASan nor
# LeakSanitizer finds anything in the retries, the refetches and the cache they go through.
t_asan_cycles() {
    local n=150 done=$WORK/asan-cycles.done rotations
    rm -f "$done"
    ( under_asan HEROKUPQ_LOG=warn timeout 180 "$ASAN_PROGS/cycles" -n "$n" -T 120 "$(stale_url)" \
        >"$WORK/asan-cycles.out" 2>"$WORK/asan-cycles.err"
      echo $? >"$done" ) &
    local pid=$!
    rotations=$(rotate_until "$done")
    wait "$pid"
    RC=$(cat "$done") OUT=$(cat "$WORK/asan-cycles.out") ERR=$(cat "$WORK/asan-cycles.err")
    cat "$WORK/asan-cycles.err" >>"$WORK/all-logs"
    if [ "$RC" = 0 ] && grep -q "^at $n .* failed=0 " <<<"$OUT" && [ "$rotations" -ge 1 ] &&
        ! grep -q 'Sanitizer\|runtime error' <<<"$ERR"; then
        pass "asan+ubsan: $n connect/finish cycles of an ASan-built program with $rotations rotations: all connect; no heap error, leak or undefined behaviour"
    else fail "asan+ubsan: cycles with rotations" "rc=$RC rotations=$rotations $(tail -n 2 <<<"$OUT")" "$(grep -v ': debug:' <<<"$ERR" | head -n 30)"; fi
}

# Threads retrying at once after a rotation, in an ASan-built process (threads_during_rotation:
# tests/integration/20-rotation.sh): 16 of them, whose 32 logins fit the retry budget under
# ASan's allocator (the suite's 64 run with the release program, see ASAN_RELEASE_PROGS).
t_asan_threads_rotation() {
    local order
    for order in "together 0 2" "db-first 2000 10"; do
        # shellcheck disable=SC2086 # order, delay, max requests
        SHIM=$ASAN_SHIM CONNECT=$ASAN_PROGS/hpq_connect ASAN_OPTIONS=$HPQ_ASAN_OPTIONS \
            UBSAN_OPTIONS=$HPQ_UBSAN_OPTIONS threads_during_rotation $order 16 "asan+ubsan, ASan-built program: "
    done
}

# --- valgrind -------------------------------------------------------------------------------------
# memcheck on the release build of the programs (the ASan build does not run under valgrind).
# Every kind of lost block counts: definitely, indirectly and possibly lost must all be 0, but
# for what tests/sanitizers/valgrind.supp suppresses, each entry with its measured reason
# (libcurl 8.10+'s TLS session cache in the shim's kept handle: reachable, through pointers
# into the middle of its entries); every pass line says how much was suppressed.
VG_SUPP=$ROOT/tests/sanitizers/valgrind.supp
# shellcheck disable=SC2054 # valgrind's lists are comma-separated
VG_LEAKS=(--leak-check=full --show-leak-kinds=definite,indirect,possible --num-callers=50 --suppressions="$VG_SUPP")
# shellcheck disable=SC2054
VALGRIND=(valgrind --error-exitcode=97 "${VG_LEAKS[@]}" --errors-for-leak-kinds=definite,indirect,possible)

# vg_errors: whether memcheck found a memory error in a process of the last run.
vg_errors() { grep -h 'ERROR SUMMARY:' "$WORK"/vg.* 2>/dev/null | grep -vq 'ERROR SUMMARY: 0 errors'; }
# vg_lost LOG...: how many of the logs report lost blocks of any kind.
vg_lost() { grep -hE '(definitely|indirectly|possibly) lost:' "$@" 2>/dev/null | grep -vc 'lost: 0 bytes'; }
# vg_complete LOG...: whether every log ends with its summary (no process killed half-way).
vg_complete() { [ "$(grep -l 'ERROR SUMMARY:' "$@" 2>/dev/null | wc -l)" = "$#" ]; }
vg_findings() { grep -h -A12 -E 'Invalid|uninitialised|are (definitely|indirectly|possibly) lost in|ERROR SUMMARY: [1-9]' "$@" | head -n 60; }

# vg_suppressed LOG...: what memcheck's suppressions hid, summed over the logs, in words.
vg_suppressed() {
    grep -h 'suppressed: [0-9,]* bytes in' "$@" 2>/dev/null | tr -d , |
        awk '{ b += $3; n += $6 } END { printf "%s bytes in %s blocks suppressed (tests/sanitizers/valgrind.supp)", b + 0, n + 0 }'
}

# vg_verdict EXPECTED_OUT: after a vg_run of `"${VALGRIND[@]}" --log-file=$WORK/vg.%p PROG`,
# whether the program's own result and memcheck's, for every process it ran, are clean.
vg_verdict() {
    local logs=("$WORK"/vg.*)
    [ "$RC" = 0 ] && [ "$OUT" = "$1" ] && ! vg_errors && [ "$(vg_lost "${logs[@]}")" = 0 ] &&
        vg_complete "${logs[@]}"
}

# vg_check WHAT EXPECTED_OUT: the verdict as a line of the run.
vg_check() {
    local logs=("$WORK"/vg.*)
    if vg_verdict "$2"; then
        pass "valgrind: $1 through the shim: 0 errors, 0 bytes lost (definitely, indirectly, possibly; ${#logs[@]} process(es); $(vg_suppressed "${logs[@]}"))$VG_RETRIED"
    else fail "valgrind: $1" "rc=$RC out=$OUT" "$(tail -n 5 <<<"$ERR")" "$(vg_findings "${logs[@]}")"; fi
    rm -f "$WORK"/vg.*
}

# Programs run 20-50 times slower under memcheck: generous bounds for every wait. The
# shim's own 5 s bound on connecting to the API (TLS included) cannot be raised; when it
# expires under memcheck (a loaded machine), the run is made once more, and says so.
# vg_run CMD...: CMD (vg_shim, or a function that calls it) once, or twice if so.
VG_RETRIED=
vg_run() {
    VG_RETRIED=
    rm -f "$WORK"/vg.*
    "$@"
    if grep -q 'cannot reach the Heroku API' <<<"$ERR" && ! vg_errors; then
        VG_RETRIED=" (run twice: the first time memcheck made the API connection miss its bound)"
        rm -f "$WORK"/vg.*
        "$@"
    fi
}
vg_shim() { run shim PGCONNECT_TIMEOUT=60 HEROKUPQ_API_TIMEOUT_MS=60000 timeout 600 env "$@"; }

have_valgrind() { command -v valgrind >/dev/null || { skip "valgrind: $1" "valgrind is not installed"; return 1; }; }

t_valgrind_connect() {
    have_valgrind "hpq_connect" || return 0
    vg_run vg_shim HEROKUPQ_LOG=info "${VALGRIND[@]}" --log-file="$WORK/vg.%p" "$RELEASE_PROGS/hpq_connect" "$(stale_url)"
    vg_check "hpq_connect with stale credentials (rewrite, fetch, connect)" "$OK_LINE"
}

# A cache directory holding the app's current URL, written by a run without memcheck: a
# process under memcheck that uses it makes no API handshake for its first connection.
warm_cache_dir() {
    local dir
    dir=$(fresh_cache_dir)
    shim HEROKUPQ_CACHE_DIR="$dir" "$RELEASE_PROGS/hpq_connect" >/dev/null 2>&1
    echo "$dir"
}

t_valgrind_threads() {
    have_valgrind "hpq_connect -t 4" || return 0
    local dir
    dir=$(warm_cache_dir)
    vg_run vg_shim HEROKUPQ_LOG=info HEROKUPQ_CACHE_DIR="$dir" "${VALGRIND[@]}" --log-file="$WORK/vg.%p" \
        "$RELEASE_PROGS/hpq_connect" -t 4
    vg_check "4 threads connecting at once, the URL from the shared cache" "$(printf '%s\n' "$OK_LINE"{,,,})"
}

# PQreset after a rotation (as t_reset, rotate_and_terminate of 60-reset.sh: the password
# now, the var 2 s later, the session ended): the repair fetches the new URL under memcheck; the first connection's URL comes
# from a warm shared cache, so that fetch is the run's only API handshake.
vg_reset_once() {
    rm -f "$WORK/go.reset"
    : >"$WORK/out"
    ( wait_for_line '^first' "$WORK/out" 1800; rotate_and_terminate; touch "$WORK/go.reset" ) &
    vg_shim HEROKUPQ_LOG=warn HEROKUPQ_CACHE_DIR="$1" "${VALGRIND[@]}" --log-file="$WORK/vg.%p" \
        "$RELEASE_PROGS/reset_client" "$WORK/go.reset"
    wait
    wait_rotation
}

t_valgrind_reset() {
    have_valgrind "reset_client" || return 0
    local before
    vg_run vg_reset_once "$(warm_cache_dir)"
    # The query on the ended session fails, with the server's words: checked, then left out.
    before=$(sed -n 2p <<<"$OUT")
    OUT=$(sed 2d <<<"$OUT")
    [[ $before == "before error "* ]] || OUT="$before (line 2)"$'\n'"$OUT"
    vg_check "PQreset after a rotation (the repair's fetch, the same PGconn runs a query, a new connection)" \
        "$(printf '%s\n' "first ok" "reset ok" "after ok app_user app_db true" "new ok")"
}

# fork_client: the main thread forks while another thread is inside the shim's fetch (the
# API answers 2 s late); the child connects on its own. A fork without exec stays under
# memcheck by itself (no --trace-children needed: that is for exec), and the child writes
# its own log (vg.%p), whose leak check is kept out of the exit status (the verdict below
# reads the logs). The child inherits the blocks the other thread held at the fork, with
# no thread to reference or free them: memcheck counts them lost in the child. They are
# the parent's, not the child's, and are told apart by their allocation stack (the other
# thread's entry, thread_main). Every lost block of the child allocated anywhere else, and
# every lost block of the parent, fails the test.
# Stacks of 100 frames: the other thread's blocks include libcurl's CA store, loaded by OpenSSL
# deep inside the request (50 frames did not reach thread_main), which the fork now waits for.
VALGRIND_FORK=(valgrind --error-exitcode=97 "${VG_LEAKS[@]}" --num-callers=100 --errors-for-leak-kinds=none)

vg_fork_once() { # [NAME=VALUE...]
    api POST /fault '{"delay_ms": 2000, "count": 1}' >/dev/null
    vg_shim HEROKUPQ_LOG=warn "$@" "${VALGRIND_FORK[@]}" --log-file="$WORK/vg.%p" "$RELEASE_PROGS/fork_client" "" 300
    api POST /fault/clear >/dev/null
}

# vg_lost_outside FUNCTION LOG: "RECORDS BYTES" of the lost blocks whose allocation stack
# does not pass through FUNCTION, then "RECORDS BYTES" of those that do.
vg_lost_outside() {
    awk -v fn=" $1 (" '
        function flush() { if (inrec) { if (seen) { tn++; tb += bytes } else { on++; ob += bytes } } inrec = 0 }
        / bytes in [0-9,]+ blocks are (definitely|indirectly|possibly) lost in loss record / {
            flush(); inrec = 1; seen = 0
            bytes = ($3 ~ /^\(/) ? $3 : $2; gsub(/[(,]/, "", bytes); next }
        inrec && index($0, fn) { seen = 1 }
        inrec && /^==[0-9]+== *$/ { flush() }
        END { flush(); printf "%d %d %d %d\n", on, ob, tn, tb }' "$2"
}

# vg_fork_verdict: after a vg_run of fork_client, whether both processes are clean, the
# child but for the blocks the other thread held. Sets VG_PARENT, VG_CHILDREN, VG_OWN
# ("RECORDS BYTES" the child lost of its own) and VG_INHERITED (the other thread's).
vg_fork_verdict() {
    local logs=("$WORK"/vg.*) log pids own own_bytes inherited inherited_bytes
    VG_PARENT="" VG_CHILDREN=() VG_OWN="? ?" VG_INHERITED="0 0"
    pids=" $(sed -n '1s/^==\([0-9]*\)==.*/\1/p' "${logs[@]}" | tr '\n' ' ')"
    for log in "${logs[@]}"; do
        # A child's log names, as its parent, a process that has a log of its own.
        if [[ $pids == *" $(sed -n 's/^==[0-9]*== Parent PID: \([0-9]*\)$/\1/p' "$log") "* ]]; then
            VG_CHILDREN+=("$log")
        else VG_PARENT=$log; fi
    done
    if [ ${#VG_CHILDREN[@]} = 1 ]; then
        read -r own own_bytes inherited inherited_bytes < <(vg_lost_outside thread_main "${VG_CHILDREN[0]}")
        VG_OWN="$own $own_bytes" VG_INHERITED="$inherited $inherited_bytes"
    fi
    [ "$RC" = 0 ] && [ "$OUT" = $'child ok\nthread ok' ] && ! vg_errors && vg_complete "${logs[@]}" &&
        [ -n "$VG_PARENT" ] && [ "$(vg_lost "$VG_PARENT")" = 0 ] && [ ${#VG_CHILDREN[@]} = 1 ] &&
        [ "${VG_OWN% *}" = 0 ]
}

t_valgrind_fork() {
    have_valgrind "fork_client" || return 0
    vg_run vg_fork_once
    if vg_fork_verdict; then
        pass "valgrind: a fork while another thread is inside the shim's fetch; parent and child connect: 0 errors in both, 0 bytes lost in the parent; in the child 0 bytes lost but the ${VG_INHERITED#* } bytes (${VG_INHERITED% *} loss records) the other thread held at the fork$VG_RETRIED"
    else fail "valgrind: fork_client" "rc=$RC out=$OUT logs=$(find "$WORK" -name 'vg.*' | wc -l) children=${#VG_CHILDREN[@]} the child's own lost records and bytes: $VG_OWN" \
        "$(tail -n 5 <<<"$ERR")" "$(vg_findings /dev/null ${VG_PARENT:+"$VG_PARENT"})" \
        "$(grep -h -A12 -E 'Invalid|uninitialised' /dev/null "${VG_CHILDREN[@]}" | head -n 30)"; fi
    rm -f "$WORK"/vg.*
}

# The verdicts can fail: the plain probe (tests/sanitizers/probe.c) preloaded after the shim
# reads past a heap block and leaks one (hpq_connect), or leaks one in the forked child only
# (fork_client); each must be found, the program's own output being as in a clean run.
t_valgrind_probe() {
    have_valgrind "probe" || return 0
    local probe=$ROOT/build/sanitizers/libprobe.so dir heap_ok leak_ok
    dir=$(warm_cache_dir)
    vg_run vg_shim HEROKUPQ_LOG=warn HEROKUPQ_CACHE_DIR="$dir" LD_PRELOAD="$SHIM $probe" HPQ_PROBE=heap,leak \
        "${VALGRIND[@]}" --log-file="$WORK/vg.%p" "$RELEASE_PROGS/hpq_connect"
    grep -q 'Invalid read of size 1' "$WORK"/vg.* && heap_ok=1
    grep -A3 'definitely lost in loss record' "$WORK"/vg.* | grep -q 'lose_a_block' && leak_ok=1
    if [ "$RC" = 97 ] && [ "$OUT" = "$OK_LINE" ] && ! vg_verdict "$OK_LINE" && [ "$heap_ok$leak_ok" = 11 ]; then
        pass "valgrind: a read past a heap block and a lost block (probe) fail the verdict: memcheck's status 97, both reported, the program's output unchanged"
    else fail "valgrind: probe (heap, leak)" "rc=$RC out=$OUT heap=${heap_ok:-0} leak=${leak_ok:-0}" "$(vg_findings "$WORK"/vg.*)"; fi
    rm -f "$WORK"/vg.*
    vg_run vg_fork_once LD_PRELOAD="$SHIM $probe" HPQ_PROBE=fork_leak
    if ! vg_fork_verdict && [ "$RC" = 0 ] && [ "$OUT" = $'child ok\nthread ok' ] &&
        [ "$(vg_lost "$VG_PARENT")" = 0 ] && [ "${VG_OWN% *}" = 1 ]; then
        pass "valgrind: a block lost in the forked child only (probe) fails the fork verdict: one loss record of its own (${VG_OWN#* } bytes) beside the ${VG_INHERITED% *} of the other thread's; the parent clean"
    else fail "valgrind: probe (fork_leak)" "rc=$RC out=$OUT the child's own lost records and bytes: $VG_OWN, parent's: $(vg_lost "$VG_PARENT")"; fi
    rm -f "$WORK"/vg.*
}

# All in make check: each re-runs behaviours the suite checks, under a sanitizer or memcheck.
check_tests t_asan_probe t_asan_probe_heap t_asan_suite t_asan_cycles t_asan_threads_rotation t_valgrind_connect t_valgrind_threads \
    t_valgrind_reset t_valgrind_fork t_valgrind_probe
