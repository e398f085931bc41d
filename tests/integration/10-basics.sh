# shellcheck shell=bash
# The basics: psql and each entry point reach the app's database over SSL; what the
# API sees; HEROKUPQ_TARGET; HEROKU_APP unset is a pass-through; the token from netrc.

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

# --- what the API saw ---------------------------------------------------------------------------
t_request_shape() {
    api_reset
    run shim "$CONNECT"
    local shape
    shape=$(api GET /requests | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["requests"][0]
print(r["method"], r["path"], r["auth"], r["accept"], r["user_agent"].split("/")[0], r["status"])')
    if [ "$shape" = "GET /apps/$HPQ_APP/config-vars bearer application/vnd.heroku+json; version=3 herokupq 200" ]; then pass "the API request is Heroku's: GET config-vars, Bearer token, v3 Accept, herokupq User-Agent"
    else fail "API request shape" "$shape"; fi
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
    for conninfo in "$(fallback_conninfo)" "postgres://app_user:$(current_password)@127.0.0.1:$HPQ_PG_PORT/app_db?sslmode=require"; do
        without=$(psql -X -At "$conninfo" -c "$WHOAMI" 2>&1; echo "rc=$?")
        with=$(LD_PRELOAD="$SHIM" psql -X -At "$conninfo" -c "$WHOAMI" 2>&1; echo "rc=$?")
        if [ "$with" = "$without" ]; then pass "HEROKU_APP unset: same output and status as without the shim ($(tail -c 5 <<<"$with"))"
        else fail "pass-through" "with:    $with" "without: $without"; fi
    done
    local unset_maps set_maps
    unset_maps=$(LD_PRELOAD="$SHIM" psql -X -At "$conninfo" -c "$maps_cmd" 2>&1)
    set_maps=$(shim psql -X -At "$conninfo" -c "$maps_cmd" 2>>"$WORK/all-logs")
    if [ "$unset_maps" = 0 ] && [ "$set_maps" != 0 ]; then pass "HEROKU_APP unset: libcurl is never loaded (it is when HEROKU_APP is set)"
    else fail "no libcurl without HEROKU_APP" "unset: $unset_maps set: $set_maps"; fi
}

# --- the token from netrc, Basic auth, as the Heroku CLI stores it -------------------------------
t_netrc() {
    printf 'machine 127.0.0.1\n  login tests@example.com\n  password %s\n' "$HPQ_TOKEN" >"$WORK/netrc"
    api_reset
    run shim HEROKU_API_KEY= NETRC="$WORK/netrc" "${PSQL[@]}" -c "$WHOAMI"
    local auth
    auth=$(api GET /requests | "$PY" -c 'import json,sys; print(",".join(r["auth"] for r in json.load(sys.stdin)["requests"]))')
    if [ "$RC" = 0 ] && [ "$OUT" = "app_user|app_db|t" ] && [ "$auth" = basic ]; then pass "without HEROKU_API_KEY the token comes from the netrc entry for the API host"
    else fail "netrc token" "rc=$RC out=$OUT auth=$auth" "$ERR"; fi
}

tests t_psql_no_args t_stale_database_url t_entry_points t_request_shape t_target t_pass_through t_netrc
