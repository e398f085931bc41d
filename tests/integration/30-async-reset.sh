# shellcheck shell=bash
# Asynchronous connections (PQconnectStart + PQconnectPoll) and PQreset.

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

# --- PQreset cannot repair a rotated connection, but it makes the next one quick -------------------
t_reset() {
    rm -f "$WORK/go.reset"
    : >"$WORK/out" # the previous run's output must not count
    ( wait_for_line '^first' "$WORK/out" 200; rotate together 0 >/dev/null; wait_rotation; touch "$WORK/go.reset" ) &
    run shim HEROKUPQ_LOG=info "$ROOT/build/progs/reset_client" "$WORK/go.reset"
    wait
    if [ "$RC" = 0 ] && [ "$(sed -n 1p <<<"$OUT")" = "first ok" ] &&
        sed -n 2p <<<"$OUT" | grep -q '^reset error .*28P01' &&
        [ "$(sed -n 3p <<<"$OUT")" = "new ok" ] &&
        grep -q 'herokupq: info: a connection failed, the credentials or database are gone' <<<"$ERR" &&
        ! grep -q 'attempt 1 failed' <<<"$ERR"; then
        pass "PQreset after a rotation fails as libpq reports it; the next new connection gets the new URL at once"
    else fail "PQreset after a rotation" "rc=$RC out=$OUT" "$ERR"; fi
}
tests t_async t_reset
