# shellcheck shell=bash
# herokupq proxy: a local PgBouncer on the app's current database, for any
# client. Each test starts its own proxy (its own directory, its own cache)
# and stops it; its log (at debug: PgBouncer's lines too) joins the suite's secret scan.

PROXY_CMD=$ROOT/build/herokupq
PROXY_PID=
PROXY_DIR=
PROXY_LOG=
PROXY_SERIAL=0

proxy_free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# proxy_start [NAME=VALUE...] [-- PROXY OPTIONS...]: a proxy in the background
# until its ready line (15 s at most); 1 if it did not get ready.
proxy_start() {
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    PROXY_SERIAL=$((PROXY_SERIAL + 1))
    PROXY_DIR=$WORK/proxy.$PROXY_SERIAL
    PROXY_LOG=$WORK/proxy.$PROXY_SERIAL.log
    env HEROKU_APP="$HPQ_APP" HEROKU_API_KEY="$HPQ_TOKEN" HEROKU_HOST="$HPQ_API_URL" \
        HEROKUPQ_CAFILE="$HPQ_CAFILE" HEROKUPQ_CACHE_DIR="$(fresh_cache_dir)" HEROKUPQ_LOG=debug "${envs[@]}" \
        "$PROXY_CMD" proxy --dir "$PROXY_DIR" "$@" 2>"$PROXY_LOG" &
    PROXY_PID=$!
    wait_for_line '^herokupq: info: proxy ready: ' "$PROXY_LOG" 150
}

# Stop the proxy (SIGTERM); its exit status in PROXY_RC.
proxy_stop() {
    [ -n "$PROXY_PID" ] || return 0
    kill -TERM "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID"
    PROXY_RC=$?
    PROXY_PID=
    cat "$PROXY_LOG" >>"$WORK/all-logs"
}

# psql through the proxy's socket: proxy_psql USER SQL
proxy_psql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "host=$PROXY_DIR port=6432 dbname=anything user=$1 connect_timeout=10" -c "$2"; }

t_proxy_psql() {
    if ! proxy_start; then
        fail "proxy: starts and says it is ready" "$(cat "$PROXY_LOG")"; proxy_stop; return
    fi
    run proxy_psql whoever "$WHOAMI"
    local out=$OUT rc=$RC
    run "$PROXY_CMD" proxy --dir "$PROXY_DIR" --check
    local check=$RC ready
    ready=$(grep -c '^herokupq: info: proxy ready: socket '"$PROXY_DIR"'/.s.PGSQL.6432$' "$PROXY_LOG")
    proxy_stop
    run "$PROXY_CMD" proxy --dir "$PROXY_DIR" --check
    if [ "$rc" = 0 ] && [ "$out" = "app_user|app_db|t" ] && [ "$ready" = 1 ] && [ "$check" = 0 ] &&
        [ "$RC" != 0 ] && [ "$PROXY_RC" = 0 ] && [ ! -e "$PROXY_DIR" ]; then
        pass "proxy: psql through the socket (any user and database name) reaches the app's database over SSL; one ready line; --check 0 while it runs, non-zero after; SIGTERM exits 0 and removes its directory"
    else fail "proxy: psql through the socket" "psql rc=$rc out=$out ready_lines=$ready check=$check check_after=$RC proxy_rc=$PROXY_RC dir_left=$(ls -A "$PROXY_DIR" 2>&1)"; fi
}

t_proxy_socket_other_user() {
    if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null; then
        skip "proxy: another local user cannot use the socket" "needs root and useradd"; return
    fi
    local user=hpqx$$
    useradd --no-create-home --shell /usr/sbin/nologin "$user" 2>/dev/null || {
        skip "proxy: another local user cannot use the socket" "useradd failed"; return; }
    if proxy_start; then
        run runuser -u "$user" -- psql -X -At "host=$PROXY_DIR port=6432 dbname=x user=x connect_timeout=5" -c 'SELECT 1'
        local other_rc=$RC other_err=$ERR
        run proxy_psql whoever 'SELECT 1'
        local own=$OUT
        proxy_stop
    fi
    userdel "$user" 2>/dev/null
    if [ "${other_rc:-0}" != 0 ] && [[ ${other_err:-} == *"ermission denied"* ]] && [ "${own:-}" = 1 ]; then
        pass "proxy: another local user (useradd) cannot connect through the socket (permission denied); the invoking user can"
    else fail "proxy: another local user is kept out" "other rc=${other_rc:-} err=${other_err:-}; own=${own:-}" "$(cat "$PROXY_LOG")"; fi
}

