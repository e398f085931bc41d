# shellcheck shell=bash
# The cache shared between processes (HEROKUPQ_CACHE_DIR): one API request
# for a host's processes, no libcurl within the TTL, unsafe directories and
# files refused, a killed lock holder, 429 and stale-if-error, rotation with
# one failed login per process, 304. Each test makes its own directory.

# The record file of the only entry in DIR (not its .lock).
cache_record() { find "$1" -maxdepth 1 -type f ! -name '*.lock' ! -name '.*' | head -1; }

# The number of log lines of $ERR that say the cache refused something.
cache_refusals() { grep -c '^herokupq: warn: cache ' <<<"$ERR"; }

# --- 1. two processes on a cold cache: one request; a third within the TTL: none, no libcurl ----
t_cache_processes_share_one_request() {
    local dir out1 out2 rc1 rc2
    dir=$(fresh_cache_dir)
    api_reset
    # The first request takes 0.5 s: the second process starts while it is in flight.
    api POST /fault '{"delay_ms": 500, "count": 1}' >/dev/null
    shim HEROKUPQ_CACHE_DIR="$dir" "$CONNECT" >"$WORK/p1.out" 2>"$WORK/p1.err" &
    local p1=$!
    shim HEROKUPQ_CACHE_DIR="$dir" "$CONNECT" >"$WORK/p2.out" 2>"$WORK/p2.err" &
    local p2=$!
    wait "$p1"; rc1=$?
    wait "$p2"; rc2=$?
    cat "$WORK/p1.err" "$WORK/p2.err" >>"$WORK/all-logs"
    cat "$WORK/p1.out" "$WORK/p2.out" >>"$WORK/all-out"
    api POST /fault/clear >/dev/null
    out1=$(cat "$WORK/p1.out"); out2=$(cat "$WORK/p2.out")
    local n
    n=$(api_count)
    local record; record=$(cache_record "$dir")
    if [ "$rc1" = 0 ] && [ "$rc2" = 0 ] && [ "$out1" = "$OK_LINE" ] && [ "$out2" = "$OK_LINE" ] && [ "$n" = 1 ] &&
        [ "$(basename "$record")" = "$(cache_entry_name)" ]; then
        pass "two processes started together on a cold shared cache: both connect, 1 API request; the record is named by the SHA-256 of API, app, var and token (as sha256sum computes it)"
    else fail "two processes, one request" "rc=$rc1/$rc2 out=$out1 / $out2 api_requests=$n record=$record" "$(cat "$WORK/p1.err" "$WORK/p2.err" | tail -5)"; fi
    # psql's shell escape runs in a child of psql: its parent's maps are psql's.
    run shim HEROKUPQ_CACHE_DIR="$dir" "${PSQL[@]}" -c "$WHOAMI" -c '\! grep -c libcurl /proc/$PPID/maps || true'
    n=$(api_count)
    if [ "$RC" = 0 ] && [ "$OUT" = $'app_user|app_db|t\n0' ] && [ "$n" = 1 ]; then
        pass "a third process within the TTL: 0 API requests, and libcurl is not mapped in it"
    else fail "third process from the shared cache" "rc=$RC out=$OUT api_requests=$n" "$ERR"; fi
}

# --- 2. a directory or file that is not the user's own and private: refused, not followed --------
# Each case: one log line naming the refusal, the connection still made
# (in-process cache), nothing written through a link.
cache_refusal_case() { # name pattern dir
    local name=$1 pattern=$2 dir=$3
    api_reset
    run shim HEROKUPQ_CACHE_DIR="$dir" timeout 30 "$CONNECT"
    local n refusals
    n=$(api_count)
    refusals=$(cache_refusals)
    if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && [ "$refusals" = 1 ] && grep -q "^herokupq: warn: cache .*$pattern" <<<"$ERR" && [ "$n" = 1 ]; then
        pass "cache $name: refused with one log line, the shim still connects (1 API request)"
    else fail "cache $name" "rc=$RC out=$OUT refusals=$refusals api_requests=$n" "$(grep '^herokupq: warn' <<<"$ERR")"; fi
}

