# shellcheck shell=bash
# fork, constructors, the loader: the library's exports and dependencies.

# --- fork, constructors, the loader ----------------------------------------------------------------
# The fork tests' subject is the shim: PGGSSENCMODE=disable keeps libpq's own Kerberos start-up
# (gss_indicate_mechs, whose locks a child forked in the middle of it inherits held) out of them.
# That limit of libpq's is measured on bare libpq by tests/fork-libpq.sh, not here.
t_fork() {
    api POST /fault '{"delay_ms": 2000, "count": 1}' >/dev/null
    run timeout 60 env LD_PRELOAD="$SHIM" PGGSSENCMODE=disable HEROKU_APP="$HPQ_APP" HEROKU_API_KEY="$HPQ_TOKEN" \
        HEROKU_HOST="$HPQ_API_URL" HEROKUPQ_CAFILE="$HPQ_CAFILE" \
        HEROKUPQ_CACHE_DIR="$(fresh_cache_dir)" "$PROGS/fork_client" ""
    api POST /fault/clear >/dev/null
    if [ "$RC" = 0 ] && [ "$OUT" = $'child ok\nthread ok' ]; then pass "a fork while another thread is inside the shim: the child connects and exits normally"
    else fail "fork inside the shim" "rc=$RC out=$OUT" "$ERR"; fi
}

# The fork protection itself, told by what the child does: the API answers 2 s late, the main
# thread forks 300 ms into another thread's fetch. The fork waits for that fetch (bounded by
# HEROKUPQ_API_TIMEOUT_MS), so the child inherits its answer and connects without asking the API
# again: 1 request in all. A fork that did not wait would leave the child to fetch on its own over
# whatever state libcurl and OpenSSL were in: 2 requests (no shared cache here to answer it).
t_fork_waits_for_fetch() {
    local n0 n
    api POST /fault '{"delay_ms": 2000, "count": 1}' >/dev/null
    n0=$(api_count)
    run shim PGGSSENCMODE=disable HEROKUPQ_CACHE_DIR=off timeout 60 "$PROGS/fork_client" ""
    n=$(($(api_count) - n0))
    api POST /fault/clear >/dev/null
    if [ "$RC" = 0 ] && [ "$OUT" = $'child ok\nthread ok' ] && [ "$n" = 1 ]; then
        pass "a fork 300 ms into another thread's fetch waits for it: the child connects with the inherited answer (1 API request in all)"
    else fail "the fork waits for the fetch in flight" "rc=$RC out=$OUT API requests=$n (want 1)" "$(grep -v ': debug:' <<<"$ERR" | tail -5)"; fi
}

# A child forked while other threads are inside each of the shim's locked regions (a fetch in
# flight, the libpq table, the connection registry, the log, the cache): 40 forks, none may hang.
# The release build of fork_locks, even in the sanitizer run: GCC 12's ASan allocator takes no
# lock around fork, so a child forked while another thread allocates can hang in malloc (seen:
# 1 of 40, in ASan's SizeClassAllocator64 lock).
t_fork_locks() {
    api POST /fault '{"delay_ms": 2000, "count": 1}' >/dev/null
    run shim PGGSSENCMODE=disable timeout 300 "$ROOT/build/progs/fork_locks" "" 40
    api POST /fault/clear >/dev/null
    if [ "$RC" = 0 ] && [ "$OUT" = $'forks 40 ok 40 hung 0 failed 0\nthreads ok' ]; then
        pass "40 forks while other threads fetch, connect, poll, finish and log through the shim: no child hangs"
    else fail "fork while threads hold the shim's locks" "rc=$RC out=$OUT" "$(tail -5 <<<"$ERR")"; fi
}

