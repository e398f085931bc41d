# shellcheck shell=bash
# Drivers that do not use libpq, through `herokupq proxy` (issue 17, item 8):
# the clients of tests/clients/proxy-list (JDBC, node pg, Go pgx and lib/pq,
# Python asyncpg), each a small program under tests/clients/ speaking the
# proxy drivers' protocol (docs/proxy-drivers.md says it, and what is measured).
#
# One proxy serves them all: `herokupq proxy` on a private directory of this
# run, its socket and `--listen 127.0.0.1:PORT`. A client has no credentials of
# its own: on the socket, the user's login name (a driver's default), a made-up
# database and no password; on TCP (JDBC has no Unix sockets) the user
# `herokupq` and DIR/password. Each gets:
#   socket, TCP     once, each way (JDBC: TCP only): the server side says
#                   app_user, app_db, SSL;
#   sessions ended  the baseline: the client loops (a held connection, and a
#                   new one each round); every session of the role is ended
#                   (pg_terminate_backend), no password change; it counts errors;
#   rotation        the same loop; the password changes, every session ends,
#                   the config var follows 2 s later: no more errors of each
#                   kind (held, new) than in its baseline;
#   password only   the same loop; the password changes, sessions are kept,
#                   the config var 2 s later: no error, the held connection on
#                   one backend throughout.
# The client pauses between rounds while the test ends the sessions (CTRLDIR/
# pause), so no connection is half-way through at that instant in one run and
# not in the other: the counts are the driver's and the proxy's, not chance.
#
# A client whose package is missing fails, saying which package. The results
# go to a Markdown section "Through the proxy" in $PD_OUT (and into
# build/client-matrix.md when the client matrix runs in the same run).

PD_CMD=$ROOT/build/herokupq
PD_OUT=${PD_OUT:-$ROOT/build/client-matrix-proxy.md}
PD_TIMEOUT=120                     # seconds, per client program
PD_JAR=/usr/share/java/postgresql.jar
PD_NODE_MODULES=$ROOT/build/node/node_modules
PD_GOPATH=/usr/share/gocode        # Debian's Go libraries (golang-*-dev)
PD_CLIENTS_DIR=$ROOT/tests/clients
PD_OK="ok user=app_user db=app_db ssl=t"

PD_CLIENTS=()
declare -gA PD_NAME PD_PKG PD_VIA
# The checks, in the matrix's order, and each one's result per client:
# PD_RESULT["CHECK ID"] is "ok" or why not; PD_CELL["CHECK ID"] what an ok
# shows in the table (the error counts).
PD_CHECKS=(socket tcp ended rotation password)
declare -gA PD_CHECK_NAME=([socket]="socket, no password" [tcp]="TCP, local password"
    [ended]="sessions ended (baseline)" [rotation]="rotation" [password]="password only")
