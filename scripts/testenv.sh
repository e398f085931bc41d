#!/usr/bin/env bash
# Throwaway test environment for herokupq: a test CA, a PostgreSQL cluster set up
# like Heroku Postgres (TLS only over TCP, SCRAM passwords) and the Heroku Platform
# API double (tests/heroku_api_double.py), all on 127.0.0.1.
#
#   scripts/testenv.sh up DIR     build and start everything in DIR, write DIR/env
#   scripts/testenv.sh down DIR   stop everything started by `up` and remove DIR
#
# DIR/env holds `export NAME=value` lines for tests to source. Progress goes to stderr.
set -euo pipefail

PROG=testenv.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DOUBLE=$(dirname "$HERE")/tests/heroku_api_double.py
PY=/usr/bin/python3
MARKER=.hpq-testenv     # marks a DIR made by `up`; `down` removes nothing without it
APP=hpq-test-app
DB_USER=app_user
DB_NAME=app_db

# Nothing from the caller's environment may steer our own tools: no libpq
# settings, and above all not the herokupq shim itself.
# shellcheck source=tests/lib.sh
source "$(dirname "$HERE")/tests/lib.sh"
hpq_clean_env

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "error: $*"; exit 1; }
usage() { printf 'usage: %s up|down DIR\n' "$0" >&2; exit 2; }

is_root() { [[ $(id -u) -eq 0 ]]; }

find_pgbin() {
    local d
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
        [[ -x $d/initdb && -x $d/pg_ctl && -x $d/psql ]] && { echo "$d"; return 0; }
    done
    return 1
}

# Run a PostgreSQL server tool as the cluster owner: `postgres` when we are root.
as_pg() {
    if is_root; then (cd "$DIR" && runuser -u postgres -- "$@"); else "$@"; fi
}

quote() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