# A record that, if it were trusted, would send the connection elsewhere.
poisoned_record() {
    printf 'herokupq-cache 1\nfetched %s000\nnext 0\nstep 0\nstale 0\nconfirmed 1\nurl postgres://app_user:poison@127.0.0.1:1/nowhere\n' "$(date +%s)" >"$1"
}

t_cache_refuses_what_is_not_private() {
    local base=$WORK/refusals d
    mkdir -p "$base" && chmod 700 "$base"
    d=$base/wide; mkdir -m 755 "$d"
    cache_refusal_case "directory open to others (0755)" "open to other users" "$d"
    d=$base/theirs; mkdir -m 700 "$d"; chown nobody "$d"
    cache_refusal_case "directory owned by another user" "owned by another user" "$d"
    # A link to a directory holding a poisoned record: not followed, nothing written there.
    mkdir -m 700 "$base/target"
    ln -s "$base/target" "$base/link"
    cache_refusal_case "directory that is a symbolic link" "symbolic link" "$base/link"
    if [ -z "$(ls -A "$base/target")" ]; then pass "cache directory link: nothing was written through it"
    else fail "cache directory link: written through" "$(ls -A "$base/target")"; fi
    # The entry's record file, poisoned, in a good directory: as a link, a FIFO,
    # with a wide mode, with another owner.
    local record
    d=$base/files; run shim HEROKUPQ_CACHE_DIR="$d" "$CONNECT"
    record=$(cache_record "$d")
    if [ -z "$record" ]; then fail "cache files: no record was written" "$(ls -la "$d")"; return; fi
    rm -f "$record"; poisoned_record "$base/poison"; chmod 600 "$base/poison"; ln -s "$base/poison" "$record"
    cache_refusal_case "record that is a symbolic link" "symbolic link" "$d"
    if grep -q 'poison@' "$base/poison" && [ -L "$record" ]; then pass "cache record link: not followed, its target untouched"
    else fail "cache record link: followed"; fi
    rm -f "$record"; mkfifo -m 600 "$record"
    cache_refusal_case "record that is a FIFO" "not a regular file" "$d"
    rm -f "$record"; poisoned_record "$record"; chmod 644 "$record"
    cache_refusal_case "record open to others (0644)" "open to other users" "$d"
    chmod 600 "$record"; chown nobody "$record"
    cache_refusal_case "record owned by another user" "owned by another user" "$d"
}

