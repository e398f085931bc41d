# shellcheck shell=bash
# Asynchronous connections (PQconnectStart + PQconnectPoll); resets are in 60-reset.sh.

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
    : >"$WORK/out" # the previous run's output must not count
    ( wait_for_line '^warm' "$WORK/out" 200; rotate together 0 >/dev/null; wait_rotation; touch "$WORK/go.async" ) &
    run shim HEROKUPQ_ASYNC=start "$CONNECT" -e start -w "$WORK/go.async" -r 2 "$stale"
    wait
    if [ "$(sed -n 2p <<<"$OUT" | cut -c1-5)" = "error" ] && grep -q 28P01 <<<"$OUT" &&
        [ "$(sed -n 3p <<<"$OUT")" = "ok user=app_user db=app_db ssl=t" ]; then
        pass "HEROKUPQ_ASYNC=start: a stale attempt fails as libpq reports it, and drops the cache so the next one succeeds"
    else fail "async start" "rc=$RC out=$OUT" "$ERR"; fi
    rotate together 0 >/dev/null
    wait_rotation
    rm -f "$WORK/go.async"
    : >"$WORK/out" # the previous run's output must not count
    ( wait_for_line '^warm' "$WORK/out" 200; rotate together 0 >/dev/null; wait_rotation; touch "$WORK/go.async" ) &
    run shim HEROKUPQ_LOG=warn "$CONNECT" -e start -w "$WORK/go.async" "$stale"
    wait
    if [ "$RC" = 0 ] && [ "$(sed -n 2p <<<"$OUT")" = "ok user=app_user db=app_db ssl=t" ] && [ -z "$ERR" ]; then
        pass "HEROKUPQ_ASYNC=complete: PQconnectStart with a stale cached URL retries before returning; the program sees no error"
    else fail "async complete after rotation" "rc=$RC out=$OUT" "$ERR"; fi
}

tests t_async
