#!/usr/bin/env bash
# The test suite: unit tests (cmocka), then real programs through the shim
# against a real PostgreSQL (SSL only, scram) and the Heroku API double, both
# started here on loopback and always stopped. Ends with "N passed, N failed".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHIM=$ROOT/build/libherokupq.so
CONNECT=$ROOT/build/progs/hpq_connect
PASSED=0
FAILED=0

# Nothing from the caller's environment may steer libpq or the shim.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGSSLMODE PGPASSFILE \
      DATABASE_URL HEROKU_APP HEROKU_API_KEY HEROKU_HOST NETRC LD_PRELOAD \
      $(env | sed -n 's/^\(HEROKUPQ_[A-Z_]*\)=.*/\1/p')
export PGCONNECT_TIMEOUT=10

pass() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$1"; shift; printf '     %s\n' "$@"; }

# --- unit tests -------------------------------------------------------------------------------
run_unit() {
    local bin out
    for bin in "$ROOT"/build/tests/*; do
        [ -x "$bin" ] || continue
        out=$(cd "$ROOT" && "$bin" 2>&1)
        local ok bad
        ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -n1)
        bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -n1)
        PASSED=$((PASSED + ${ok:-0}))
        FAILED=$((FAILED + ${bad:-0}))
        if [ -n "${bad:-}" ] || [ -z "${ok:-}" ]; then
            [ -z "${ok:-}${bad:-}" ] && FAILED=$((FAILED + 1))
            printf 'FAIL unit %s\n%s\n' "$(basename "$bin")" "$(grep -E 'FAILED|ERROR|Failure' <<<"$out")"
        else
            printf 'ok   unit %s (%s tests)\n' "$(basename "$bin")" "$ok"
        fi
    done
}

# --- the local Heroku ---------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/herokupq-test.XXXXXX)
chmod 755 "$WORK"
ENVDIR=$WORK/env
LOGS=$WORK/all-logs # every line the shim printed, checked for secrets at the end
cleanup() { "$ROOT/scripts/testenv.sh" down "$ENVDIR" >/dev/null 2>&1; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

api() { curl -sS --max-time 10 -X "$1" ${3:+-d "$3"} "$HPQ_API_CONTROL$2"; }
api_count() { api GET /requests | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
api_reset() { api POST /reset >/dev/null; }

# Run a command through the shim, configured for the local Heroku. Extra
# NAME=VALUE words before the command override the defaults.
shim() {
    env LD_PRELOAD="$SHIM" HEROKU_APP="$HPQ_APP" HEROKU_API_KEY="$HPQ_TOKEN" \
        HEROKU_HOST="$HPQ_API_URL" HEROKUPQ_CAFILE="$HPQ_CAFILE" HEROKUPQ_LOG=debug "$@"
}

# run NAME cmd...: stdout to $OUT, stderr to $ERR (and the secrets log), status in $RC.
run() {
    "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
    cat "$WORK/err" >>"$LOGS"
}

PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)
WHOAMI="SELECT current_user, current_database(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"

wait_rotation() {
    for _ in $(seq 1 100); do
        api GET /rotate/status | grep -q '"done": true' && return 0
        sleep 0.1
    done
    return 1
}

rotate() { # order delay_ms: prints the new URL
    api POST /rotate "{\"order\": \"$1\", \"delay_ms\": $2}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])'
}

# shellcheck source=tests/matrix.sh
source "$ROOT/tests/matrix.sh"
MATRIX_OUT=$ROOT/build/client-matrix.md

# The README's client table is this run's: replace what stands between its markers.
update_readme_matrix() {
    python3 - "$ROOT/README.md" "$MATRIX_OUT" <<'PY_EOF'
import re, sys
readme, table = sys.argv[1], open(sys.argv[2]).read().strip()
text = open(readme).read()
begin, end = "<!-- client-matrix: begin (written by tests/run.sh) -->", "<!-- client-matrix: end -->"
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    open(readme, "w").write(head + begin + "\n" + table + "\n" + end + tail)
PY_EOF
}

# --- 1. psql with no arguments reaches the app's database over SSL -------------------------------
t_psql_no_args() {
    run shim PGSSLMODE=disable "${PSQL[@]}" -c "$WHOAMI"
    if [ "$RC" = 0 ] && [ "$OUT" = "app_user|app_db|t" ]; then pass "psql without arguments reaches the app's database over SSL, despite PGSSLMODE=disable"
    else fail "psql without arguments" "rc=$RC out=$OUT" "$ERR"; fi
}

# --- 2. a stale DATABASE_URL in the environment still works --------------------------------------
t_stale_database_url() {
    local stale="postgres://app_user:stale-password@127.0.0.1:$HPQ_PG_PORT/app_db"
    run shim DATABASE_URL="$stale" bash -c 'psql -X -A -t "$DATABASE_URL" -c "$1"' _ "$WHOAMI"
    if [ "$RC" = 0 ] && [ "$OUT" = "app_user|app_db|t" ]; then pass "psql \"\$DATABASE_URL\" with old credentials connects"
    else fail "psql with a stale DATABASE_URL" "rc=$RC out=$OUT" "$ERR"; fi
}

# --- each entry point ---------------------------------------------------------------------------
t_entry_points() {
    local e
    for e in connectdb params setdb; do
        run shim "$CONNECT" -e "$e" "postgres://someone:else@127.0.0.1:1/elsewhere?sslmode=disable&application_name=mine"
        if [ "$RC" = 0 ] && [ "$OUT" = "ok user=app_user db=app_db ssl=t" ]; then pass "$e is rewritten to the app's database over SSL"
        else fail "$e is rewritten" "rc=$RC out=$OUT" "$ERR"; fi
    done
}

# --- 3. rotation: the password changes, the config var follows 2 s later ------------------------
# Until the first half of a rotation is done (the password, or the var).
wait_first_half() {
    local field=db_updated
    [ "$1" = var-first ] && field=var_updated
    for _ in $(seq 1 50); do
        api GET /rotate/status | grep -q "\"$field\": true" && return 0
        sleep 0.1
    done
    return 1
}

t_rotation() {
    local order=$1 url
    url=$(rotate "$order" 2000)
    wait_first_half "$order"
    run shim HEROKUPQ_LOG=warn "${PSQL[@]}" -c "$WHOAMI"
    wait_rotation
    if [ "$RC" = 0 ] && [ "$OUT" = "app_user|app_db|t" ] && [ -z "$ERR" ]; then pass "rotation ($order, 2 s apart): a new connection succeeds and the program sees no error"
    else fail "rotation ($order)" "rc=$RC out=$OUT" "$ERR"; fi
    ROTATED_URLS+=("$url")
}

# A running psql whose cached URL goes stale: \connect after a rotation.
t_rotation_in_running_program() {
    local script=$WORK/reconnect.sql
    cat >"$script" <<SQL
SELECT 'before';
\! curl -s -X POST -d '{"order": "db-first", "delay_ms": 2000}' $HPQ_API_CONTROL/rotate >/dev/null
\connect
SELECT 'after ' || current_user;
SQL
    run shim HEROKUPQ_LOG=warn "${PSQL[@]}" -f "$script"
    wait_rotation
    if [ "$RC" = 0 ] && [ "$OUT" = $'before\nafter app_user' ] && [ -z "$ERR" ]; then pass "a running psql reconnects (\\connect) after a rotation without an error"
    else fail "reconnect in a running psql" "rc=$RC out=$OUT" "$ERR"; fi
}

# --- 4. 32 threads on a cold cache: one API request ---------------------------------------------
t_single_flight() {
    api_reset
    run shim "$CONNECT" -t 32
    local n ok
    n=$(api_count)
    ok=$(grep -c '^ok user=app_user db=app_db ssl=t$' <<<"$OUT")
    if [ "$RC" = 0 ] && [ "$ok" = 32 ] && [ "$n" = 1 ]; then pass "32 threads connecting at once on a cold cache make exactly 1 API request"
    else fail "32 threads, one API request" "rc=$RC ok=$ok api_requests=$n" "$ERR"; fi
}

# --- 5. the API failing: a clear line, the fallback, no crash; strict fails clearly ---------------
# The program's own parameters (host and credentials valid, but sslmode=disable,
# which the server rejects) are the fallback: it only works if the shim still
# lifts sslmode to require.
fallback_conninfo() { echo "postgres://app_user:$CURRENT_PW@127.0.0.1:$HPQ_PG_PORT/app_db?sslmode=disable"; }

api_failure_case() { # name expected-log-pattern setup-env...
    local name=$1 pattern=$2
    shift 2
    run shim HEROKUPQ_API_TIMEOUT_MS=1500 "$@" "$CONNECT" "$(fallback_conninfo)"
    if [ "$RC" = 0 ] && [ "$OUT" = "ok user=app_user db=app_db ssl=t" ] &&
        grep -q "^herokupq: error: .*$pattern" <<<"$ERR"; then
        pass "API $name: one clear log line, falls back to the program's own parameters over SSL"
    else fail "API $name: fallback" "rc=$RC out=$OUT" "$ERR"; fi
    run shim HEROKUPQ_API_TIMEOUT_MS=1500 HEROKUPQ_STRICT=1 "$@" "$CONNECT" "$(fallback_conninfo)"
    if [ "$RC" = 1 ] && grep -q "^error .*herokupq: .*$pattern" <<<"$OUT"; then
        pass "API $name with HEROKUPQ_STRICT=1: the connection fails and says why"
    else fail "API $name: strict" "rc=$RC out=$OUT" "$ERR"; fi
    api POST /fault/clear >/dev/null
}

# A process that resolved the URL once keeps working when the API fails later.
t_last_good_url() {
    rm -f "$WORK/go.lastgood"
    ( sleep 1; api POST /fault '{"status": 503, "count": -1}' >/dev/null; touch "$WORK/go.lastgood" ) &
    run shim HEROKUPQ_TTL=0 HEROKUPQ_LOG=warn "$CONNECT" -w "$WORK/go.lastgood" -t 4 \
        "$(fallback_conninfo | sed 's/app_db/no_such_db/')"
    wait
    api POST /fault/clear >/dev/null
    local ok warned
    ok=$(grep -c '^ok user=app_user db=app_db ssl=t$' <<<"$OUT")
    warned=$(grep -c 'herokupq: warn: using the last good database URL' <<<"$ERR")
    if [ "$RC" = 0 ] && [ "$ok" = 4 ] && [ "$warned" = 1 ] && grep -q '^herokupq: error: .*503' <<<"$ERR"; then
        pass "the API failing after a first answer: the last good URL is used, one error and one warning line"
    else fail "last good URL" "rc=$RC ok=$ok warned=$warned out=$OUT" "$ERR"; fi
}

t_api_failures() {
    api_failure_case "401 (bad token)" "401 unauthorized" HEROKU_API_KEY=HRKU-not-a-token
    api_failure_case "403 (no access)" "403 forbidden" HEROKU_API_KEY="$HPQ_FORBIDDEN_TOKEN"
    api_failure_case "404 (unknown app)" "404 not_found" HEROKU_APP=no-such-app
    api POST /fault '{"status": 500, "count": -1}' >/dev/null
    api_failure_case "500" "500" 
    api POST /fault '{"status": 200, "body": "{\"DATABASE_URL\": ", "count": -1}' >/dev/null
    api_failure_case "malformed body" "not JSON"
    api POST /fault '{"hang": true, "count": -1}' >/dev/null
    api_failure_case "not answering" "cannot reach the Heroku API.*[Tt]imeout"
    api_failure_case "config var missing" "no config var NO_SUCH_VAR" HEROKUPQ_CONFIG_VAR=NO_SUCH_VAR
    api_failure_case "host not Heroku's" "refusing to send it the token" HEROKU_HOST=https://api.example.org
}

# --- 7. HEROKUPQ_TARGET ------------------------------------------------------------------------
t_target() {
    api_reset
    # Another host (this one, by address) with sslmode=disable: left alone, so
    # the server's hostnossl reject shows it was not rewritten.
    run shim HEROKUPQ_TARGET=heroku "$CONNECT" "$(fallback_conninfo)"
    local n
    n=$(api_count)
    if [ "$RC" = 1 ] && grep -q 'no encryption' <<<"$OUT" && [ "$n" = 0 ]; then pass "HEROKUPQ_TARGET=heroku leaves a connection to another host alone"
    else fail "target: other host left alone" "rc=$RC api=$n out=$OUT" "$ERR"; fi
    run shim HEROKUPQ_TARGET=heroku "$CONNECT" "postgres://heroku/"
    if [ "$RC" = 0 ] && [ "$OUT" = "ok user=app_user db=app_db ssl=t" ]; then pass "HEROKUPQ_TARGET=heroku rewrites postgres://heroku/"
    else fail "target: heroku rewritten" "rc=$RC out=$OUT" "$ERR"; fi
}

# --- 8. HEROKU_APP unset: byte-for-byte pass-through, no libcurl ---------------------------------
t_pass_through() {
    local conninfo maps_cmd='\! grep -c libcurl /proc/$PPID/maps || true'
    local with without
    for conninfo in "$(fallback_conninfo)" "postgres://app_user:$CURRENT_PW@127.0.0.1:$HPQ_PG_PORT/app_db?sslmode=require"; do
        without=$(psql -X -At "$conninfo" -c "$WHOAMI" 2>&1; echo "rc=$?")
        with=$(LD_PRELOAD="$SHIM" psql -X -At "$conninfo" -c "$WHOAMI" 2>&1; echo "rc=$?")
        if [ "$with" = "$without" ]; then pass "HEROKU_APP unset: same output and status as without the shim ($(tail -c 5 <<<"$with"))"
        else fail "pass-through" "with:    $with" "without: $without"; fi
    done
    local unset_maps set_maps
    unset_maps=$(LD_PRELOAD="$SHIM" psql -X -At "$conninfo" -c "$maps_cmd" 2>&1)
    set_maps=$(shim psql -X -At "$conninfo" -c "$maps_cmd" 2>>"$LOGS")
    if [ "$unset_maps" = 0 ] && [ "$set_maps" != 0 ]; then pass "HEROKU_APP unset: libcurl is never loaded (it is when HEROKU_APP is set)"
    else fail "no libcurl without HEROKU_APP" "unset: $unset_maps set: $set_maps"; fi
}

# --- the token from netrc, Basic auth, as the Heroku CLI stores it -------------------------------
t_netrc() {
    printf 'machine 127.0.0.1\n  login tests@example.com\n  password %s\n' "$HPQ_TOKEN" >"$WORK/netrc"
    api_reset
    run shim HEROKU_API_KEY= NETRC="$WORK/netrc" "${PSQL[@]}" -c "$WHOAMI"
    local auth
    auth=$(api GET /requests | python3 -c 'import json,sys; print(",".join(r["auth"] for r in json.load(sys.stdin)["requests"]))')
    if [ "$RC" = 0 ] && [ "$OUT" = "app_user|app_db|t" ] && [ "$auth" = basic ]; then pass "without HEROKU_API_KEY the token comes from the netrc entry for the API host"
    else fail "netrc token" "rc=$RC out=$OUT auth=$auth" "$ERR"; fi
}

# --- what the API saw ---------------------------------------------------------------------------
t_request_shape() {
    api_reset
    run shim "$CONNECT"
    local shape
    shape=$(api GET /requests | python3 -c '
import json, sys
r = json.load(sys.stdin)["requests"][0]
print(r["method"], r["path"], r["auth"], r["accept"], r["user_agent"].split("/")[0], r["status"])')
    if [ "$shape" = "GET /apps/$HPQ_APP/config-vars bearer application/vnd.heroku+json; version=3 herokupq 200" ]; then pass "the API request is Heroku's: GET config-vars, Bearer token, v3 Accept, herokupq User-Agent"
    else fail "API request shape" "$shape"; fi
}

# --- threads while the credentials rotate ---------------------------------------------------------
# The program warms its cache with one connection, the credentials rotate,
# then 64 threads connect at once with the cached (now stale) URL.
threads_during_rotation() { # order delay_ms max_requests
    local go=$WORK/go.$1
    rm -f "$go"
    shim HEROKUPQ_LOG=warn "$CONNECT" -t 64 -w "$go" >"$WORK/threads.out" 2>"$WORK/threads.err" &
    local pid=$!
    for _ in $(seq 1 100); do grep -q '^warm' "$WORK/threads.out" && break; sleep 0.1; done
    api_reset
    rotate "$1" "$2" >/dev/null
    # The password has changed before the threads start: they must retry.
    if [ "$2" = 0 ]; then wait_rotation; else wait_first_half "$1"; fi
    touch "$go"
    wait "$pid"
    RC=$?
    wait_rotation
    cat "$WORK/threads.err" >>"$LOGS"
    local ok n
    ok=$(grep -c '^ok user=app_user db=app_db ssl=t$' "$WORK/threads.out")
    n=$(api_count)
    if [ "$RC" = 0 ] && [ "$ok" = 64 ] && [ "$n" -le "$3" ] && [ ! -s "$WORK/threads.err" ]; then
        pass "64 threads during a rotation ($1, config var ${2} ms late): all connect, $n API requests (at most $3)"
    else fail "64 threads during a rotation ($1, $2 ms)" "rc=$RC ok=$ok api_requests=$n (max $3)" "$(head -3 "$WORK/threads.out" "$WORK/threads.err")"; fi
}

t_threads_during_rotation() {
    threads_during_rotation together 0 2
    # One caller's schedule while the var is 2 s late: a fetch right away,
    # then at +0.25, +0.75, +1.75 and +2.75 s: 5 requests, however many threads.
    threads_during_rotation db-first 2000 5
}

# --- asynchronous connections (PQconnectStart + PQconnectPoll) -------------------------------------
t_async() {
    local stale="postgres://app_user:stale@127.0.0.1:$HPQ_PG_PORT/app_db?sslmode=disable"
    run shim "$CONNECT" -e start "$stale"
    if [ "$RC" = 0 ] && [ "$OUT" = "ok user=app_user db=app_db ssl=t" ]; then pass "PQconnectStart + PQconnectPoll is rewritten (HEROKUPQ_ASYNC=complete)"
    else fail "async complete" "rc=$RC out=$OUT" "$ERR"; fi
    rotate together 0 >/dev/null
    wait_rotation
    # The second round uses the URL cached by the first: after the rotation
    # it is stale, so in start mode that attempt fails and the third succeeds.
    rm -f "$WORK/go.async"
    ( sleep 1; rotate together 0 >/dev/null; touch "$WORK/go.async" ) &
    run shim HEROKUPQ_ASYNC=start "$CONNECT" -e start -w "$WORK/go.async" -r 2 "$stale"
    wait
    if [ "$(sed -n 2p <<<"$OUT" | cut -c1-5)" = "error" ] && grep -q 28P01 <<<"$OUT" &&
        [ "$(sed -n 3p <<<"$OUT")" = "ok user=app_user db=app_db ssl=t" ]; then
        pass "HEROKUPQ_ASYNC=start: a stale attempt fails as libpq reports it, and drops the cache so the next one succeeds"
    else fail "async start" "rc=$RC out=$OUT" "$ERR"; fi
    rotate together 0 >/dev/null
    wait_rotation
    rm -f "$WORK/go.async"
    ( sleep 1; rotate together 0 >/dev/null; wait_rotation; touch "$WORK/go.async" ) &
    run shim HEROKUPQ_LOG=warn "$CONNECT" -e start -w "$WORK/go.async" "$stale"
    wait
    if [ "$RC" = 0 ] && [ "$(sed -n 2p <<<"$OUT")" = "ok user=app_user db=app_db ssl=t" ] && [ -z "$ERR" ]; then
        pass "HEROKUPQ_ASYNC=complete: PQconnectStart with a stale cached URL retries before returning; the program sees no error"
    else fail "async complete after rotation" "rc=$RC out=$OUT" "$ERR"; fi
    CURRENT_PW=$(api GET /rotate/status | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
    ROTATED_PWS+=("$CURRENT_PW")
}

# --- PQreset cannot repair a rotated connection, but it makes the next one quick -------------------
t_reset() {
    rm -f "$WORK/go.reset"
    ( sleep 1; rotate together 0 >/dev/null; wait_rotation; touch "$WORK/go.reset" ) &
    run shim HEROKUPQ_LOG=info "$ROOT/build/progs/reset_client" "$WORK/go.reset"
    wait
    if [ "$RC" = 0 ] && [ "$(sed -n 1p <<<"$OUT")" = "first ok" ] &&
        sed -n 2p <<<"$OUT" | grep -q '^reset error .*28P01' &&
        [ "$(sed -n 3p <<<"$OUT")" = "new ok" ] &&
        grep -q 'herokupq: info: a connection failed, the credentials or database are gone' <<<"$ERR" &&
        ! grep -q 'attempt 1 failed' <<<"$ERR"; then
        pass "PQreset after a rotation fails as libpq reports it; the next new connection gets the new URL at once"
    else fail "PQreset after a rotation" "rc=$RC out=$OUT" "$ERR"; fi
    CURRENT_PW=$(api GET /rotate/status | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
    ROTATED_PWS+=("$CURRENT_PW")
}

# --- fork, constructors, the loader ----------------------------------------------------------------
t_fork() {
    api POST /fault '{"delay_ms": 2000, "count": 1}' >/dev/null
    run timeout 60 env LD_PRELOAD="$SHIM" HEROKU_APP="$HPQ_APP" HEROKU_API_KEY="$HPQ_TOKEN" \
        HEROKU_HOST="$HPQ_API_URL" HEROKUPQ_CAFILE="$HPQ_CAFILE" "$ROOT/build/progs/fork_client" ""
    api POST /fault/clear >/dev/null
    if [ "$RC" = 0 ] && [ "$OUT" = $'child ok\nthread ok' ]; then pass "a fork while another thread is inside the shim: the child connects and exits normally"
    else fail "fork inside the shim" "rc=$RC out=$OUT" "$ERR"; fi
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
    if [ "$names" = "$expected" ] && ! grep -q libpq <<<"$deps"; then pass "exports only the interposed names; no libpq (nor libcurl) dependency: $deps"
    else fail "exports" "names: $names" "deps: $deps"; fi
    run env LD_PRELOAD="$SHIM" "$ROOT/build/progs/rtld_next"
    if [ "$(basename "$OUT")" = libherokupq.so ]; then pass "dlsym(RTLD_NEXT) still answers relative to its caller"
    else fail "dlsym(RTLD_NEXT)" "got $OUT"; fi
}

# --- 6. no secret in any log line ----------------------------------------------------------------
t_no_secrets() {
    local secret leaks=""
    for secret in "$HPQ_TOKEN" "$HPQ_FORBIDDEN_TOKEN" "$HPQ_DB_PASSWORD" "${ROTATED_PWS[@]}"; do
        grep -qF -- "$secret" "$LOGS" && leaks+=" ${secret:0:4}…"
    done
    local lines
    lines=$(grep -c '^herokupq: ' "$LOGS")
    if [ -z "$leaks" ] && [ "$lines" -gt 20 ]; then pass "no token or password in any of the $lines log lines (debug level)"
    else fail "secrets in logs" "leaked:$leaks lines=$lines"; fi
}

main() {
    [ -x "$SHIM" ] && [ -x "$CONNECT" ] || { echo "run: make first" >&2; exit 2; }
    run_unit
    "$ROOT/scripts/testenv.sh" up "$ENVDIR" || { fail "test environment" "scripts/testenv.sh up failed"; exit 1; }
    # shellcheck disable=SC1091
    source "$ENVDIR/env"
    CURRENT_PW=$HPQ_DB_PASSWORD
    ROTATED_URLS=()
    t_psql_no_args
    t_stale_database_url
    t_entry_points
    t_request_shape
    t_single_flight
    t_rotation db-first
    t_rotation var-first
    t_rotation_in_running_program
    CURRENT_PW=$(api GET /rotate/status | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
    ROTATED_PWS=("$CURRENT_PW")
    local u
    for u in "${ROTATED_URLS[@]}"; do ROTATED_PWS+=("$(sed 's|.*://[^:]*:\([^@]*\)@.*|\1|' <<<"$u")"); done
    t_threads_during_rotation
    t_async
    t_reset
    t_fork
    t_constructor
    t_exports
    t_last_good_url
    t_api_failures
    t_target
    t_pass_through
    t_netrc
    matrix_run
    update_readme_matrix
    t_no_secrets
    echo
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" = 0 ]
}

main "$@"
