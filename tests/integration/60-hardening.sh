# shellcheck shell=bash
# Hardening: what a config var may do (no Unix socket, no libpq options, no
# files), secrets that never show, the token and proxies, errno and signal
# handlers, wiping kept by the compiler. Hostile URLs are served as one-off API
# answers (faults), so the double's own config var is never changed.

# Serve URL as the config var's value until the fault is cleared.
serve_url() {
    api POST /fault "$(python3 -c 'import json,sys; print(json.dumps({"status": 200, "count": -1, "body": json.dumps({"DATABASE_URL": sys.argv[1]})}))' "$1")" >/dev/null
}
served_done() { api POST /fault/clear >/dev/null; }

pct() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

# The app's URL as the double serves it now.
good_url() { echo "postgres://app_user:$(pct "$(current_password)")@127.0.0.1:$HPQ_PG_PORT/app_db"; }

local_connections() { grep -c 'connection received: host=\[local\]' "$HPQ_TEST_DIR/postgresql.log" 2>/dev/null || echo 0; }

# --- defect 1: a URL naming a Unix-domain socket never gets a connection without SSL ------------
t_socket_host_refused() {
    local pw sock url before after
    pw=$(pct "$(current_password)")
    sock=$(pct "$HPQ_PG_SOCKDIR")
    for url in "postgres://app_user:$pw@$sock:$HPQ_PG_PORT/app_db" \
        "postgres://app_user:$pw@127.0.0.1:$HPQ_PG_PORT/app_db?host=$sock" \
        "postgres://app_user:$pw@127.0.0.1:$HPQ_PG_PORT,$sock:$HPQ_PG_PORT/app_db" \
        "postgres://app_user:$pw@%40hpq-abstract:$HPQ_PG_PORT/app_db"; do
        serve_url "$url"
        before=$(local_connections)
        run shim "$CONNECT" "$(fallback_conninfo)"
        after=$(local_connections)
        if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && [ "$before" = "$after" ] &&
            grep -q '^herokupq: error: .*Unix-domain socket.*refusing it' <<<"$ERR"; then
            pass "a config var naming a Unix socket ($(sed "s|$pw|PW|; s|$sock|SOCKDIR|" <<<"${url#*@}")) is refused: one error line, the program's own parameters over SSL, no local connection"
        else fail "socket URL ${url#*@}" "rc=$RC out=$OUT local connections $before -> $after" "$ERR"; fi
        run shim HEROKUPQ_STRICT=1 "$CONNECT" "$(fallback_conninfo)"
        after=$(local_connections)
        if [ "$RC" = 1 ] && grep -q '^error herokupq: .*Unix-domain socket' <<<"$OUT" && [ "$before" = "$after" ]; then
            pass "the same with HEROKUPQ_STRICT=1: the connection fails and says why"
        else fail "socket URL, strict" "rc=$RC out=$OUT local connections $before -> $after" "$ERR"; fi
    done
    served_done
}

# --- defect 2: query parameters do not reach libpq ---------------------------------------------------
t_url_options_not_injected() {
    serve_url "$(good_url)?options=-c%20search_path%3Dhpq_injected&application_name=from_the_var"
    run shim "${PSQL[@]}" -c "SELECT current_setting('search_path') || '|' || current_setting('application_name')"
    served_done
    if [ "$RC" = 0 ] && [ "$OUT" = '"$user", public|psql' ] &&
        grep -q '^herokupq: warn: config var DATABASE_URL of app .* sets options, application_name: ignored' <<<"$ERR" &&
        ! grep -q 'hpq_injected\|from_the_var' <<<"$ERR"; then
        pass "a config var's options= and application_name= are dropped (search_path untouched), one warning naming the keys, not the values"
    else fail "options= in the config var" "rc=$RC out=$OUT" "$ERR"; fi
}

t_url_files_not_read() {
    local f
    for f in root.crt client.crt client.key crl pgpass service.conf; do cp "$HPQ_CAFILE" "$WORK/probe-$f"; done
    printf '[probe_service]\nhost=/nonexistent\n' >"$WORK/probe-service.conf"
    serve_url "$(good_url)?sslrootcert=$WORK/probe-root.crt&sslcert=$WORK/probe-client.crt&sslkey=$WORK/probe-client.key&sslcrl=$WORK/probe-crl&passfile=$WORK/probe-pgpass&service=probe_service&sslmode=verify-ca"
    if command -v strace >/dev/null; then
        # The program's own root certificate (PGSSLROOTCERT) serves the URL's verify-ca.
        # LeakSanitizer cannot run in a traced process (the sanitizer run's ASan programs).
        run shim PGSERVICEFILE="$WORK/probe-service.conf" PGSSLROOTCERT="$HPQ_CAFILE" HEROKUPQ_LOG=warn \
            ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
            strace -f -qq -e trace=%file -o "$WORK/strace.out" "$CONNECT" "$(stale_url)"
        local opened
        # libpq opens PGSERVICEFILE only for a named service: the config var's.
        opened=$(grep -c 'probe-' "$WORK/strace.out")
        if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && [ "$opened" = 0 ]; then
            pass "a config var's sslrootcert, sslcert, sslkey, sslcrl, passfile and service are not used (no such file touched, strace); its stronger verify-ca is, with the program's own root certificate"
        else fail "files named by the config var" "rc=$RC out=$OUT files touched: $opened" "$(grep 'probe-' "$WORK/strace.out" | head -5)" "$ERR"; fi
    else
        skip "files named by the config var are not read" "strace is not installed"
    fi
    served_done
}

# The floor is in what libpq gets; a stronger program value survives.
t_tls_floor() {
    run shim "$CONNECT" "$(stale_url)"
    local plain=$ERR rc1=$RC
    run shim PGSSLMINPROTOCOLVERSION=TLSv1.3 "${PSQL[@]}" "$(stale_url)" \
        -c "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    if [ "$rc1" = 0 ] && grep -q "connecting with .*ssl_min_protocol_version='TLSv1.2'" <<<"$plain" &&
        [ "$RC" = 0 ] && [ "$OUT" = TLSv1.3 ] && grep -q "ssl_min_protocol_version='TLSv1.3'" <<<"$ERR"; then
        pass "ssl_min_protocol_version is at least TLSv1.2; the program's TLSv1.3 (PGSSLMINPROTOCOLVERSION) is kept"
    else fail "TLS floor" "rc=$rc1/$RC out=$OUT" "$plain" "$ERR"; fi
}

# --- defects 3 and 4: no password in any line, whatever it holds ---------------------------------
# Connect as roles whose passwords hold @ : / ' \ = and blanks, or are short.
make_role() { # NAME PASSWORD
    local q=${2//\'/\'\'}
    psql -X -q "$HPQ_PG_ADMIN" -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS $1" -c "CREATE ROLE $1 LOGIN PASSWORD '$q'" >/dev/null
}

# Whether a short secret shows: as a value, in a URL, or through a mask inside a word.
short_shows() { # SECRET TEXT
    grep -qF -e ":$1@" -e "password=$1" -e "password='$1'" <<<"$2" || grep -qE '[[:alnum:]]\*{8}[[:alnum:]]' <<<"$2"
}

# A long secret shows whole, or its part after an '@' or a quote (where a mask
# that trusts the text would end); a short one as short_shows says.
long_or_short_shows() { # SECRET TEXT
    local tail
    if [ "${#1}" -lt 4 ]; then short_shows "$1" "$2"; return; fi
    grep -qF -- "$1" <<<"$2" && return 0
    for tail in "${1##*@}" "${1##*\'}"; do
        [ "$tail" != "$1" ] && [ "${#tail}" -ge 4 ] && grep -qF -- "$tail" <<<"$2" && return 0
    done
    return 1
}

t_tricky_passwords() {
    local i=0 pw role leaks=""
    local -a pws=("p@ss:w/rd@x-$RANDOM" "it's-$RANDOM" "back\\slash-$RANDOM" "a=b c-$RANDOM" "debug" "herokupq" "e" "ab" "xyz")
    for pw in "${pws[@]}"; do
        i=$((i + 1))
        role=hpq_tricky_$i
        make_role "$role" "$pw"
        [ "${#pw}" -ge 4 ] && [ "$pw" != debug ] && [ "$pw" != herokupq ] && remember_secret "$pw"
        serve_url "postgres://$role:$(pct "$pw")@127.0.0.1:$HPQ_PG_PORT/app_db"
        # The program's own password holds the same characters, beside an option with a URL.
        run shim "$CONNECT" "host=127.0.0.1 port=$HPQ_PG_PORT dbname=app_db user=$role password='${pw//\'/\\\'}' application_name='https://svc.example:443'"
        [ "$RC" = 0 ] && [ "$OUT" = "ok user=$role db=app_db ssl=t" ] || leaks+=" [$pw: rc=$RC $OUT]"
        long_or_short_shows "$pw" "$ERR$OUT" && leaks+=" [$pw shown]"
        served_done
        # The API failing: the fallback prints the program's own conninfo.
        api POST /fault '{"status": 503, "count": -1}' >/dev/null
        run shim "$CONNECT" "host=127.0.0.1 port=$HPQ_PG_PORT dbname=app_db user=$role password='${pw//\'/\\\'}' application_name='https://svc.example:443'"
        long_or_short_shows "$pw" "$ERR$OUT" && leaks+=" [$pw shown in fallback]"
        served_done
        psql -X -q "$HPQ_PG_ADMIN" -c "DROP ROLE $role" >/dev/null
    done
    if [ -z "$leaks" ]; then pass "${#pws[@]} passwords with @ : / ' \\ = blanks, 'debug', and of 1-3 characters: each connects, none shows at debug level (URL, conninfo, fallback)"
    else fail "tricky passwords" "$leaks" "$ERR"; fi
}

# Defect 4: after 40 distinct passwords, an API error that echoes the token.
t_token_never_forgotten() {
    local script=$WORK/forty.sql i fault
    fault=$(python3 -c 'import json,sys; print(json.dumps({"status": 401, "count": -1, "body": json.dumps({"id": "unauthorized", "message": "Invalid credentials: " + sys.argv[1]})}))' "$HPQ_TOKEN")
    : >"$script"
    for i in $(seq 1 41); do
        remember_secret "prog-pw-$i-$$"
        printf '\\connect "host=127.0.0.1 port=%s dbname=app_db user=app_user password=prog-pw-%s-%s sslmode=disable"\n' "$HPQ_PG_PORT" "$i" "$$" >>"$script"
    done
    printf "\\\\! curl -s -X POST -d '%s' %s/fault >/dev/null\n" "$fault" "$HPQ_API_CONTROL" >>"$script"
    printf '\\connect "host=127.0.0.1 port=%s dbname=app_db user=app_user password=prog-pw-last-%s"\n' "$HPQ_PG_PORT" "$$" >>"$script"
    echo "SELECT 'after ' || current_user;" >>"$script"
    run shim HEROKUPQ_TTL=0 "${PSQL[@]}" -f "$script"
    served_done
    if [ "$RC" = 0 ] && [ "$OUT" = "after app_user" ] && grep -q '^herokupq: error: Heroku API answered 401' <<<"$ERR" &&
        ! grep -qF -- "$HPQ_TOKEN" <<<"$ERR" && ! grep -q 'prog-pw-' <<<"$ERR"; then
        pass "after 41 distinct program passwords, an API error echoing the token shows neither the token nor any password"
    else fail "token after 40 passwords" "rc=$RC out=$OUT" "$(grep -F -e "$HPQ_TOKEN" -e prog-pw- <<<"$ERR" | head -3)"; fi
}

# Defect 5: HEROKU_HOST with user information.
t_heroku_host_userinfo() {
    local hostpw=hostpass-$RANDOM$RANDOM
    remember_secret "$hostpw"
    run shim HEROKUPQ_STRICT=1 HEROKU_HOST="https://someone:$hostpw@${HPQ_API_URL#https://}" "$CONNECT" "$(fallback_conninfo)"
    if [ "$RC" = 1 ] && ! grep -qF -- "$hostpw" <<<"$OUT$ERR" && ! grep -q 'someone' <<<"$OUT$ERR" &&
        grep -q '^herokupq: warn: HEROKU_HOST=https://\*\*\*\*\*\*\*\*@127.0.0.1:[0-9]* has user information: refused' <<<"$ERR" &&
        grep -q '^error herokupq: HEROKU_HOST is refused' <<<"$OUT"; then
        pass "HEROKU_HOST with user information is refused; neither the log nor PQerrorMessage shows it"
    else fail "HEROKU_HOST userinfo" "rc=$RC out=$OUT" "$ERR"; fi
}

# --- defect 6: the token never reaches a proxy in clear ----------------------------------------------
# A loopback listener that records whatever reaches it (bounded: 30 s idle).
start_recorder() { # LOG PORTFILE
    python3 - "$1" "$2" <<'PY' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8); s.settimeout(30)
open(sys.argv[2], "w").write(str(s.getsockname()[1]))
with open(sys.argv[1], "ab") as log:
    while True:
        try:
            c, _ = s.accept()
        except socket.timeout:
            break
        c.settimeout(2)
        try:
            log.write(c.recv(65536)); log.flush()
            c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
        c.close()
PY
    RECORDER=$!
    wait_for_line '^[0-9]+$' "$2" 50
}

t_proxy_never_gets_the_token() {
    : >"$WORK/proxy.log"
    rm -f "$WORK/proxy.port"
    start_recorder "$WORK/proxy.log" "$WORK/proxy.port"
    local proxy="http://127.0.0.1:$(cat "$WORK/proxy.port")"
    # Plain http to a loopback API (the control plane answers, with a 404).
    run shim HEROKU_HOST="$HPQ_API_CONTROL" http_proxy="$proxy" HTTP_PROXY="$proxy" ALL_PROXY="$proxy" \
        "$CONNECT" "$(fallback_conninfo)"
    local rc1=$RC out1=$OUT
    api_reset
    run shim https_proxy="$proxy" HTTPS_PROXY="$proxy" ALL_PROXY="$proxy" "$CONNECT" "$(stale_url)"
    local n
    n=$(api_count)
    kill "$RECORDER" 2>/dev/null
    wait "$RECORDER" 2>/dev/null
    if [ "$rc1" = 0 ] && [ "$out1" = "$OK_LINE" ] && [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && [ "$n" = 1 ] &&
        [ ! -s "$WORK/proxy.log" ]; then
        pass "with http_proxy, https_proxy and ALL_PROXY set, a loopback API is reached directly: the proxy receives nothing, the token least of all"
    else fail "proxy and a loopback API" "rc=$rc1/$RC out=$out1/$OUT api=$n proxy got $(wc -c <"$WORK/proxy.log") bytes, token: $(grep -c -F -- "$HPQ_TOKEN" "$WORK/proxy.log")" "$ERR"; fi
}

# --- defect 9: a NUL in the config var; a netrc others can read ---------------------------------------
t_nul_in_config_var() {
    api POST /fault "$(python3 -c 'import json,sys; print(json.dumps({"status": 200, "count": -1, "body": "{\"DATABASE_URL\": \"" + sys.argv[1] + "\\u0000?host=/tmp\"}"}))' "$(good_url)")" >/dev/null
    run shim "$CONNECT" "$(fallback_conninfo)"
    served_done
    if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && grep -q '^herokupq: error: config var DATABASE_URL of app .* holds a NUL character' <<<"$ERR"; then
        pass "a config var holding \\u0000 is refused (not cut short): one error line, the program's own parameters"
    else fail "NUL in the config var" "rc=$RC out=$OUT" "$ERR"; fi
}

