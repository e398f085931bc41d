# shellcheck shell=bash
# PQreset and PQresetStart/PQresetPoll on a rewritten connection whose
# credentials rotated: repaired in place when only the password (or user)
# changed; otherwise they fail as libpq reports it and the next connection
# gets the new URL.

RESET_CLIENT=$PROGS/reset_client

current_url() { api GET /config-vars | json_field DATABASE_URL; }

# A rotation by hand: the role gets URL's password, then DATABASE_URL becomes URL.
set_credentials() {
    psql -X -q "$HPQ_PG_ADMIN" -v role="$HPQ_DB_USER" -v pw="$(url_password "$1")" \
        <<<"ALTER ROLE :\"role\" PASSWORD :'pw';" &&
        api POST /config-vars "{\"vars\": {\"DATABASE_URL\": \"$1\"}}" >/dev/null
}

# URL with another password (hex, LENGTH characters) and, optionally, host.
with_password() { # URL LENGTH [HOST]
    local pw
    pw=$(openssl rand -hex 32 | cut -c1-"$2")
    sed -E "s|://([^:]*):[^@]*@([^:/]*)|://\\1:$pw@${3:-\\2}|" <<<"$1"
}

# The rotation the must-show asks for: the password now, the config var 2 s
# later, every session ended once the password has changed.
rotate_and_terminate() {
    rotate db-first 2000 >/dev/null
    wait_first_half db-first
    terminate_sessions >/dev/null
}

reset_case() { # how (sync|async), reset_client options...
    local how=$1
    shift
    rm -f "$WORK/go.reset"
    : >"$WORK/out" # the previous run's output must not count
    ( wait_for_line '^first' "$WORK/out" 200; rotate_and_terminate; touch "$WORK/go.reset" ) &
    run shim HEROKUPQ_LOG=warn "$RESET_CLIENT" "$@" "$WORK/go.reset"
    wait
    wait_rotation
    local want
    want=$(printf '%s\n' "first ok" "reset ok" "after ok app_user app_db true" "new ok")
    if [ "$RC" = 0 ] && [ "$(sed 2d <<<"$OUT")" = "$want" ] &&
        sed -n 2p <<<"$OUT" | grep -q '^before error' && [ -z "$ERR" ]; then
        pass "$how reset after a rotation (config var 2 s late, sessions terminated): the same PGconn is CONNECTION_OK and runs a query; nothing on stderr"
    else fail "$how reset after a rotation" "rc=$RC out=$OUT" "$ERR"; fi
}

t_reset() { reset_case PQreset; }
t_reset_async() { reset_case "PQresetStart + PQresetPoll" -a; }

# A new URL the PGconn cannot take in place: the reset fails as libpq reports
# it, the next new connection gets the new URL at once; with the shim built
# with AddressSanitizer (build/asan/), preloaded after libasan so that libpq's
# buffers come from its malloc, with red zones: a write past one would show.
# (valgrind is too slow here: under load the shim's 5 s bound on connecting
# to the API expires inside it.)
ASAN_RT=$(gcc -print-file-name=libasan.so 2>/dev/null)
asan_shim() {
    shim LD_PRELOAD="$ASAN_RT $ROOT/build/asan/libherokupq.so" \
        ASAN_OPTIONS=detect_leaks=0:exitcode=99:abort_on_error=0 "$@"
}

reset_refused_case() { # what new-url
    rm -f "$WORK/go.reset"
    : >"$WORK/out"
    ( wait_for_line '^first' "$WORK/out" 600; set_credentials "$2"; terminate_sessions >/dev/null
      touch "$WORK/go.reset" ) &
    run asan_shim HEROKUPQ_LOG=info timeout 120 "$RESET_CLIENT" -x "$WORK/go.reset"
    wait
    if [ "$RC" = 0 ] && [ "$(sed -n 1p <<<"$OUT")" = "first ok" ] &&
        sed -n 3p <<<"$OUT" | grep -q '^reset error .*28P01' &&
        [ "$(sed -n 5p <<<"$OUT")" = "new ok" ] &&
        grep -q "^herokupq: warn: a reset connection cannot take the new credentials in place" <<<"$ERR" &&
        ! grep -q '^herokupq: info: attempt 1 failed' <<<"$ERR" && ! grep -q 'AddressSanitizer' <<<"$ERR"; then
        pass "a reset whose new URL has $1: fails as libpq reports it, the next connection succeeds at once; AddressSanitizer finds no error"
    else fail "reset with $1" "rc=$RC out=$OUT" "$ERR"; fi
}

t_reset_refused() {
    if [ ! -e "$ASAN_RT" ] || [ ! -x "$ROOT/build/asan/libherokupq.so" ]; then
        skip "a reset that cannot be repaired, with AddressSanitizer" "no libasan"
        return
    fi
    local url
    url=$(current_url)
    reset_refused_case "a longer password" "$(with_password "$url" 34)"
    reset_refused_case "another host" "$(with_password "$url" 24 localhost)"
    set_credentials "$(with_password "$url" 24 127.0.0.1)" # as the other tests expect it
}

tests t_reset t_reset_async t_reset_refused
