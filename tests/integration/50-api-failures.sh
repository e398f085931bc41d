# shellcheck shell=bash
# The API failing: a clear line, the fallback, no crash; strict mode fails clearly.

# A process that resolved the URL once keeps working when the API fails later.
t_last_good_url() {
    rm -f "$WORK/go.lastgood"
    # The API fails only once the program's first connection has resolved the URL.
    # The program's own parameters name a server and database that do not exist
    # (a copy of an old URL), so only the last good URL can connect.
    : >"$WORK/out" # the previous run's output must not count
    ( wait_for_line '^warm' "$WORK/out" 200; api POST /fault '{"status": 503, "count": -1}' >/dev/null
      touch "$WORK/go.lastgood" ) &
    run shim HEROKUPQ_TTL=0 HEROKUPQ_LOG=warn "$CONNECT" -w "$WORK/go.lastgood" -t 4 \
        "$(fallback_conninfo | sed "s|:$HPQ_PG_PORT/app_db|:1/no_such_db|")"
    wait
    api POST /fault/clear >/dev/null
    local ok warned
    ok=$(grep -c '^ok user=app_user db=app_db ssl=t$' <<<"$OUT")
    warned=$(grep -c 'herokupq: warn: using the last good database URL' <<<"$ERR")
    if [ "$RC" = 0 ] && [ "$ok" = 4 ] && [ "$warned" = 1 ] && grep -q '^herokupq: error: .*503' <<<"$ERR"; then
        pass "the API failing after a first answer: the last good URL is used, one error and one warning line"
    else fail "last good URL" "rc=$RC ok=$ok warned=$warned out=$OUT" "$ERR"; fi
}

api_failure_case() { # name expected-log-pattern setup-env...
    local name=$1 pattern=$2
    shift 2
    run shim HEROKUPQ_API_TIMEOUT_MS=1500 "$@" "$CONNECT" "$(fallback_conninfo)"
    if [ "$RC" = 0 ] && [ "$OUT" = "ok user=app_user db=app_db ssl=t" ] &&
        grep -q "^herokupq: error: .*$pattern" <<<"$ERR"; then
        pass "API $name: one clear log line, falls back to the program's own parameters over SSL"
    else fail "API $name: fallback" "rc=$RC out=$OUT" "$ERR"; fi
    run shim HEROKUPQ_API_TIMEOUT_MS=1500 HEROKUPQ_STRICT=1 "$@" "$CONNECT" "$(fallback_conninfo)"
    if [ "$RC" = 1 ] && grep -q "^error herokupq: .*$pattern" <<<"$OUT"; then
        pass "API $name with HEROKUPQ_STRICT=1: the connection fails and says why"
    else fail "API $name: strict" "rc=$RC out=$OUT" "$ERR"; fi
    api POST /fault/clear >/dev/null
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

# What a person running psql sees when the URL cannot be resolved: with HEROKUPQ_STRICT=1,
# herokupq's own message as psql's error (no libpq words around it), for the blocking and the
# asynchronous start; without it, one warning saying that it fell back and where the
# connection goes (host, port, database; never the password), then the connection.
t_resolution_failure_messages() {
    local pw line
    pw=$(current_password)
    run shim HEROKUPQ_STRICT=1 HEROKU_API_KEY=HRKU-not-a-token "${PSQL[@]}" -c 'select 1'
    line=$(grep '^psql:' <<<"$ERR")
    if [ "$RC" = 2 ] && [[ $line == "psql: error: herokupq: Heroku API answered 401 unauthorized: "* ]] &&
        [ "$(grep -c . <<<"$line")" = 1 ] && ! grep -q 'invalid connection option' <<<"$ERR"; then
        pass "strict, bad token: psql says '$(cut -c1-70 <<<"$line")...', herokupq's own message"
    else fail "strict: psql shows herokupq's message" "rc=$RC" "$ERR"; fi
    run shim HEROKUPQ_STRICT=1 HEROKUPQ_ASYNC=start HEROKU_API_KEY=HRKU-not-a-token "$CONNECT" -e start "$(fallback_conninfo)"
    if [ "$RC" = 1 ] && [[ $OUT == "error herokupq: Heroku API answered 401 unauthorized: "* ]]; then
        pass "strict, bad token, PQconnectStart (HEROKUPQ_ASYNC=start): PQerrorMessage is herokupq's own message"
    else fail "strict, PQconnectStart: herokupq's message" "rc=$RC out=$OUT" "$ERR"; fi

    run shim HEROKUPQ_LOG=warn HEROKU_API_KEY=HRKU-not-a-token "$CONNECT" "$(fallback_conninfo)"
    local want="herokupq: warn: no URL from app $HPQ_APP, config var DATABASE_URL: falling back to the program's own parameters (sslmode at least require): host 127.0.0.1, port $HPQ_PG_PORT, database app_db"
    if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && [ "$(grep -c ': warn:' <<<"$ERR")" = 1 ] &&
        grep -qxF "$want" <<<"$ERR" && [[ $ERR != *"$pw"* ]]; then
        pass "fallback, bad token: one warning says it fell back and where the connection goes (host, port, database), no password"
    else fail "fallback: one warning, where it goes" "rc=$RC out=$OUT" "want: $want" "$ERR"; fi
    run shim HEROKUPQ_LOG=warn HEROKU_API_KEY=HRKU-not-a-token env -u PGHOST -u PGPORT -u PGDATABASE \
        "${PSQL[@]}" -c 'select 1'
    # Where psql says it went: 'connection to server on socket "DIR/.s.PGSQL.PORT" failed'.
    local dir port order
    dir=$(sed -n 's|^psql: error: connection to server on socket "\(.*\)/\.s\.PGSQL\.[0-9]*".*|\1|p' <<<"$ERR")
    port=$(sed -n 's|^psql: error: connection to server on socket ".*/\.s\.PGSQL\.\([0-9]*\)".*|\1|p' <<<"$ERR")
    order=$(grep -nE '^herokupq: warn: no URL|^psql: error: ' <<<"$ERR" | cut -d: -f2- | cut -c1-20 | tr '\n' '|')
    if [ "$RC" = 2 ] && [ -n "$dir" ] && [ "$(grep -c ': warn:' <<<"$ERR")" = 1 ] &&
        grep -qF "falling back to the program's own parameters (sslmode at least require): host $dir, port $port, database " <<<"$ERR" &&
        [ "$order" = "herokupq: warn: no U|psql: error: connect|" ]; then
        pass "fallback, bad token, psql naming no server: one warning, before psql's error, names where it went (host $dir, port $port)"
    else fail "fallback with no host: the warning names where psql went" "rc=$RC dir=$dir port=$port order=$order" "$ERR"; fi
}

tests t_last_good_url t_api_failures t_resolution_failure_messages