alive() {  # a running process (zombies count as gone)
    [[ -r /proc/$1/stat ]] || return 1
    local stat; stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

wait_gone() {  # PID TENTHS: wait up to TENTHS/10 s for PID to go away
    local i
    for ((i = 0; i < $2; i++)); do alive "$1" || return 0; sleep 0.1; done
    ! alive "$1"
}

# 127.0.0.1, and ::1 too where the machine has an IPv6 loopback (the fault table's
# IPv6 row; it says "skipped" elsewhere).
listen_addresses() {
    if "$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
        echo "127.0.0.1, ::1"
    else
        echo "127.0.0.1"
    fi
}

free_ports() {  # N distinct free loopback ports
    "$PY" - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

make_certs() {
    local cnf=$DIR/tls.cnf
    cat >"$cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = herokupq throwaway test CA
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    (
        umask 077
        openssl req -x509 -config "$cnf" -extensions ca -newkey ec \
            -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -keyout "$DIR/ca.key" -out "$DIR/ca.crt"
        openssl req -new -config "$cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
            -nodes -subj /CN=127.0.0.1 -keyout "$DIR/server.key" -out "$DIR/server.csr"
        openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" \
            -set_serial "0x$(openssl rand -hex 16)" -days 2 \
            -extfile "$cnf" -extensions server -out "$DIR/server.crt"
    ) >"$DIR/openssl.log" 2>&1 || { cat "$DIR/openssl.log" >&2; die "certificate generation failed"; }
    chmod 644 "$DIR/ca.crt" "$DIR/server.crt"
    rm -f "$DIR/server.csr" "$DIR/openssl.log"
}

init_postgres() {
    local data=$DIR/pgdata sock=$DIR/sock
    mkdir -m 700 "$data"
    mkdir -m 755 "$sock"
    touch "$DIR/postgresql.log"
    install -m 600 "$DIR/server.key" "$DIR/pg-server.key"
    if is_root; then
        chmod 755 "$DIR"
        chown postgres: "$data" "$sock" "$DIR/postgresql.log" "$DIR/pg-server.key"
        as_pg test -x "$DIR" || die "user postgres cannot reach $DIR (check the parent directories' permissions)"
    fi
    as_pg "$PGBIN/initdb" -D "$data" -U "$SUPERUSER" -E UTF8 --locale=C --no-sync \
        --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 ||
        { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    cat >>"$data/postgresql.conf" <<EOF

# --- herokupq test environment ---
listen_addresses = '$(listen_addresses)'
port = $PG_PORT
unix_socket_directories = '$sock'
max_connections = 250
shared_buffers = 16MB
ssl = on
ssl_cert_file = '$DIR/server.crt'
ssl_key_file = '$DIR/pg-server.key'
ssl_min_protocol_version = 'TLSv1.2'
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
log_connections = on
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    cat >"$data/pg_hba.conf" <<'EOF'
local     all  all                 trust
hostssl   all  all  127.0.0.1/32   scram-sha-256
hostnossl all  all  127.0.0.1/32   reject
hostssl   all  all  ::1/128        scram-sha-256
hostnossl all  all  ::1/128        reject
EOF
}

start_postgres() {
    as_pg "$PGBIN/pg_ctl" -D "$DIR/pgdata" -l "$DIR/postgresql.log" -w -t 20 -s start \
        >/dev/null 2>&1 9>&- || { tail -n 20 "$DIR/postgresql.log" >&2; die "PostgreSQL did not start"; }
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$PG_ADMIN" -v pw="$DB_PASSWORD" \
        >/dev/null <<EOF || die "could not create role $DB_USER / database $DB_NAME"
CREATE ROLE $DB_USER LOGIN PASSWORD :'pw';
CREATE DATABASE $DB_NAME OWNER $DB_USER;
EOF
}

start_double() {
    # The double also writes to api.log itself (--log); both only append.
    # shellcheck disable=SC2094
    "$PY" "$DOUBLE" --api-port "$API_PORT" --control-port "$CONTROL_PORT" \
        --cert "$DIR/server.crt" --key "$DIR/server.key" \
        --app "$APP" --app-id "$APP_ID" --token "$TOKEN" --forbidden-token "$FORBIDDEN_TOKEN" \
        --config-var "DATABASE_URL=$DB_URL" --pg-admin "$PG_ADMIN" --psql "$PGBIN/psql" \
        --pid-file "$DIR/api.pid" --log "$DIR/api.log" </dev/null >>"$DIR/api.log" 2>&1 9>&- &
    echo "$!" >"$DIR/api.pid"
    # Both ports must answer: a verified TLS handshake on the API port (no HTTP
    # request, so nothing is recorded) and GET /requests on the control port.
    "$PY" - "$API_PORT" "$CONTROL_PORT" "$DIR/ca.crt" "$!" <<'EOF' ||
import http.client, os, socket, ssl, sys, time
api, control, cafile, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=cafile)
deadline = time.monotonic() + 10
while True:
    try:
        with socket.create_connection(("127.0.0.1", api), timeout=2) as raw:
            ctx.wrap_socket(raw, server_hostname="127.0.0.1").close()
        conn = http.client.HTTPConnection("127.0.0.1", control, timeout=2)
        conn.request("GET", "/requests")
        if conn.getresponse().status == 200:
            sys.exit(0)
    except OSError as exc:
        error = exc
    if time.monotonic() > deadline:
        sys.exit(f"API double not answering after 10 s: {error}")
    try:
        with open(f"/proc/{pid}/stat") as f:
            exited = f.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        exited = True
    if exited:
        sys.exit("API double exited")
    time.sleep(0.05)
EOF
        { tail -n 20 "$DIR/api.log" >&2; die "Heroku API double did not come up"; }
}

write_env() {  # NAME VALUE ...
    local lines=
    while (($#)); do lines+="export $1=$(quote "$2")"$'\n'; shift 2; done
    printf '%s' "$lines" >"$DIR/env.tmp"
    mv "$DIR/env.tmp" "$DIR/env"
}

stop_double() {
    local pid
    [[ -f $DIR/api.pid ]] || return 0
    pid=$(<"$DIR/api.pid") || return 0
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    # Only our own double: its command line names the double and this DIR.
    if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
        grep -qF -e "heroku_api_double.py" && tr '\0' ' ' <"/proc/$pid/cmdline" |
        grep -qF -e "$DIR/api.pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" 50; then
            say "API double $pid ignored SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 50 || say "warning: API double $pid is still there"
        fi
    fi
    rm -f "$DIR/api.pid"
}

stop_postgres() {
    local data=$DIR/pgdata pid
    [[ -f $data/postmaster.pid ]] || return 0
    pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null) || return 0
    PGBIN=${PGBIN:-$(find_pgbin)} || { say "warning: no PostgreSQL binaries found"; return 0; }
    [[ $pid =~ ^[0-9]+$ ]] || pid=
    if as_pg "$PGBIN/pg_ctl" -D "$data" -w -t 15 -s stop -m fast >/dev/null 2>&1 ||
        as_pg "$PGBIN/pg_ctl" -D "$data" -w -t 10 -s stop -m immediate >/dev/null 2>&1; then
        # pg_ctl returns once postmaster.pid is gone; let the postmaster finish exiting.
        [[ -z $pid ]] || wait_gone "$pid" 50 || true
        return 0
    fi
    if [[ -n $pid ]] && alive "$pid"; then
        say "PostgreSQL $pid did not stop; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 50 || say "warning: PostgreSQL $pid is still there"
    fi
}

up_exit() {  # EXIT trap of `up`: undo everything unless we got to the end
    local rc=$?
    exec 2>&9
    if ((rc)); then say "setting up failed; tearing down"; teardown; fi
    exit "$rc"
}

teardown() {
    stop_double
    stop_postgres
    rm -rf -- "$DIR"
}

cmd_up() {
    # The path ends up in postgresql.conf, conninfo strings and a unix socket name.
    [[ $DIR =~ ^[A-Za-z0-9/._+-]+$ ]] || die "DIR must be a plain path ([A-Za-z0-9/._+-])"
    ((${#DIR} <= 80)) || die "DIR path is too long for a unix socket path"
    [[ ! -e $DIR || -d $DIR ]] || die "$DIR exists and is not a directory"
    if [[ -d $DIR && -n $(ls -A "$DIR") ]]; then die "$DIR is not empty"; fi
    PGBIN=$(find_pgbin) || die "no PostgreSQL found under /usr/lib/postgresql/*/bin"
    [[ -f $DOUBLE ]] || die "missing $DOUBLE"
    mkdir -p "$DIR"
    : >"$DIR/$MARKER"
    # A trap may run while a command's redirections are still in effect: keep the
    # real stderr on fd 9 for it (long-lived children get 9>&-).
    exec 9>&2
    trap up_exit EXIT
    trap 'exit 130' INT TERM

    if is_root; then SUPERUSER=postgres; else SUPERUSER=$(id -un); fi
    read -r PG_PORT API_PORT CONTROL_PORT < <(free_ports 3)
    [[ -n $CONTROL_PORT ]] || die "could not find free ports"
    DB_PASSWORD=$(openssl rand -hex 12)
    TOKEN=HRKU-$(openssl rand -hex 16)
    FORBIDDEN_TOKEN=HRKU-$(openssl rand -hex 16)
    APP_ID=$("$PY" -c 'import uuid; print(uuid.uuid4())')
    PG_ADMIN="host=$DIR/sock port=$PG_PORT user=$SUPERUSER dbname=postgres"
    DB_URL="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"

    say "test CA and server certificate"
    make_certs
    say "PostgreSQL cluster on 127.0.0.1:$PG_PORT"
    init_postgres
    start_postgres
    say "Heroku API double on 127.0.0.1:$API_PORT (control $CONTROL_PORT)"
    start_double

    write_env HPQ_TEST_DIR "$DIR" HPQ_PGBIN "$PGBIN" HPQ_PG_PORT "$PG_PORT" \
        HPQ_PG_SOCKDIR "$DIR/sock" HPQ_PG_ADMIN "$PG_ADMIN" \
        HPQ_DB_USER "$DB_USER" HPQ_DB_NAME "$DB_NAME" HPQ_DB_PASSWORD "$DB_PASSWORD" \
        HPQ_DB_URL "$DB_URL" HPQ_API_URL "https://127.0.0.1:$API_PORT" \
        HPQ_API_CONTROL "http://127.0.0.1:$CONTROL_PORT" HPQ_CAFILE "$DIR/ca.crt" \
        HPQ_APP "$APP" HPQ_APP_ID "$APP_ID" HPQ_TOKEN "$TOKEN" \
        HPQ_FORBIDDEN_TOKEN "$FORBIDDEN_TOKEN"
    trap - EXIT INT TERM
    exec 9>&-
    say "ready: source $DIR/env"
}

cmd_down() {
    [[ -e $DIR ]] || return 0
    [[ -d $DIR ]] || die "$DIR is not a directory"
    if [[ ! -e $DIR/$MARKER ]]; then
        if [[ -z $(ls -A "$DIR") ]]; then rmdir -- "$DIR"; return 0; fi
        die "$DIR was not made by '$PROG up'; not removing it"
    fi
    PGBIN=
    teardown
}

[[ $# -eq 2 && -n $2 ]] || usage
DIR=$(realpath -m -- "$2")
[[ $DIR != / ]] || die "refusing to use /"
case $1 in
    up) cmd_up ;;
    down) cmd_down ;;
    *) usage ;;
esac
