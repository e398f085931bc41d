# shellcheck shell=bash
# Which database a connection reaches: the servers the shim resolved are
# targets too (reconnecting from PQconninfo), and a database the program
# names explicitly is the one it gets, with a warning.

RECONNECT=$PROGS/conninfo_reconnect

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

# A second database with its own role and config var, as a follower or an
# add-on database is: HEROKU_POSTGRESQL_YELLOW_URL.
YELLOW=HEROKU_POSTGRESQL_YELLOW_URL
setup_second_database() {
    local pw
    pw=$(openssl rand -hex 12)
    psql -X -q "$HPQ_PG_ADMIN" -v pw="$pw" >/dev/null 2>&1 <<'SQL'
SELECT 'CREATE ROLE yellow_user LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'yellow_user') \gexec
ALTER ROLE yellow_user PASSWORD :'pw';
SELECT 'CREATE DATABASE yellow_db OWNER yellow_user' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'yellow_db') \gexec
SQL
    api POST /config-vars "{\"vars\": {\"$YELLOW\": \"postgres://yellow_user:$pw@127.0.0.1:$HPQ_PG_PORT/yellow_db\"}}" >/dev/null
}

t_two_databases() {
    setup_second_database
    rm -f "$WORK/go.two"
    : >"$WORK/out"
    ( wait_for_line '^b ' "$WORK/out" 300
      api POST /rotate "{\"order\": \"db-first\", \"delay_ms\": 2000, \"var\": \"$YELLOW\"}" >/dev/null
      wait_first_half db-first; touch "$WORK/go.two" ) &
    run shim HEROKUPQ_LOG=info HEROKUPQ_TARGET="heroku=DATABASE_URL,followers=$YELLOW" \
        "$PROGS/two_databases" "$WORK/go.two" "postgres://heroku/" "postgres://followers/"
    wait
    wait_rotation
    local want
    want=$(printf '%s\n' "a ok app_user app_db true" "b ok yellow_user yellow_db true" \
        "a-open ok app_user app_db true" "b-open ok yellow_user yellow_db true" \
        "a-new ok app_user app_db true" "b-new ok yellow_user yellow_db true")
    # The rotated var's connection retried (one line saying so); the other's did not.
    if [ "$RC" = 0 ] && [ "$OUT" = "$want" ] &&
        [ "$(grep -c 'the credentials changed (rotation).*database yellow_db' <<<"$ERR")" = 1 ] &&
        ! grep -q 'the credentials changed (rotation).*database app_db' <<<"$ERR"; then
        pass "two placeholders mapped to two config vars reach two databases in one process; rotating one (its var 2 s late) retries only its connections, the other's open and new connections are untouched"
    else fail "two databases in one process" "rc=$RC out=$OUT" "$ERR"; fi
}

tests t_two_databases