t_proxy_tcp_password() {
    local port
    port=$(proxy_free_port)
    if ! proxy_start -- --listen "127.0.0.1:$port"; then
        fail "proxy --listen: starts" "$(cat "$PROXY_LOG")"; proxy_stop; return
    fi
    local pw tcp="host=127.0.0.1 port=$port dbname=x user=herokupq connect_timeout=5"
    pw=$(cat "$PROXY_DIR/password")
    remember_secret "$pw"
    run env PGPASSWORD= psql -X -w -At "$tcp" -c 'SELECT 1'
    local none=$RC
    run env PGPASSWORD=not-the-password psql -X -At "$tcp" -c 'SELECT 1'
    local wrong=$RC
    run env PGPASSWORD="$pw" psql -X -At "$tcp" -c "$WHOAMI"
    local good=$RC out=$OUT mode
    mode=$(stat -c %a "$PROXY_DIR/password")
    proxy_stop
    if [ "$none" != 0 ] && [ "$wrong" != 0 ] && [ "$good" = 0 ] && [ "$out" = "app_user|app_db|t" ] &&
        [ "$mode" = 600 ] && [ "${#pw}" -ge 32 ]; then
        pass "proxy --listen: a TCP client without the local password, or with a wrong one, is refused; with DIR/password (0600) it reaches the database"
    else fail "proxy --listen: the local password" "no password rc=$none, wrong rc=$wrong, right rc=$good out=$out mode=$mode" "$(tail -5 "$PROXY_LOG")"; fi
}

# A client inside a transaction when the proxy gets SIGTERM: it finishes.
t_proxy_drain() {
    if ! proxy_start; then fail "proxy drain: starts" "$(cat "$PROXY_LOG")"; proxy_stop; return; fi
    "$PY" - "host=$PROXY_DIR port=6432 dbname=x user=x" >"$WORK/drain.out" 2>&1 <<'PY' &
import sys, time, psycopg2
c = psycopg2.connect(sys.argv[1]); cur = c.cursor()
cur.execute("CREATE TEMP TABLE t (x int)"); cur.execute("INSERT INTO t VALUES (1)")
print("in transaction", flush=True)
time.sleep(2)
cur.execute("SELECT count(*) FROM t"); n = cur.fetchone()[0]
c.commit(); c.close(); print("committed", n, flush=True)
PY
    local client=$!
    wait_for_line '^in transaction' "$WORK/drain.out" 100
    kill -TERM "$PROXY_PID"
    wait "$client"
    local crc=$?
    wait "$PROXY_PID"
    PROXY_RC=$?
    PROXY_PID=
    cat "$PROXY_LOG" >>"$WORK/all-logs"
    if [ "$crc" = 0 ] && grep -q '^committed 1$' "$WORK/drain.out" && [ "$PROXY_RC" = 0 ]; then
        pass "proxy: SIGTERM with a client inside a transaction: the transaction commits, then the proxy exits 0"
    else fail "proxy: drain" "client rc=$crc $(cat "$WORK/drain.out") proxy rc=$PROXY_RC" "$(cat "$PROXY_LOG")"; fi
}