t_netrc_readable_by_others() {
    printf 'machine 127.0.0.1\n  login tests@example.com\n  password %s\n' "$HPQ_TOKEN" >"$WORK/netrc-open"
    chmod 644 "$WORK/netrc-open"
    run shim HEROKU_API_KEY= NETRC="$WORK/netrc-open" HEROKUPQ_TTL=0 "$CONNECT" -r 2 "$(stale_url)"
    local warned rc1=$RC
    warned=$(grep -c 'netrc file .* can be read by others (mode 644)' <<<"$ERR")
    chmod 600 "$WORK/netrc-open"
    run shim HEROKU_API_KEY= NETRC="$WORK/netrc-open" "$CONNECT" "$(stale_url)"
    local rc2=$RC err2=$ERR
    # libcurl reads the token from the file: an answer echoing it must not print it.
    api POST /fault "$(python3 -c 'import json,sys; print(json.dumps({"status": 401, "count": -1, "body": json.dumps({"id": "unauthorized", "message": "Invalid credentials: " + sys.argv[1]})}))' "$HPQ_TOKEN")" >/dev/null
    run shim HEROKU_API_KEY= NETRC="$WORK/netrc-open" "$CONNECT" "$(fallback_conninfo)"
    served_done
    if [ "$rc1" = 0 ] && [ "$warned" = 1 ] && [ "$rc2" = 0 ] && ! grep -q 'read by others' <<<"$err2" &&
        [ "$RC" = 0 ] && grep -q '^herokupq: error: Heroku API answered 401' <<<"$ERR" && ! grep -qF -- "$HPQ_TOKEN" <<<"$ERR"; then
        pass "a netrc file others can read gets one warning per process (two fetches), a 0600 one none; its token is scrubbed from an API error that echoes it"
    else fail "netrc mode" "rc=$rc1/$rc2/$RC warned=$warned" "$err2" "$ERR"; fi
}