# --- 3. a process killed while holding the lock does not block the next one ------------------------
t_cache_killed_lock_holder() {
    local dir
    dir=$(fresh_cache_dir)
    api_reset
    api POST /fault '{"hang": true, "count": 1}' >/dev/null
    rm -f "$WORK/holder.pid"
    # The program itself (not a shell around it) must be the one killed.
    shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_API_TIMEOUT_MS=60000 \
        bash -c 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && exec "$2"' _ "$WORK/holder.pid" "$CONNECT" \
        >/dev/null 2>>"$WORK/all-logs" &
    local shell=$! _
    for _ in $(seq 1 100); do [ -s "$WORK/holder.pid" ] && [ "$(api_count)" = 1 ] && break; sleep 0.1; done
    local held
    held=$(api_count) # its request is in flight: it holds the lock
    kill -9 "$(cat "$WORK/holder.pid")"; wait "$shell" 2>/dev/null
    api POST /fault/clear >/dev/null
    # Were the lock not released, this would wait for its whole retry budget (60 s).
    run shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_RETRY_MS=60000 timeout 20 "$CONNECT"
    local n
    n=$(api_count)
    if [ "$held" = 1 ] && [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && [ "$n" = 2 ]; then
        pass "a process killed (SIGKILL) while holding the cache lock: the next process resolves at once"
    else fail "killed lock holder" "held=$held rc=$RC out=$OUT api_requests=$n" "$ERR"; fi
}

# --- 4. 429: the cached URL is served, no request before the back-off, said once --------------------
t_cache_rate_limited() {
    local dir
    dir=$(fresh_cache_dir)
    api_reset
    run shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_TTL=1 "$CONNECT"
    sleep 1.2 # the entry has expired
    # The budget is spent and refills at 6 a minute: Retry-After: 10.
    api POST /rate-limit '{"remaining": 0, "refill_per_min": 6}' >/dev/null
    run shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_TTL=1 HEROKUPQ_LOG=info "$CONNECT" -r 5
    local ok said n
    ok=$(grep -c "^$OK_LINE\$" <<<"$OUT")
    said=$(grep -c 'rate limit is used up (429): using the cached database URL' <<<"$ERR")
    local lines=$ERR
    run shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_TTL=1 HEROKUPQ_LOG=info "$CONNECT"
    n=$(api_count)
    local status
    status=$(api GET /requests | python3 -c 'import json,sys; print(",".join(str(r["status"]) for r in json.load(sys.stdin)["requests"]))')
    api_reset
    if [ "$ok" = 5 ] && [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && [ "$said" = 1 ] && [ "$n" = 2 ] && [ "$status" = 200,429 ]; then
        pass "429 from the API: 6 connections in 2 processes on the cached URL, no request before Retry-After, said once"
    else fail "429" "ok=$ok said=$said api=$status" "$lines" "$ERR"; fi
}

# --- 5. stale-if-error: the API fails after the TTL; connections still succeed --------------------
t_cache_stale_if_error() {
    local dir
    dir=$(fresh_cache_dir)
    api_reset
    run shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_TTL=1 "$CONNECT"
    sleep 1.2
    api POST /fault '{"status": 503, "count": -1}' >/dev/null
    run shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_TTL=1 HEROKUPQ_LOG=warn "$CONNECT"
    local first=$OUT warned
    warned=$(grep -c 'using the last good database URL until the API answers' <<<"$ERR")
    run shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_TTL=1 HEROKUPQ_LOG=warn "$CONNECT"
    api POST /fault/clear >/dev/null
    local n
    n=$(api_count)
    # The second process makes a request only if it started after the first's
    # back-off (1 s) had passed (the shared back-off itself: test_cache, and the 429 test).
    if [ "$first" = "$OK_LINE" ] && [ "$OUT" = "$OK_LINE" ] && [ "$warned" = 1 ] && [ "$n" -le 3 ]; then
        pass "stale-if-error: the API failing after the TTL, two processes connect on the cached URL ($n API requests)"
    else fail "stale-if-error" "first=$first out=$OUT warned=$warned api_requests=$n" "$ERR"; fi
}

# --- 6. rotation, config var 2 s late, 8 processes in a loop -----------------------------------------
# Failed authentications in the server's log (log_connections=on) since line $1.
server_failed_logins() {
    tail -n +"$1" "$HPQ_TEST_DIR/postgresql.log" | grep -c 'FATAL: .*password authentication failed'
}

# Failed attempts a process's shim reported (at debug level, every attempt is logged).
shim_failed_logins() { grep -c 'attempt [0-9]* failed, the credentials or database are gone' "$1"; }

t_cache_rotation_fleet() {
    local dir stop=$WORK/stop.fleet i
    dir=$(fresh_cache_dir)
    rm -f "$stop"
    api_reset
    local from
    from=$(($(wc -l <"$HPQ_TEST_DIR/postgresql.log") + 1))
    # 8 processes, started together on a cold cache, each connecting every
    # 50 ms until told to stop.
    for i in 1 2 3 4 5 6 7 8; do
        shim HEROKUPQ_CACHE_DIR="$dir" timeout 120 "$CONNECT" -u "$stop" \
            >"$WORK/fleet.$i.out" 2>"$WORK/fleet.$i.err" &
    done
    for i in 1 2 3 4 5 6 7 8; do wait_for_line '^ok ' "$WORK/fleet.$i.out" 300; done
    local warm_requests before=()
    warm_requests=$(api_count)
    for i in 1 2 3 4 5 6 7 8; do before+=("$(grep -c '^ok ' "$WORK/fleet.$i.out")"); done
    rotate db-first 2000 >/dev/null
    wait_rotation
    sleep 1 # every process connects again after the change
    touch "$stop"
    wait
    local ok=0 bad=0 errs=0 n worst=0 per=() shim_total=0 server after=0 f
    for i in 1 2 3 4 5 6 7 8; do
        ok=$((ok + $(grep -c '^ok user=app_user db=app_db ssl=t$' "$WORK/fleet.$i.out")))
        bad=$((bad + $(grep -vc '^ok user=app_user db=app_db ssl=t$' "$WORK/fleet.$i.out")))
        [ $(($(grep -c '^ok ' "$WORK/fleet.$i.out") - before[i - 1])) -gt 1 ] && after=$((after + 1))
        grep -q '^herokupq: \(warn\|error\):' "$WORK/fleet.$i.err" && errs=$((errs + 1))
        f=$(shim_failed_logins "$WORK/fleet.$i.err")
        per+=("$f"); shim_total=$((shim_total + f)); [ "$f" -gt "$worst" ] && worst=$f
        cat "$WORK/fleet.$i.err" >>"$WORK/all-logs"
        cat "$WORK/fleet.$i.out" >>"$WORK/all-out"
    done
    n=$(($(api_count) - warm_requests))
    server=$(server_failed_logins "$from")
    # Each process connected on both sides of the rotation; the server's count
    # of failed logins is the processes' own, at most one each.
    if [ "$bad" = 0 ] && [ "$errs" = 0 ] && [ "$after" = 8 ] && [ "$warm_requests" = 1 ] &&
        [ "$worst" -le 1 ] && [ "$server" = "$shim_total" ] && [ "$server" -le 8 ] && [ "$n" -le 12 ]; then
        pass "rotation (var 2 s late), 8 processes connecting in a loop: all $ok connections succeed, $server failed logins in the server's log (at most 1 per process: ${per[*]}), $n API requests for the rotation"
    else fail "rotation with 8 processes" "ok=$ok bad=$bad warn-or-error=$errs after=$after warm_requests=$warm_requests api_requests=$n failed logins: server $server, per process ${per[*]}" "$(grep -hv '^ok ' "$WORK"/fleet.*.out | head -3)" "$(grep -h '^herokupq: \(warn\|error\)' "$WORK"/fleet.*.err | head -3)"; fi
}

# --- 7. a 304 renews the entry without changing it -----------------------------------------------------
t_cache_not_modified_renews() {
    local dir record
    dir=$(fresh_cache_dir)
    api_reset
    run shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_TTL=2 "$CONNECT"
    record=$(cache_record "$dir")
    local url1 etag1 fetched1
    url1=$(sed -n 's/^url //p' "$record" | sha256sum)
    etag1=$(sed -n 's/^etag //p' "$record")
    fetched1=$(sed -n 's/^fetched //p' "$record")
    sleep 2.2 # expired
    run shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_TTL=2 "$CONNECT"
    local second=$OUT
    local url2 etag2 fetched2
    url2=$(sed -n 's/^url //p' "$record" | sha256sum)
    etag2=$(sed -n 's/^etag //p' "$record")
    fetched2=$(sed -n 's/^fetched //p' "$record")
    run shim HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_TTL=2 "$CONNECT" # within the renewed TTL
    local n not_modified sent
    n=$(api_count)
    not_modified=$(api GET /not-modified | json_field count)
    sent=$(api GET /requests | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"][1]["if_none_match"])')
    if [ "$second" = "$OK_LINE" ] && [ "$OUT" = "$OK_LINE" ] && [ -n "$etag1" ] && [ "$sent" = "$etag1" ] &&
        [ "$n" = 2 ] && [ "$not_modified" = 1 ] && [ "$url1" = "$url2" ] && [ "$etag1" = "$etag2" ] &&
        [ "$fetched2" -gt "$fetched1" ]; then
        pass "a 304 (If-None-Match with the cached ETag) renews the entry's age without changing its URL or ETag"
    else fail "304 renews" "n=$n not_modified=$not_modified sent=$sent etag=$etag1/$etag2 fetched=$fetched1/$fetched2 same_url=$([ "$url1" = "$url2" ] && echo y)" "$ERR"; fi
}

tests t_cache_processes_share_one_request t_cache_refuses_what_is_not_private \
    t_cache_killed_lock_holder t_cache_rate_limited t_cache_stale_if_error t_cache_rotation_fleet \
    t_cache_not_modified_renews