# A password-only change, sessions not terminated (TTL 1 s: the proxy sees
# the new var within a second or two).
t_proxy_password_only_change() {
    if ! proxy_start HEROKUPQ_TTL=1; then fail "proxy: starts" "$(cat "$PROXY_LOG")"; proxy_stop; return; fi
    local before
    before=$(proxy_psql x 'SELECT pg_backend_pid()')
    local go=$WORK/held.go
    rm -f "$go"
    "$PY" - "host=$PROXY_DIR port=6432 dbname=x user=x" "$go" >"$WORK/held.out" 2>&1 <<'PY' &
import os, sys, time, psycopg2
c = psycopg2.connect(sys.argv[1]); c.autocommit = True; cur = c.cursor()
cur.execute("SELECT pg_backend_pid()"); print("before", cur.fetchone()[0], flush=True)
for _ in range(300):
    if os.path.exists(sys.argv[2]): break
    time.sleep(0.1)
cur.execute("SELECT pg_backend_pid()"); print("after", cur.fetchone()[0], flush=True)
PY
    local held=$!
    wait_for_line '^before' "$WORK/held.out" 100
    rotate together 0 >/dev/null
    wait_rotation
    wait_for_line 'proxy: credentials changed \(password\); pgbouncer reloaded, sessions kept' "$PROXY_LOG" 100
    local line=$?
    run proxy_psql x 'SELECT pg_backend_pid()'
    local new_rc=$RC new_pid=$OUT
    touch "$go"
    wait "$held"
    rm -f "$go"
    proxy_stop
    local b a
    b=$(sed -n 's/^before //p' "$WORK/held.out"); a=$(sed -n 's/^after //p' "$WORK/held.out")
    if [ "$line" = 0 ] && [ -n "$b" ] && [ "$a" = "$b" ] && [ "$new_rc" = 0 ] && [ "$new_pid" != "$b" ] &&
        [ "$new_pid" != "$before" ]; then
        pass "proxy: a password-only change: one 'credentials changed (password) ... sessions kept' line, the held session stays up on the same backend ($b), a new connection logs in anew (backend $new_pid)"
    else fail "proxy: password-only change" "line=$line held $b -> $a; new rc=$new_rc pid=$new_pid (before $before)" "$(cat "$WORK/held.out")" "$(grep -v debug "$PROXY_LOG" | tail -5)"; fi
}