# --- defect 7: errno; no signal handlers ------------------------------------------------------------
t_errno_and_signals() {
    run shim HEROKUPQ_TTL=3600 HEROKUPQ_RETRY_MS=5000 "$PROGS/errno_client" "$(stale_url)"
    if [ "$RC" = 0 ] && [ "$(grep -c '^ok ' <<<"$OUT")" = 8 ]; then
        pass "errno is the program's across PQconnectdb (reading the configuration), PQping, PQconnectStart/Poll, PQfinish; no signal handler installed"
    else fail "errno and signal handlers" "rc=$RC" "$OUT" "$ERR"; fi
}

# --- defect 8: the wipe survives -O2 --------------------------------------------------------------
t_wipe_kept_by_the_compiler() {
    local dis o missing=""
    dis=$(objdump -d --no-show-raw-insn --disassemble=hpq_free_secret "$SHIM" 2>/dev/null)
    for o in connect conns cache rewrite config source log; do
        nm "$(dirname "$SHIM")/shim/$o.o" 2>/dev/null | grep -qE ' U (hpq_free_secret|hpq_wipe|explicit_bzero)$' || missing+=" $o.o"
    done
    if grep -qE '(call|jmp).*<explicit_bzero@plt>' <<<"$dis" && [ -z "$missing" ]; then
        pass "secrets are wiped with explicit_bzero, present in the -O2 library's disassembly, used by every file that frees one"
    else fail "wipe at -O2" "missing in:$missing" "$(head -20 <<<"$dis")"; fi
}

tests t_socket_host_refused t_url_options_not_injected t_url_files_not_read t_tls_floor \
    t_tricky_passwords t_token_never_forgotten t_heroku_host_userinfo t_proxy_never_gets_the_token \
    t_nul_in_config_var t_netrc_readable_by_others t_errno_and_signals t_wipe_kept_by_the_compiler