declare -gA PD_RESULT PD_CELL PD_BASE_COUNTS
pd_load() {
    local id pkg name via
    while IFS='|' read -r id pkg name via; do
        [[ -z $id || $id == \#* ]] && continue
        PD_CLIENTS+=("$id")
        PD_PKG[$id]=$pkg PD_NAME[$id]=$name PD_VIA[$id]=$via
    done <"$ROOT/tests/clients/proxy-list"
}
pd_load

# --- the proxy -----------------------------------------------------------------------------------

# Whether this build's command has the proxy subcommand (without it,
# `herokupq proxy` would run a program named "proxy").
pd_has_proxy() { "$PD_CMD" --help 2>&1 | grep -q 'herokupq proxy'; }

pd_free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pd_alive() { [ -n "${PD_PID:-}" ] && kill -0 "$PD_PID" 2>/dev/null; }
pd_gone() { ! pd_alive; }

# Start the proxy; PD_WHY says why it is not up, else PD_DIR, PD_PORT, PD_PID are set.
pd_start() {
    PD_DIR=$WORK/proxy PD_PORT=$(pd_free_port) PD_WHY=''
    mkdir -m 700 "$PD_DIR"
    env HEROKU_API_KEY="$HPQ_TOKEN" HEROKU_HOST="$HPQ_API_URL" HEROKUPQ_CAFILE="$HPQ_CAFILE" \
        HEROKUPQ_CACHE_DIR="$WORK/proxy-cache" HEROKUPQ_LOG=info \
        "$PD_CMD" proxy -a "$HPQ_APP" --dir "$PD_DIR" --port "$PD_PORT" --listen "127.0.0.1:$PD_PORT" \
        >"$WORK/proxy.out" 2>"$WORK/proxy.err" &
    PD_PID=$!
    poll_until 300 pd_ready
    if ! grep -q '^herokupq: info: proxy ready:' "$WORK/proxy.err"; then
        PD_WHY="herokupq proxy did not say 'proxy ready' within 30 s: $(matrix_oneline "$(tail -5 "$WORK/proxy.err")")"
    elif [ ! -s "$PD_DIR/password" ]; then
        PD_WHY="herokupq proxy is ready but wrote no $PD_DIR/password"
    else
        remember_secret "$(cat "$PD_DIR/password")"
    fi
}

pd_ready() { grep -q '^herokupq: info: proxy ready:' "$WORK/proxy.err" || ! pd_alive; }

# SIGTERM, up to 30 s to exit (then SIGKILL); its log joins the run's.
pd_stop() {
    pd_alive && kill -TERM "$PD_PID"
    poll_until 300 pd_gone || kill -KILL "$PD_PID" 2>/dev/null
    wait "$PD_PID" 2>/dev/null
    PD_PID=
    cat "$WORK/proxy.err" >>"$WORK/all-logs"
    cat "$WORK/proxy.out" >>"$WORK/all-out"
}

pd_changes() { grep -c '^herokupq: info: proxy: credentials changed' "$WORK/proxy.err"; }

# Until the proxy has logged more credential changes than $1 (15 s at most).
pd_changed_since() { [ "$(pd_changes)" -gt "$1" ]; }
pd_wait_change() { poll_until 150 pd_changed_since "$1"; }

# End every session of the app's role and wait for each to be gone. Prints how many.
pd_terminate() {
    psql -X -q -At "$HPQ_PG_ADMIN" -c \
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE usename = '$HPQ_DB_USER'"
}

# --- the clients ---------------------------------------------------------------------------------

# Why client ID cannot run here, or nothing.
pd_missing() {
    case $1 in
        jdbc)
            command -v java >/dev/null || { echo "java not found (Debian package default-jre-headless)"; return; }
            [ -r "$PD_JAR" ] || echo "$PD_JAR not found (Debian package libpostgresql-jdbc-java)" ;;
        node_pg)
            command -v node >/dev/null || { echo "node not found (Debian package nodejs)"; return; }
            [ -f "$PD_NODE_MODULES/pg/package.json" ] ||
                echo "npm pg not in $PD_NODE_MODULES (scripts/install-node-deps.sh; make test runs it)" ;;
        pgx | lib_pq)
            [ -x "$WORK/pd-bin/proxy_$1" ] || echo "not built: ${PD_BUILD_WHY[$1]:-not tried}" ;;
        asyncpg)
            "$PY" -c 'import asyncpg' 2>/dev/null || echo "asyncpg not importable by $PY (Debian package python3-asyncpg)" ;;
    esac
}

# The Go clients, offline from Debian's packages (GOPATH mode, no module proxy).
declare -gA PD_BUILD_WHY
pd_build_go() {
    local id src
    mkdir -p "$WORK/pd-bin"
    for id in pgx lib_pq; do
        if ! command -v go >/dev/null; then PD_BUILD_WHY[$id]="go not found (Debian package golang-go)"; continue; fi
        src=$PD_GOPATH/src/github.com/jackc/pgx/v4
        [ $id = lib_pq ] && src=$PD_GOPATH/src/github.com/lib/pq
        if [ ! -d "$src" ]; then PD_BUILD_WHY[$id]="$src not found (Debian package ${PD_PKG[$id]#golang-go })"; continue; fi
        run env GOPATH="$PD_GOPATH" GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE="$ROOT/build/go-cache" \
            go build -o "$WORK/pd-bin/proxy_$id" "$PD_CLIENTS_DIR/proxy_go_loop.go" "$PD_CLIENTS_DIR/proxy_$id.go"
        [ "$RC" = 0 ] || PD_BUILD_WHY[$id]="go build failed: $(matrix_oneline "$ERR")"
    done
}