# A fork 0-50 ms into another thread's first connection, in 40 fresh processes: the shim's
# first-use work (binding libpq, loading libcurl, the fetch) is under way in the
# parent; no child may hang or crash. The URL names a port nothing listens on, so libpq never
# reaches TLS or Kerberos itself: this is the shim's part (libpq's own: tests/fork-libpq.sh). Each
# child must have the fetched URL, its parent's or its own (its refusal names that port). Before the fix 10 of 40
# went wrong (7 hung in OpenSSL's locks, 3 crashed in a half-loaded libcurl or the loader's cache).
t_fork_early() {
    local port
    if [[ $SHIM == */asan/* ]]; then # measured: 1 of 40 hung there, not yet understood
        skip "fork during the first connection" "under the ASan library the first fetch is slower and a child still hung (1 of 40): README's limits"
        return
    fi
    port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    api POST /config-vars "{\"vars\": {\"HPQ_CLOSED_URL\": \"postgres://u:closed-$port-pw@127.0.0.1:$port/db\"}}" >/dev/null
    run shim PGGSSENCMODE=disable HEROKUPQ_CACHE_DIR=off HEROKUPQ_CONFIG_VAR=HPQ_CLOSED_URL HEROKUPQ_RETRY_MS=0 \
        FORK_EARLY_REFUSED="$port" timeout 120 "$ROOT/build/progs/fork_early" "" 40 50
    api POST /config-vars '{"vars": {"HPQ_CLOSED_URL": null}}' >/dev/null
    if [ "$RC" = 0 ] && [ "$OUT" = "runs 40 ok 40 hung 0 crashed 0 failed 0" ]; then
        pass "40 forks 0-50 ms into another thread's first connection (libcurl loading, the fetch): no child hangs or crashes"
    else fail "fork during the first connection" "rc=$RC out=$OUT" "$(grep -v ': debug:' <<<"$ERR" | tail -5)"; fi
}

t_constructor() {
    run shim HPQ_CTOR_CONNINFO="postgres://heroku/" LD_PRELOAD="$SHIM $ROOT/build/libs/libctor_connect.so" true
    if [ "$RC" = 0 ] && [ "$OUT" = "ctor ok ssl=t" ]; then pass "a connection from another library's constructor goes through the shim"
    else fail "connect from a constructor" "rc=$RC out=$OUT" "$ERR"; fi
}

t_exports() {
    local names deps
    names=$(nm -D --defined-only "$SHIM" | awk '{print $3}' | sort | tr '\n' ' ')
    deps=$(readelf -d "$SHIM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    local expected="PQconnectPoll PQconnectStart PQconnectStartParams PQconnectdb PQconnectdbParams PQfinish PQping PQpingParams PQreset PQresetPoll PQresetStart PQsetdbLogin dlopen dlsym "
    # libcrypto too is loaded on first use (by the shared cache), never linked: a process
    # that never reaches the cache (no libpq, no HEROKU_APP) must not map it.
    if [ "$names" = "$expected" ] && ! grep -qE 'libpq|libcurl|libcrypto|libssl' <<<"$deps"; then
        pass "exports only the interposed names; no libpq, libcurl or libcrypto dependency: $deps"
    else fail "exports" "names: $names" "deps: $deps"; fi
    run env LD_PRELOAD="$SHIM" "$ROOT/build/progs/rtld_next"
    if [ "$(basename "$OUT")" = libherokupq.so ]; then pass "dlsym(RTLD_NEXT) still answers relative to its caller"
    else fail "dlsym(RTLD_NEXT)" "got $OUT"; fi
}

# The source's structure (tests/check_structure.py, also run by make test-build): each of its
# checks is one result here.
t_structure() {
    run "$ROOT/tests/check_structure.py" "$SHIM"
    local line n=0
    while IFS= read -r line; do
        case $line in
            "ok   "*) pass "${line#ok   }"; n=$((n + 1)) ;;
            "FAIL "*) fail "${line#FAIL }" "$(grep '^     ' <<<"$OUT")"; n=$((n + 1)) ;;
        esac
    done <<<"$OUT"
    if [ "$n" = 0 ] || { [ "$RC" != 0 ] && ! grep -q '^FAIL' <<<"$OUT"; }; then
        fail "tests/check_structure.py" "rc=$RC: $OUT" "$ERR"
    fi
}

tests t_fork t_fork_waits_for_fetch t_fork_locks t_fork_early t_constructor t_exports t_structure
