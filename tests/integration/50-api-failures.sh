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
    if [ "$RC" = 1 ] && grep -q "^error .*herokupq: .*$pattern" <<<"$OUT"; then
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

tests t_last_good_url t_api_failures