# pd_client ID: the command of client ID, in PD_ARGV.
pd_client() {
    case $1 in
        jdbc) PD_ARGV=(java -cp "$PD_JAR" "$PD_CLIENTS_DIR/ProxyJdbc.java") ;;
        node_pg) PD_ARGV=(env NODE_PATH="$PD_NODE_MODULES" node "$PD_CLIENTS_DIR/proxy_node_pg.js") ;;
        pgx | lib_pq) PD_ARGV=("$WORK/pd-bin/proxy_$1") ;;
        asyncpg) PD_ARGV=("$PY" "$PD_CLIENTS_DIR/proxy_asyncpg.py") ;;
    esac
}

# pd_exec socket|tcp ID ARGS...: client ID with the proxy's address first,
# bounded. No password file of the user's may help it (PGPASSFILE); on TCP the
# password is the proxy's local one, in PGPASSWORD (never on a command line).
pd_exec() {
    local via=$1 id=$2 env=(PGPASSFILE="$WORK/no-pgpass") where
    shift 2
    pd_client "$id"
    if [ "$via" = tcp ]; then
        env+=(PGPASSWORD="$(cat "$PD_DIR/password")")
        where=(127.0.0.1 "$PD_PORT" herokupq any_db)
    else
        where=("$PD_DIR" "$PD_PORT" "$(id -un)" any_db)
    fi
    env "${env[@]}" timeout -k 5 "$PD_TIMEOUT" "${PD_ARGV[@]}" "${where[@]}" "$@"
}

# pd_record CHECK ID PASS-TEXT [CELL]: the result of CHECK for client ID, from PD_WHY.
pd_record() {
    local key="$1 $2"
    if [ -z "$PD_WHY" ]; then
        PD_RESULT[$key]=ok PD_CELL[$key]=${4:-}
        pass "proxy drivers: ${PD_NAME[$2]}, $3"
    else
        PD_RESULT[$key]=$(matrix_oneline "$PD_WHY")
        fail "proxy drivers: ${PD_NAME[$2]}, ${PD_CHECK_NAME[$1]}" "${PD_RESULT[$key]}"
    fi
}

# pd_connects socket|tcp ID: one connection and query, that way.
pd_connects() {
    local via=$1 id=$2
    if [ "$via" = socket ] && [ "${PD_VIA[$id]}" = tcp ]; then
        PD_RESULT[$via $id]=n/a # JDBC: no Unix sockets
        return
    fi
    run pd_exec "$via" "$id"
    PD_WHY=''
    [ "$RC" = 0 ] && [ "$OUT" = "$PD_OK" ] || PD_WHY="rc=$RC out: ${OUT:-(none)}; stderr: ${ERR:-(none)}"
    pd_record "$via" "$id" \
        "connects through the proxy ($(pd_via_text "$via")) and reaches the app's database as app_user over SSL"
}

pd_via_text() {
    if [ "$1" = tcp ]; then echo "TCP 127.0.0.1, user herokupq, the proxy's local password"
    else echo "its socket, the login name as user, a made-up database, no password"; fi
}

# --- the loop: a held and a new connection each round, across a disruption ---------------------

