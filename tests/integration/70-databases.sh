# shellcheck shell=bash
# Which database a connection reaches: the servers the shim resolved are
# targets too (reconnecting from PQconninfo), and a database the program
# names explicitly is the one it gets, with a warning.

RECONNECT=$ROOT/build/progs/conninfo_reconnect

# HEROKUPQ_TARGET=heroku: connect to the placeholder, the credentials rotate,
# then reconnect with what PQconninfo reports (the real host, no password).
t_reconnect_from_conninfo() {
    rm -f "$WORK/go.reconnect"
    : >"$WORK/out"
    ( wait_for_line '^first' "$WORK/out" 200; rotate together 0 >/dev/null; wait_rotation
      touch "$WORK/go.reconnect" ) &
    run shim HEROKUPQ_TARGET=heroku HEROKUPQ_LOG=warn "$RECONNECT" -w "$WORK/go.reconnect" "postgres://heroku/"
    wait
    local want
    want=$(printf '%s\n' "first ok app_user app_db true" \
        "again host=127.0.0.1 port=$HPQ_PG_PORT ok app_user app_db true")
    if [ "$RC" = 0 ] && [ "$OUT" = "$want" ] && [ -z "$ERR" ]; then
        pass "HEROKUPQ_TARGET=heroku: reconnecting with PQconninfo of a rewritten connection (its real host, no password) after a rotation connects over SSL with the current credentials"
    else fail "reconnect from PQconninfo" "rc=$RC out=$OUT" "$ERR"; fi
}

t_explicit_database() {
    run shim HEROKUPQ_LOG=warn "$CONNECT" -t 2 "dbname=postgres"
    local warned
    warned=$(grep -c '^herokupq: warn: the program names database "postgres", config var DATABASE_URL names "app_db"' <<<"$ERR")
    if [ "$RC" = 0 ] && [ "$OUT" = $'ok user=app_user db=postgres ssl=t\nok user=app_user db=postgres ssl=t' ] &&
        [ "$warned" = 1 ] && [ "$(wc -l <<<"$ERR")" = 1 ]; then
        pass "a connection naming another database explicitly reaches that database on the app's server, over SSL; one warning line per process names both"
    else fail "explicit other database" "rc=$RC warned=$warned out=$OUT" "$ERR"; fi
    # A copy of an older URL (another server) names a database as stale as its password.
    run shim HEROKUPQ_LOG=warn "$CONNECT" "postgres://app_user:stale@127.0.0.1:1/d8old?sslmode=disable"
    if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && [ -z "$ERR" ]; then
        pass "a copy of another server's URL still gets the app's database, without a warning"
    else fail "stale copy of another URL" "rc=$RC out=$OUT" "$ERR"; fi
    # A named database that does not exist is the program's error, not a rotation to wait for.
    run shim HEROKUPQ_RETRY_MS=60000 "$CONNECT" "dbname=no_such_db"
    if [ "$RC" = 1 ] && grep -q '^error .*3D000' <<<"$OUT" && ! grep -q 'attempt 1 failed' <<<"$ERR"; then
        pass "a database the program names that does not exist fails at once (3D000), without waiting for a new URL"
    else fail "explicit missing database" "rc=$RC out=$OUT" "$ERR"; fi
}

tests t_reconnect_from_conninfo t_explicit_database