# Sessions terminated and the password changed, the config var 2 s late:
# every new connection made through the proxy meanwhile succeeds.
# A client inside its query when its session ends gets an error, with or
# without the proxy (PgBouncer: "pooler error: server conn crashed?", or the
# server's FATAL itself, forwarded: "terminating connection due to
# administrator command"): such errors are the termination's. Any other error
# is the proxy's: PgBouncer logs each client it fails ("pooler error: password
# authentication failed", "server login has been failing", ...).
t_proxy_rotation_terminated() {
    if ! proxy_start; then fail "proxy: starts" "$(cat "$PROXY_LOG")"; proxy_stop; return; fi
    "$PY" - "host=$PROXY_DIR port=6432 dbname=x user=x" 6 >"$WORK/rot.out" 2>&1 <<'PY' &
import sys, threading, time, psycopg2
ok, bad = [], []
end = time.time() + float(sys.argv[2])
def loop():  # four at a time: a client arrives while another waits
    while time.time() < end:
        try:
            c = psycopg2.connect(sys.argv[1]); c.autocommit = True
            cur = c.cursor(); cur.execute("SELECT 1"); cur.fetchone(); c.close(); ok.append(1)
        except Exception as e:
            bad.append(1); print("error:", str(e).strip().splitlines()[0], flush=True)
        time.sleep(0.05)
threads = [threading.Thread(target=loop) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print("ok", len(ok), "errors", len(bad), flush=True)
PY
    local client=$!
    sleep 1
    # As Heroku does: the password changes, every session is reset; the var follows.
    rotate db-first 2000 >/dev/null
    wait_first_half db-first
    terminate_sessions >/dev/null
    wait "$client"
    wait_rotation
    proxy_stop
    local ok errors inside others
    ok=$(sed -n 's/^ok \([0-9]*\) errors [0-9]*$/\1/p' "$WORK/rot.out")
    errors=$(sed -n 's/^ok [0-9]* errors \([0-9]*\)$/\1/p' "$WORK/rot.out")
    inside=$(( $(grep -c 'pooler error: server conn crashed?' "$PROXY_LOG") +
        $(grep -c '^error: terminating connection due to administrator command' "$WORK/rot.out") ))
    others=$(grep 'pooler error:' "$PROXY_LOG" | grep -vc 'server conn crashed?')
    if [ -n "$ok" ] && [ "$ok" -gt 10 ] && [ "$others" = 0 ] && [ "$errors" -le "$inside" ] &&
        grep -q 'credentials changed (password)' "$PROXY_LOG"; then
        pass "proxy: rotation with sessions terminated, config var 2 s late: $ok connections through the proxy succeed, none fails but inside its query when the sessions ended ($errors)"
    else fail "proxy: rotation with sessions terminated" "$(tail -5 "$WORK/rot.out")" \
        "client errors $errors; inside a query when the sessions ended (server conn crashed?, administrator command) $inside; other pooler errors $others" \
        "$(grep -v debug "$PROXY_LOG" | tail -8)"; fi
}

# Sessions ended, credentials kept (an operator's pg_terminate_backend, a
# restart): the proxy pauses PgBouncer, one direct login says the URL works,
# it resumes at once. HEROKUPQ_RETRY_MS is a minute: a proxy that waited for a
# new URL instead would hold the next client far past its 20 s.
t_proxy_sessions_ended_resumes() {
    if ! proxy_start HEROKUPQ_RETRY_MS=60000; then fail "proxy: starts" "$(cat "$PROXY_LOG")"; proxy_stop; return; fi
    run proxy_psql x 'SELECT 1' # a server connection in PgBouncer's pool, for the server to close
    local first=$RC ended
    ended=$(terminate_sessions)
    wait_for_line 'credentials still work: resumed' "$PROXY_LOG" 100
    local resumed=$?
    run timeout 20 psql -X -q -A -t -v ON_ERROR_STOP=1 "host=$PROXY_DIR port=6432 dbname=x user=x connect_timeout=10" -c "$WHOAMI"
    proxy_stop
    if [ "$first" = 0 ] && [ "${ended:-0}" -ge 1 ] && [ "$resumed" = 0 ] && [ "$RC" = 0 ] &&
        [ "$OUT" = "app_user|app_db|t" ] && grep -q 'pgbouncer paused while the credentials are checked' "$PROXY_LOG" &&
        ! grep -q 'credentials changed' "$PROXY_LOG"; then
        pass "proxy: sessions ended with the credentials kept: PgBouncer paused, one direct login, resumed at once (HEROKUPQ_RETRY_MS a minute); the next client is served; no credential change"
    else fail "proxy: sessions ended, credentials kept" "first rc=$first ended=$ended resumed-line=$resumed psql rc=$RC out=$OUT" "$ERR" "$(grep -v 'debug: pgbouncer' "$PROXY_LOG" | tail -8)"; fi
}

# The password changed and the sessions ended, but the config var is 12 s
# late: the pause is bounded (the check, then HEROKUPQ_RETRY_MS = 1 s), so
# PgBouncer resumes long before the var changes (it then reports its errors,
# or, 1.18, keeps the clients waiting itself); once the var changes, clients
# are served again.
t_proxy_pause_bounded() {
    if ! proxy_start HEROKUPQ_RETRY_MS=1000 HEROKUPQ_TTL=1; then fail "proxy: starts" "$(cat "$PROXY_LOG")"; proxy_stop; return; fi
    run proxy_psql x 'SELECT 1'
    local first=$RC
    rotate db-first 12000 >/dev/null
    wait_first_half db-first
    terminate_sessions >/dev/null
    wait_for_line 'pgbouncer paused while the credentials are checked' "$PROXY_LOG" 100
    local paused=$?
    wait_for_line 'LOG got SIGUSR2, continuing from PAUSE' "$PROXY_LOG" 80
    local resumed=$? var_late=no
    rotation_says var_updated || var_late=yes
    rotation_reached "done" 200
    wait_for_line 'credentials changed \(password\)' "$PROXY_LOG" 100
    run proxy_psql x "$WHOAMI"
    proxy_stop
    if [ "$first" = 0 ] && [ "$paused" = 0 ] && [ "$resumed" = 0 ] && [ "$var_late" = yes ] &&
        [ "$RC" = 0 ] && [ "$OUT" = "app_user|app_db|t" ] && [ "$PROXY_RC" = 0 ]; then
        pass "proxy: password changed, sessions ended, config var 12 s late: PgBouncer paused, then resumed within HEROKUPQ_RETRY_MS (1 s) and the check, before the var changed; served again once it did"
    else fail "proxy: the pause is bounded" "first rc=$first paused=$paused resumed=$resumed var still late when resumed=$var_late psql rc=$RC out=$OUT proxy rc=$PROXY_RC" "$ERR" "$(grep -v 'debug: pgbouncer' "$PROXY_LOG" | tail -8)"; fi
}

# The password never on a command line or in PgBouncer's environment; its
# files are gone after the proxy.
t_proxy_secrets_in_processes() {
    if ! proxy_start; then fail "proxy: starts" "$(cat "$PROXY_LOG")"; proxy_stop; return; fi
    local pw found="" pid
    pw=$(current_password)
    for pid in $(pgrep -s 0 2>/dev/null; pgrep -f pgbouncer); do
        grep -qaF -- "$pw" "/proc/$pid/cmdline" 2>/dev/null && found+=" cmdline:$pid"
        grep -qaF -- "$pw" "/proc/$pid/environ" 2>/dev/null && found+=" environ:$pid"
        grep -qaF -- "$HPQ_TOKEN" "/proc/$pid/environ" 2>/dev/null && [ "$pid" != "$PROXY_PID" ] &&
            grep -qa pgbouncer "/proc/$pid/cmdline" && found+=" token-in-pgbouncer-environ:$pid"
    done
    local mode ini
    mode=$(stat -c %a "$PROXY_DIR" 2>&1); ini=$(stat -c %a "$PROXY_DIR/pgbouncer.ini" 2>&1)
    proxy_stop
    if [ -z "$found" ] && [ "$mode" = 700 ] && [ "$ini" = 600 ] && [ ! -e "$PROXY_DIR" ]; then
        pass "proxy: the password on no command line nor in PgBouncer's environment (nor the token); files 0600 in a 0700 directory, removed at exit"
    else fail "proxy: secrets in processes" "found:$found dir=$mode ini=$ini left=$(ls -A "$PROXY_DIR" 2>&1)"; fi
}

t_proxy_start_errors() {
    local bad=""
    run timeout 30 env HEROKU_APP="$HPQ_APP" HEROKU_API_KEY="$HPQ_TOKEN" HEROKUPQ_PGBOUNCER=/nonexistent/pgbouncer \
        "$PROXY_CMD" proxy --dir "$WORK/proxy.nopgb"
    [ "$RC" != 0 ] && [[ $ERR == *"apt-get install pgbouncer"* ]] || bad+=" missing-pgbouncer(rc=$RC: $ERR)"
    mkdir -p "$WORK/proxy.open" && chmod 755 "$WORK/proxy.open"
    run timeout 30 env HEROKU_APP="$HPQ_APP" HEROKU_API_KEY="$HPQ_TOKEN" "$PROXY_CMD" proxy --dir "$WORK/proxy.open"
    [ "$RC" != 0 ] && [[ $ERR == *"is not private"* ]] || bad+=" open-dir(rc=$RC: $ERR)"
    run timeout 30 env HEROKU_APP="$HPQ_APP" HEROKU_HOST="$HPQ_API_URL" HEROKUPQ_CAFILE="$HPQ_CAFILE" NETRC=/dev/null \
        HEROKUPQ_CACHE_DIR="$(fresh_cache_dir)" "$PROXY_CMD" proxy --dir "$WORK/proxy.notoken"
    [ "$RC" != 0 ] && [[ $ERR == *"token"* ]] && [ ! -e "$WORK/proxy.notoken" ] || bad+=" no-token(rc=$RC: $ERR)"
    if proxy_start; then
        local dir=$PROXY_DIR port
        run timeout 30 env HEROKU_APP="$HPQ_APP" "$PROXY_CMD" proxy --dir "$dir"
        [ "$RC" != 0 ] && [[ $ERR == *"port in use"* ]] || bad+=" socket-in-use(rc=$RC: $ERR)"
        port=$(proxy_free_port)
        "$PY" -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(5)' "$port" &
        local holder=$!
        sleep 0.3
        run timeout 30 env HEROKU_APP="$HPQ_APP" "$PROXY_CMD" proxy --dir "$WORK/proxy.tcp" --port 7777 --listen "127.0.0.1:$port"
        [ "$RC" != 0 ] && [[ $ERR == *"port in use"* ]] || bad+=" tcp-in-use(rc=$RC: $ERR)"
        kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
        proxy_stop
    else bad+=" start($(cat "$PROXY_LOG"))"; fi
    if [ -z "$bad" ]; then
        pass "proxy: one clear error line and a non-zero exit when pgbouncer is missing (names apt-get install pgbouncer), the directory is not private, there is no token, the socket or the TCP port is in use"
    else fail "proxy: start errors" "$bad"; fi
}

# A config var names a database and nothing more: sslmode=disable in it does
# not weaken the TLS to the server (which refuses plain connections), and a
# value that would rewrite PgBouncer's configuration is refused.
t_proxy_url_cannot_weaken() {
    local url=$WORK/proxy-url pw
    pw=$(current_password)
    printf 'postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable\n' "$HPQ_DB_USER" "$pw" "$HPQ_PG_PORT" "$HPQ_DB_NAME" >"$url"
    chmod 600 "$url"
    local out="" rc=1
    if proxy_start HEROKUPQ_SOURCE="file:$url"; then
        run proxy_psql x "$WHOAMI"
        out=$OUT rc=$RC
    fi
    proxy_stop
    printf "postgres://%s:%s%%27%%20host%%3Devil.example@127.0.0.1:%s/%s\n" "$HPQ_DB_USER" "$pw" "$HPQ_PG_PORT" "$HPQ_DB_NAME" >"$url"
    run timeout 30 env HEROKUPQ_SOURCE="file:$url" "$PROXY_CMD" proxy --dir "$WORK/proxy.inject"
    if [ "$rc" = 0 ] && [ "$out" = "app_user|app_db|t" ] && [ "$RC" = 1 ] &&
        [[ $ERR == *"cannot carry"* ]] && [[ $ERR != *evil* ]]; then
        pass "proxy: a URL with sslmode=disable still reaches the database over SSL; a URL whose password holds a quote is refused at start (one line), never written into PgBouncer's configuration"
    else fail "proxy: the URL cannot weaken or rewrite the configuration" "sslmode=disable: rc=$rc out=$out; quote: rc=$RC err=$ERR"; fi
}

# A failover: the URL names another server (here: the port the proxy started
# with answers nothing, the next URL names the database). A client waiting
# through the proxy meanwhile is served once the URL follows.
t_proxy_failover() {
    local url=$WORK/failover-url pw
    pw=$(current_password)
    printf 'postgres://%s:%s@127.0.0.1:1/%s\n' "$HPQ_DB_USER" "$pw" "$HPQ_DB_NAME" >"$url"
    chmod 600 "$url"
    if ! proxy_start HEROKUPQ_SOURCE="file:$url"; then fail "proxy: starts" "$(cat "$PROXY_LOG")"; proxy_stop; return; fi
    (sleep 1; printf 'postgres://%s:%s@127.0.0.1:%s/%s\n' "$HPQ_DB_USER" "$pw" "$HPQ_PG_PORT" "$HPQ_DB_NAME" >"$url.new"
     mv "$url.new" "$url") &
    local mover=$!
    run proxy_psql x "SELECT inet_server_port()"
    wait "$mover"
    proxy_stop
    if [ "$RC" = 0 ] && [ "$OUT" = "$HPQ_PG_PORT" ] && grep -q 'credentials changed (port)' "$PROXY_LOG"; then
        pass "proxy: a failover (the URL names another server): a client waiting through the proxy is served by the new one; one 'credentials changed (port)' line"
    else fail "proxy: failover" "rc=$RC out=$OUT" "$ERR" "$(grep -v debug "$PROXY_LOG" | tail -5)"; fi
}

# SIGHUP: resolve now, whatever the TTL (an hour by default).
t_proxy_sighup() {
    if ! proxy_start; then fail "proxy: starts" "$(cat "$PROXY_LOG")"; proxy_stop; return; fi
    rotate together 0 >/dev/null
    wait_rotation
    sleep 1.5
    local before after
    before=$(grep -c 'credentials changed' "$PROXY_LOG")
    kill -HUP "$PROXY_PID"
    wait_for_line 'credentials changed \(password\)' "$PROXY_LOG" 100
    after=$(grep -c 'credentials changed' "$PROXY_LOG")
    run proxy_psql x "$WHOAMI"
    proxy_stop
    if [ "$before" = 0 ] && [ "$after" = 1 ] && [ "$RC" = 0 ] && [ "$OUT" = "app_user|app_db|t" ] && [ "$PROXY_RC" = 0 ]; then
        pass "proxy: SIGHUP resolves at once (TTL an hour): the new password is taken (one line), clients connect, the proxy goes on"
    else fail "proxy: SIGHUP" "lines before=$before after=$after psql rc=$RC out=$OUT proxy rc=$PROXY_RC" "$(grep -v debug "$PROXY_LOG" | tail -5)"; fi
}

tests t_proxy_psql t_proxy_socket_other_user t_proxy_tcp_password t_proxy_drain \
    t_proxy_password_only_change t_proxy_rotation_terminated t_proxy_sessions_ended_resumes \
    t_proxy_pause_bounded t_proxy_secrets_in_processes \
    t_proxy_start_errors t_proxy_url_cannot_weaken t_proxy_failover \
    t_proxy_sighup