# pd_loop ID MODE: the client loops while MODE happens (baseline: sessions
# ended; rotation: password changed, sessions ended, config var 2 s late;
# password: password changed, config var 2 s late). Sets PD_HELD, PD_NEW,
# PD_BACKENDS (from its last line) and PD_WHY (empty when the run itself went
# as planned: it says nothing about the counts).
pd_loop() {
    local id=$1 mode=$2 ctrl=$WORK/pd-ctrl out=$WORK/pd-loop.out pid last
    PD_WHY='' PD_HELD='' PD_NEW='' PD_BACKENDS='' PD_ERRORS=''
    rm -rf "$ctrl"
    mkdir "$ctrl"
    : >"$out"
    pd_exec "${PD_VIA[$id]}" "$id" "$ctrl" >"$out" 2>"$WORK/pd-loop.err" &
    pid=$!
    # JDBC compiles its source file first: up to 60 s for the first line.
    if wait_for_line '^(ok|error) ' "$out" 600 && [ "$(head -n1 "$out")" = "$PD_OK" ]; then
        sleep 0.5 # a few rounds before
        pd_disrupt "$mode" "$ctrl"
    else
        PD_WHY="the first connection: $(head -n1 "$out")"
    fi
    touch "$ctrl/stop"
    wait "$pid"
    local rc=$?
    cat "$WORK/pd-loop.err" >>"$WORK/all-logs"
    cat "$out" >>"$WORK/all-out"
    [ -n "$PD_WHY" ] && return
    last=$(grep "^done " "$out")
    if [ "$rc" != 0 ] || [[ ! $last =~ ^done\ rounds=([0-9]+)\ held_errors=([0-9]+)\ new_errors=([0-9]+)\ held_backends=([0-9]+)$ ]]; then
        PD_WHY="the client did not finish its loop: rc=$rc; $(matrix_oneline "$(tail -3 "$out") $(tail -3 "$WORK/pd-loop.err")")"
        return
    fi
    PD_HELD=${BASH_REMATCH[2]} PD_NEW=${BASH_REMATCH[3]} PD_BACKENDS=${BASH_REMATCH[4]}
    PD_ERRORS=$(grep '^error ' "$out" | sort | uniq -c | sed 's/^ *//' | head -3)
}

# pd_pause CTRLDIR: until the client waits between rounds (30 s at most: a
# round may be waiting on a connection); pd_resume: until it runs again.
pd_pause() { touch "$1/pause"; poll_until 300 test -e "$1/paused"; }
pd_resume() { rm -f "$1/pause"; poll_until 100 test ! -e "$1/paused"; }

# pd_whole_round CTRLDIR: until the client has gone through one whole round
# that started from now (the round under way ends, then one more).
pd_whole_round() { pd_pause "$1" && pd_resume "$1" && pd_pause "$1" && pd_resume "$1"; }

# pd_disrupt MODE CTRLDIR: with the client paused between rounds, the
# disruption; then the client runs on: 2 s with the config var late, 1 s
# after, and one whole round more.
pd_disrupt() {
    local mode=$1 ctrl=$2 url ended changes
    if ! pd_pause "$ctrl"; then
        PD_WHY="the client did not pause between rounds within 30 s"
        return
    fi
    changes=$(pd_changes)
    if [ "$mode" != baseline ]; then
        url=$(rotate db-first 2000 2>&1)
        [[ $url == postgres* ]] || PD_WHY="could not start a rotation: $(matrix_oneline "$url")"
        wait_first_half db-first || PD_WHY="${PD_WHY:+$PD_WHY; }the password had not changed 5 s after the rotation started"
    fi
    if [ "$mode" != password ]; then
        ended=$(pd_terminate)
        [ "${ended:-0}" -ge 1 ] || PD_WHY="${PD_WHY:+$PD_WHY; }no session of $HPQ_DB_USER to end (pd_terminate: ${ended:-error})"
    fi
    pd_resume "$ctrl" || PD_WHY="${PD_WHY:+$PD_WHY; }the client did not resume within 10 s"
    if [ "$mode" = baseline ]; then
        sleep 3
    else
        wait_rotation || PD_WHY="${PD_WHY:+$PD_WHY; }the rotation did not finish within 10 s"
        api GET /rotate/status | grep -q '"error": null' || PD_WHY="${PD_WHY:+$PD_WHY; }the rotation failed: $(api GET /rotate/status)"
        sleep 1
    fi
    pd_whole_round "$ctrl" || PD_WHY="${PD_WHY:+$PD_WHY; }the client did not go through a whole round within 60 s"
    [ "$mode" = baseline ] || pd_settle "$mode" "$changes"
}

# After a rotation, the proxy must be on the new password before the next
# run: at once after sessions ended (new server logins failed, or it saw the
# config var); after a password-only change, SIGHUP (resolve now) if it has
# not noticed by itself (the TTL is an hour).
pd_settle() {
    [ "$1" = password ] && [ "$(pd_changes)" -le "$2" ] && kill -HUP "$PD_PID" 2>/dev/null
    pd_wait_change "$2" ||
        PD_WHY="${PD_WHY:+$PD_WHY; }the proxy logged no 'proxy: credentials changed' line within 15 s of the config var's change"
}

pd_counts() { echo "$PD_HELD held, $PD_NEW new"; }

pd_baseline() {
    local id=$1
    pd_loop "$id" baseline
    if [ -z "$PD_WHY" ] && { [ "$PD_HELD" -lt 1 ] || [ "$PD_BACKENDS" -lt 2 ]; }; then
        PD_WHY="the held session did not end and come back ($(pd_counts) errors, $PD_BACKENDS backends): the baseline measured nothing"
    fi
    [ -z "$PD_WHY" ] && PD_BASE_COUNTS[$id]="$PD_HELD $PD_NEW"
    pd_record ended "$id" "sessions ended (baseline): $(pd_counts) errors; the held connection reconnected" "$(pd_counts)"
}

pd_rotation() {
    local id=$1 base_held base_new
    pd_loop "$id" rotation
    if [ -z "$PD_WHY" ]; then
        read -r base_held base_new <<<"${PD_BASE_COUNTS[$id]:-}"
        if [ -z "$base_held" ]; then
            PD_WHY="$(pd_counts) errors, no baseline to compare with"
        elif [ "$PD_HELD" -gt "$base_held" ] || [ "$PD_NEW" -gt "$base_new" ]; then
            PD_WHY="$(pd_counts) errors, more than the baseline's $base_held held, $base_new new: $PD_ERRORS"
        elif [ "$PD_BACKENDS" -lt 2 ]; then
            PD_WHY="the held session did not end and come back ($PD_BACKENDS backend)"
        fi
    fi
    pd_record rotation "$id" \
        "rotation (password changed, sessions ended, config var 2 s late): $(pd_counts) errors, no more than the baseline" "$(pd_counts)"
}

pd_password_only() {
    local id=$1
    pd_loop "$id" password
    if [ -z "$PD_WHY" ] && { [ "$PD_HELD" != 0 ] || [ "$PD_NEW" != 0 ] || [ "$PD_BACKENDS" != 1 ]; }; then
        PD_WHY="$(pd_counts) errors, $PD_BACKENDS backends of the held connection (want 0 errors, 1 backend): ${PD_ERRORS:-}"
    fi
    pd_record password "$id" \
        "password only changed (sessions kept, config var 2 s late): 0 errors, the held connection on one backend throughout" \
        "0 errors, 1 backend"
}

# --- the matrix's section ------------------------------------------------------------------------

pd_label() {
    local id=$1 label=${PD_NAME[$1]} pkg version
    case $id in
        node_pg) version=$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$PD_NODE_MODULES/pg/package.json" 2>/dev/null | head -n1)
                 [ -n "$version" ] && label+=" (npm pg $version)" ;;
        *) pkg=${PD_PKG[$id]##* }
           version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)
           [ -n "$version" ] && label+=" ($pkg $version)" ;;
    esac
    echo "$label"
}

pd_intro() {
    local pgb
    pgb=$(dpkg-query -W -f='${Version}' pgbouncer 2>/dev/null)
    echo "#### Through the proxy (\`herokupq proxy\`)"
    echo
    echo "Written by \`make test\` (tests/integration/85-proxy-drivers.sh): drivers that do not use libpq, through"
    echo "\`herokupq proxy\` (PgBouncer ${pgb:-?}), with no credentials of their own."
    echo
    echo "- **socket**: one connection on the proxy's socket with the login name as user, a made-up database and no"
    echo "  password; **TCP**: on \`--listen 127.0.0.1:PORT\` as user \`herokupq\` with the password in DIR/password"
    echo "  (JDBC has no Unix sockets). The server side must say app_user, app_db, SSL."
    echo "- The other columns run the client in a loop (on the socket; JDBC on TCP): each round a query on a held"
    echo "  connection (reconnected when lost) and a new connection, counting the errors of each (held, new)."
    echo "  **sessions ended**: every session of the role ends, nothing else (the baseline);"
    echo "  **rotation**: the password changes, every session ends, \`DATABASE_URL\` follows 2 s later: no more errors of"
    echo "  each kind than the baseline; **password only**: the password changes, sessions are kept, the config var 2 s"
    echo "  later: no error, the held connection on the same backend throughout."
}

pd_table() {
    local id check row
    echo "| driver | socket | TCP | sessions ended (errors) | rotation (errors) | password only |"
    echo "|---|---|---|---|---|---|"
    for id in "${PD_CLIENTS[@]}"; do
        row="| $(pd_label "$id") |"
        for check in "${PD_CHECKS[@]}"; do
            case ${PD_RESULT[$check $id]:-} in
                ok) row+=" ✅${PD_CELL[$check $id]:+ ${PD_CELL[$check $id]}} |" ;;
                n/a) row+=" — |" ;;
                *) row+=" ❌ |" ;;
            esac
        done
        echo "$row"
    done
}

pd_failures() {
    local id check why any=''
    for id in "${PD_CLIENTS[@]}"; do
        for check in "${PD_CHECKS[@]}"; do
            why=${PD_RESULT[$check $id]:-not run}
            [ "$why" = ok ] || [ "$why" = n/a ] && continue
            [ -z "$any" ] && { echo; echo "**Failures through the proxy**"; echo; any=1; }
            echo "- **${PD_NAME[$id]}**, ${PD_CHECK_NAME[$check]}: $why"
        done
    done
}

# The section, in $WORK/pd-matrix.md (the client matrix appends it when it
# runs in the same run) and in $PD_OUT.
pd_write() {
    { pd_intro; echo; pd_table; pd_failures; } >"$WORK/pd-matrix.md"
    mkdir -p "$(dirname "$PD_OUT")"
    cp "$WORK/pd-matrix.md" "$PD_OUT"
}

# --- the test ------------------------------------------------------------------------------------

pd_all_fail() { # WHY ID...: every check of each client ID fails with WHY
    local id check
    for id in "${@:2}"; do
        for check in "${PD_CHECKS[@]}"; do PD_RESULT[$check $id]=$1; done
    done
}

pd_client_checks() {
    local id=$1 missing
    missing=$(pd_missing "$id")
    if [ -n "$missing" ]; then
        pd_all_fail "not run: $missing" "$id"
        fail "proxy drivers: ${PD_NAME[$id]}" "not run: $missing"
        return
    fi
    pd_connects socket "$id"
    pd_connects tcp "$id"
    pd_baseline "$id"
    pd_rotation "$id"
    pd_password_only "$id"
}

t_proxy_drivers() {
    local id
    if [ ! -x "$PD_CMD" ]; then
        pd_all_fail "not run: $PD_CMD not built (make test-build)" "${PD_CLIENTS[@]}"
        pd_write
        fail "proxy drivers: the command" "$PD_CMD not built (make test-build)"
        return
    fi
    if ! pd_has_proxy; then
        pd_all_fail "not run: herokupq proxy not built" "${PD_CLIENTS[@]}"
        pd_write
        skip "proxy drivers (${#PD_CLIENTS[@]} clients)" "herokupq proxy not built: $PD_CMD --help names no proxy command"
        return
    fi
    pd_start
    if [ -n "$PD_WHY" ]; then
        pd_all_fail "not run: $PD_WHY" "${PD_CLIENTS[@]}"
        fail "proxy drivers: the proxy starts" "$PD_WHY"
        pd_stop
        pd_write
        return
    fi
    pd_build_go
    for id in "${PD_CLIENTS[@]}"; do
        if ! pd_alive; then
            fail "proxy drivers: the proxy stays up" \
                "it exited before ${PD_NAME[$id]}: $(matrix_oneline "$(tail -3 "$WORK/proxy.err")")"
            break
        fi
        pd_client_checks "$id"
    done
    pd_stop
    pd_write
    echo "     proxy drivers' matrix: $PD_OUT"
}

tests t_proxy_drivers
