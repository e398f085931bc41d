# shellcheck shell=bash
# Shipping: the herokupq command (run, doctor, url), the version, install and
# uninstall, the Debian package, a minimal Debian root like a container image.
# Sourced by tests/run.sh (see tests/lib.sh for pass/fail/skip/run/shim/api).

HPQ_CMD=$ROOT/build/herokupq

# The command configured for the local Heroku (the library is found beside it).
# The command and what it preloads keep their shared cache in this run's own
# directory (a test's NAME=VALUE may override it), never in the user's.
hpq() {
    env HEROKU_API_KEY="$HPQ_TOKEN" HEROKU_HOST="$HPQ_API_URL" HEROKUPQ_CAFILE="$HPQ_CAFILE" \
        HEROKUPQ_CACHE_DIR="$WORK/cmd-cache" "$@"
}

version_h() { sed -n 's/^#define HPQ_VERSION "\(.*\)"/\1/p' "$ROOT/shim/version.h"; }

t_cmd_runs_program() {
    run hpq "$HPQ_CMD" -a "$HPQ_APP" -- "${PSQL[@]}" -c "$WHOAMI"
    if [ "$RC" = 0 ] && [ "$OUT" = "app_user|app_db|t" ]; then
        pass "herokupq -a APP -- psql reaches the app's database over SSL"
    else fail "herokupq -a APP -- psql" "rc=$RC out=$OUT" "$ERR"; fi

    # An existing preload stays, in front; the program's exit status comes back.
    local other lib
    other=$(ldconfig -p | sed -n 's/.*libm\.so\.6 (libc6,x86-64) => //p' | head -n1)
    lib=$(realpath "$SHIM")
    run hpq env LD_PRELOAD="$other" "$HPQ_CMD" -a "$HPQ_APP" sh -c \
        'echo "$LD_PRELOAD"; psql -X -q -A -t -c "$1"; exit 7' _ "$WHOAMI"
    if [ "$RC" = 7 ] && [ "$OUT" = "$other:$lib"$'\n'"app_user|app_db|t" ]; then
        pass "an existing LD_PRELOAD entry is kept (the library appended), the program's exit status (7) comes back"
    else fail "existing LD_PRELOAD kept, exit status" "rc=$RC out=$OUT" "$ERR"; fi

    run "$HPQ_CMD" -a "$HPQ_APP" -- no-such-program-hpq
    local nf=$RC
    run "$HPQ_CMD" -a "$HPQ_APP" -- "$ROOT/README.md"
    if [ "$nf" = 127 ] && [ "$RC" = 126 ]; then pass "a program that is not found exits 127, one that cannot run 126"
    else fail "127/126" "not found rc=$nf, not executable rc=$RC" "$ERR"; fi
}

t_cmd_version() {
    local v; v=$(version_h)
    run "$HPQ_CMD" --version
    local out_v=$OUT
    api_reset
    run shim "$CONNECT"
    local ua
    ua=$(api GET /requests | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"][0]["user_agent"])')
    if [ -n "$v" ] && [ "$out_v" = "herokupq $v" ] && [ "$ua" = "herokupq/$v" ] &&
        grep -q "herokupq: debug: herokupq $v, URL from app $HPQ_APP" <<<"$ERR"; then
        pass "the version ($v, from shim/version.h) is printed by --version, logged at debug, sent as User-Agent herokupq/$v"
    else fail "version" "version.h=$v --version=$out_v user-agent=$ua" "$ERR"; fi
}

t_cmd_url() {
    local pw; pw=$(current_password)
    run hpq "$HPQ_CMD" url -a "$HPQ_APP"
    local masked=$OUT
    HPQ_SHOWS_SECRET=1 run hpq "$HPQ_CMD" url -a "$HPQ_APP" --show-password
    if [ "$RC" = 0 ] && [[ $OUT == *":$pw@"* ]] && [[ $masked != *"$pw"* ]] && [[ $masked == *"://********@"* ]]; then
        pass "herokupq url masks the password; --show-password prints the current URL"
    else fail "herokupq url" "masked=$masked" "rc=$RC" "$ERR"; fi
}

# Ten connections in one process: one line saying where they go.
t_info_says_where_once() {
    run shim HEROKUPQ_LOG=info "$CONNECT" -r 10
    local n ok
    n=$(grep -c 'herokupq: info: connections go to' <<<"$ERR")
    ok=$(grep -c '^ok ' <<<"$OUT")
    if [ "$RC" = 0 ] && [ "$ok" = 10 ] && [ "$n" = 1 ] &&
        grep -q "connections go to app $HPQ_APP, config var DATABASE_URL: host 127.0.0.1, port $HPQ_PG_PORT, database app_db\$" <<<"$ERR" &&
        [ "$(grep -c . <<<"$ERR")" = 1 ]; then
        pass "HEROKUPQ_LOG=info: ten connections in one process print exactly one 'connections go to' line (app, var, host, port, database; nothing else)"
    else fail "one 'connections go to' line per process" "rc=$RC ok=$ok lines=$n" "$ERR"; fi
}

# The control call directly: `rotate` parses its answer with a python3 that can
# take seconds to start on a loaded machine, longer than the var's lag.
start_rotation() { api POST /rotate "{\"order\": \"$1\", \"delay_ms\": $2}" >/dev/null; }

t_info_says_rotation_once() {
    start_rotation db-first 3000
    wait_first_half db-first
    run shim HEROKUPQ_LOG=info "$CONNECT"
    wait_rotation
    local n; n=$(grep -c 'rotation' <<<"$ERR")
    if [ "$RC" = 0 ] && [ "$n" = 1 ] && [ "$(grep -c . <<<"$ERR")" = 2 ]; then
        pass "HEROKUPQ_LOG=info: a rotation handled is one line (plus the one saying where connections go)"
    else fail "one line per rotation" "rc=$RC rotation lines=$n" "$ERR"; fi
}

t_doctor_passes() {
    local pw; pw=$(current_password)
    run hpq "$HPQ_CMD" doctor -a "$HPQ_APP"
    local oks; oks=$(grep -c '^ok ' <<<"$OUT")
    if [ "$RC" = 0 ] && ! grep -q '^FAIL' <<<"$OUT" && [ "$oks" -ge 12 ] &&
        grep -q '^all checks passed$' <<<"$OUT" &&
        grep -q '^ok   TLS version: TLSv1\.[23]' <<<"$OUT" && grep -q '^ok   server version: PostgreSQL 1' <<<"$OUT" &&
        [[ $OUT != *"$HPQ_TOKEN"* && $OUT != *"$pw"* ]]; then
        pass "herokupq doctor passes against the local set-up ($oks checks ok, TLS and server version shown, no secret printed)"
    else fail "herokupq doctor passes" "rc=$RC" "$OUT" "$ERR"; fi
}

# doctor_fails WHAT CHECK FIX CMD...: the doctor exits non-zero, its CHECK line
# is a FAIL and the line after it is a fix matching the regex FIX.
doctor_fails() {
    local what=$1 check=$2 fix=$3 next pw
    shift 3
    pw=$(current_password)
    run "$@"
    next=$(grep -A1 "^FAIL $check:" <<<"$OUT" | sed -n 2p)
    if [ "$RC" = 1 ] && [[ $next =~ ^\ +fix:\ .*$fix ]] &&
        [[ $OUT != *"$HPQ_TOKEN"* && $OUT != *"$pw"* && $OUT != *"$HPQ_FORBIDDEN_TOKEN"* ]]; then
        pass "doctor, $what: FAIL $check, $(sed 's/^ *//' <<<"$next" | cut -c1-90)"
    else fail "doctor, $what: FAIL $check with a fix" "rc=$RC" "$OUT" "$ERR"; fi
}

set_var() { api POST /config-vars "{\"vars\": {\"$1\": $2}}" >/dev/null; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A server that answers SSLRequest with 'N', as PostgreSQL with ssl=off does.
start_no_ssl_server() {  # PORT; sets NOSSL_PID
    python3 - "$1" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); s.settimeout(60)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    c.recv(8); c.sendall(b"N"); c.close()
PY
    NOSSL_PID=$!
    for _ in $(seq 1 50); do
        python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null && return 0
        sleep 0.1
    done
}

t_doctor_failures() {
    local app=$HPQ_APP down nossl
    : >"$WORK/empty-netrc"
    : >"$WORK/empty.pem"
    doctor_fails "no token" "token" "HEROKU_API_KEY" \
        env -u HEROKU_API_KEY NETRC="$WORK/empty-netrc" HEROKU_HOST="$HPQ_API_URL" \
        HEROKUPQ_CAFILE="$HPQ_CAFILE" "$HPQ_CMD" doctor -a "$app"
    doctor_fails "refused token (401)" "token accepted" "authorizations:create" \
        hpq env HEROKU_API_KEY=HRKU-00000000-not-a-token "$HPQ_CMD" doctor -a "$app"
    doctor_fails "token without access (403)" "token scope" "read-protected" \
        hpq env HEROKU_API_KEY="$HPQ_FORBIDDEN_TOKEN" "$HPQ_CMD" doctor -a "$app"
    doctor_fails "unknown app" "app" "heroku apps" hpq "$HPQ_CMD" doctor -a hpq-no-such-app
    doctor_fails "missing config var" "config var" "HEROKUPQ_CONFIG_VAR" \
        hpq "$HPQ_CMD" doctor -a "$app" --var HPQ_SHIP_MISSING_URL
    set_var HPQ_SHIP_MYSQL_URL '"mysql://hpq_user:hpq-not-a-password@127.0.0.1/db"'
    doctor_fails "config var not a postgres URL" "config var" "postgres://" \
        hpq "$HPQ_CMD" doctor -a "$app" --var HPQ_SHIP_MYSQL_URL
    down=$(free_port)
    set_var HPQ_SHIP_DOWN_URL "\"postgres://hpq_user:hpq-not-a-password@127.0.0.1:$down/db\""
    doctor_fails "database down" "database reachable" "pg:info" \
        hpq "$HPQ_CMD" doctor -a "$app" --var HPQ_SHIP_DOWN_URL
    nossl=$(free_port)
    start_no_ssl_server "$nossl"
    set_var HPQ_SHIP_NOSSL_URL "\"postgres://hpq_user:hpq-not-a-password@127.0.0.1:$nossl/db\""
    doctor_fails "server without SSL" "SSL" "SSL" hpq "$HPQ_CMD" doctor -a "$app" --var HPQ_SHIP_NOSSL_URL
    kill "$NOSSL_PID" 2>/dev/null; wait "$NOSSL_PID" 2>/dev/null
    mkdir -p "$WORK/ship-cache" && chmod 775 "$WORK/ship-cache"
    doctor_fails "cache directory group-writable" "cache directory" "chmod 700" \
        hpq env HEROKUPQ_CACHE_DIR="$WORK/ship-cache" "$HPQ_CMD" doctor -a "$app"
    doctor_fails "CA bundle missing (HEROKUPQ_CAFILE empty)" "CA bundle" "HEROKUPQ_CAFILE" \
        hpq env HEROKUPQ_CAFILE="$WORK/empty.pem" "$HPQ_CMD" doctor -a "$app"
    set_var HPQ_SHIP_MYSQL_URL null; set_var HPQ_SHIP_DOWN_URL null; set_var HPQ_SHIP_NOSSL_URL null
}

# The doctor's rows as "TAG NAME", the database's own rows folded into one "database"
# ("--" rows keep their reason: "-- NAME (WHY)").
doctor_rows() {
    sed -nE -e 's/^(ok|FAIL) +(database reachable|SSL|database login|SSL in use|TLS version|server version):.*/\1 database/p' \
        -e 't' -e 's/^--   ([^:]+): skipped, (.+)$/-- \1 (\2)/p' -e 's/^(ok|FAIL) +([^:]+):.*/\1 \2/p' <<<"$1" | uniq
}

# doctor_skips WHAT ROWS CMD...: the doctor prints exactly ROWS (one per line, as doctor_rows).
doctor_skips() {
    local what=$1 want=$2 got
    shift 2
    run "$@"
    got=$(doctor_rows "$OUT")
    if [ "$RC" = 1 ] && [ "$got" = "$want" ]; then
        pass "doctor, $what: every row it did not check is listed as skipped, with why ($(grep -c '^--' <<<"$OUT") rows)"
    else fail "doctor, $what: every row listed" "rc=$RC" "got:" "$got" "want:" "$want" "$OUT"; fi
}

t_doctor_skips() {
    local app=$HPQ_APP head tail
    head=$'ok configuration\nok library\nok token'
    tail=$'ok cache directory\nok CA bundle'
    doctor_skips "refused token (401)" "$head"$'\nok API\nFAIL token accepted
-- app (the API refused the token (401))
-- token scope (the API refused the token (401))
-- config var (the API refused the token (401))
-- database (the API refused the token (401))\n'"$tail" \
        hpq env HEROKU_API_KEY=HRKU-00000000-not-a-token "$HPQ_CMD" doctor -a "$app"
    doctor_skips "unknown app (404)" "$head"$'\nok API\nok token accepted\nFAIL app
-- token scope (the API knows no such app for this token (404))
-- config var (the API knows no such app for this token (404))
-- database (the API knows no such app for this token (404))\n'"$tail" \
        hpq "$HPQ_CMD" doctor -a hpq-no-such-app
    doctor_skips "token without access (403)" "$head"$'\nok API\nok token accepted\nok app\nFAIL token scope
-- config var (the API gave no config vars (403))
-- database (the API gave no config vars (403))\n'"$tail" \
        hpq env HEROKU_API_KEY="$HPQ_FORBIDDEN_TOKEN" "$HPQ_CMD" doctor -a "$app"
    doctor_skips "missing config var" "$head"$'\nok API\nok token accepted\nok app\nok token scope\nFAIL config var
-- database (no database URL)\n'"$tail" \
        hpq "$HPQ_CMD" doctor -a "$app" --var HPQ_SHIP_MISSING_URL
    local down; down=$(free_port)
    set_var HPQ_SHIP_DOWN_URL "\"postgres://hpq_user:hpq-not-a-password@127.0.0.1:$down/db\""
    doctor_skips "database down" "$head"$'\nok API\nok token accepted\nok app\nok token scope\nok config var\nFAIL database
-- SSL (the server did not answer)
-- database login (the server did not answer)
-- SSL in use (the server did not answer)
-- TLS version (the server did not answer)
-- server version (the server did not answer)\n'"$tail" \
        hpq "$HPQ_CMD" doctor -a "$app" --var HPQ_SHIP_DOWN_URL
    set_var HPQ_SHIP_DOWN_URL null
    doctor_skips "no app" $'FAIL configuration\nok library
-- token (the library would do nothing (configuration))
-- API (the library would do nothing (configuration))
-- token accepted (the library would do nothing (configuration))
-- app (the library would do nothing (configuration))
-- token scope (the library would do nothing (configuration))
-- config var (the library would do nothing (configuration))
-- database (the library would do nothing (configuration))
-- cache directory (the library would do nothing (configuration))
ok CA bundle' \
        hpq env -u HEROKU_APP "$HPQ_CMD" doctor
}

# The files `make install` documents (README, "Install"), under a PREFIX.
documented_files() {
    printf '%s\n' "$1/bin/herokupq" "$1/lib/herokupq/libherokupq.so" \
        "$1/share/man/man1/herokupq.1" "$1/share/man/man7/herokupq.7" | sort
}

t_make_install() {
    local dest=$WORK/destdir prefix=/opt/hpq-test got want
    rm -rf "$dest"
    run make -s -C "$ROOT" install DESTDIR="$dest" PREFIX="$prefix"
    got=$(cd "$dest" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort)
    want=$(documented_files "$prefix")
    if [ "$RC" = 0 ] && [ "$got" = "$want" ]; then pass "make install DESTDIR=... PREFIX=... installs exactly the 4 documented files"
    else fail "make install installs the documented files" "rc=$RC" "got: $got" "want: $want" "$ERR"; fi

    # The installed command finds the installed library (../lib/herokupq), nothing else.
    run hpq "$dest$prefix/bin/herokupq" -a "$HPQ_APP" -- sh -c 'echo "$LD_PRELOAD"; psql -X -q -A -t -c "$1"' _ "$WHOAMI"
    if [ "$RC" = 0 ] && [ "$OUT" = "$dest$prefix/lib/herokupq/libherokupq.so"$'\n'"app_user|app_db|t" ]; then
        pass "the installed command preloads the installed library and psql reaches the app's database"
    else fail "the installed command works" "rc=$RC out=$OUT" "$ERR"; fi

    run make -s -C "$ROOT" uninstall DESTDIR="$dest" PREFIX="$prefix"
    got=$(cd "$dest" && find . -mindepth 1 | sed 's|^\.||')
    if [ "$RC" = 0 ] && [ -z "$got" ] && [ -d "$dest" ]; then
        pass "make uninstall into the DESTDIR install filled leaves it empty: every file and every directory install made is gone"
    else fail "make uninstall leaves the DESTDIR empty" "rc=$RC left: $got" "$ERR"; fi

    # A directory that holds something else stays, with what it holds.
    mkdir -p "$dest$prefix/bin" && : >"$dest$prefix/bin/other"
    run make -s -C "$ROOT" install DESTDIR="$dest" PREFIX="$prefix"
    run make -s -C "$ROOT" uninstall DESTDIR="$dest" PREFIX="$prefix"
    got=$(cd "$dest" && find . -mindepth 1 | sed 's|^\.||' | sort | tr '\n' ' ')
    if [ "$RC" = 0 ] && [ "$got" = "/opt /opt/hpq-test /opt/hpq-test/bin /opt/hpq-test/bin/other " ]; then
        pass "make uninstall keeps a directory that holds another file (bin/other stays)"
    else fail "make uninstall keeps what is not its own" "rc=$RC left: $got" "$ERR"; fi
    rm -rf "$dest"
}

# scripts/install-deps.sh (what `make demo` runs first) on a machine that has none of the
# packages, with apt-get, dpkg-query and sudo replaced by stand-ins on PATH that record their calls.
t_install_deps_says_what() {
    local bin=$WORK/fake-apt
    mkdir -p "$bin"
    printf '#!/bin/sh\nexit 1\n' >"$bin/dpkg-query"
    printf '#!/bin/sh\nexec "$@"\n' >"$bin/sudo"
    cat >"$bin/apt-get" <<'SH'
#!/bin/sh
echo "apt-get $1 ran" >&2
[ "$1" = update ] && exit 0
for p in "$@"; do case $p in -*|*=*|install) ;; *) echo "Unpacking $p (1.0) ..."; echo "Setting up $p (1.0) ..." ;; esac; done
SH
    chmod 755 "$bin"/*
    run env PATH="$bin:$PATH" "$ROOT/scripts/install-deps.sh"
    local list n first order
    list=$("$ROOT/scripts/install-deps.sh" --list)
    n=$(wc -w <<<"$list")
    first=$(head -n1 <<<"$ERR")
    order=$(grep -n -e '^install-deps: apt-get update' -e '^apt-get update ran' -e '^apt-get install ran' \
        -e "^install-deps:   set up ${list%% *}\$" -e '^install-deps: done' <<<"$ERR" | cut -d: -f1 | tr '\n' ' ')
    if [ "$RC" = 0 ] && [ "$first" = "install-deps: installing $n Debian packages with apt-get (a minute or more on a fresh machine): $list" ] &&
        [ "$(grep -c '^install-deps:   set up ' <<<"$ERR")" = "$n" ] && [ "$order" = "2 3 4 5 $((n + 5)) " ] &&
        ! grep -q Unpacking <<<"$OUT$ERR"; then
        pass "install-deps says what it installs ($n packages, named) before apt runs, then one 'set up' line per package as apt goes"
    else fail "install-deps says what it installs" "rc=$RC order=$order" "$ERR"; fi
    rm -rf "$bin"
}

# dpkg waits for no lock: retry while another apt/dpkg holds it (other jobs
# on the machine install packages too).
dpkg_retry() {
    local i
    for i in $(seq 1 120); do
        "$@" 2>"$WORK/dpkg.err" && return 0
        grep -qi 'lock' "$WORK/dpkg.err" || { cat "$WORK/dpkg.err" >&2; return 1; }
        sleep 2
    done
    return 1
}

deb_path() { ls "$ROOT"/build/herokupq_"$(version_h)"_*.deb 2>/dev/null | head -n1; }

t_debian_package() {
    if [ "$(id -u)" != 0 ]; then skip "the Debian package installs and is removed" "not root (dpkg -i)"; return; fi
    if dpkg-query -W -f='${Status}' herokupq 2>/dev/null | grep -q installed; then
        skip "the Debian package installs and is removed" "a herokupq package is already installed here; not touching it"; return
    fi
    run make -s -C "$ROOT" deb
    local deb; deb=$(deb_path)
    [ -n "$deb" ] || { fail "make deb" "rc=$RC" "$ERR"; return; }
    local depends
    depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | sort | tr '\n' ' ')
    if [ "$depends" = "ca-certificates libc6 libcjson1 libcurl4 libpq5 libssl3 " ]; then
        pass "make deb: Depends names libc6, libcjson1, libpq5 (dpkg-shlibdeps), libcurl4 and libssl3 (dlopen'd) and ca-certificates, nothing more"
    else fail "the package's Depends" "$(dpkg-deb -f "$deb" Depends)"; fi

    run dpkg_retry dpkg -i "$deb"
    if [ "$RC" != 0 ]; then fail "dpkg -i" "$OUT" "$ERR"; dpkg_retry dpkg -r herokupq >/dev/null 2>&1; return; fi
    run hpq /usr/bin/herokupq -a "$HPQ_APP" -- "${PSQL[@]}" -c "$WHOAMI"
    local cmd_rc=$RC cmd_out=$OUT
    run hpq env LD_PRELOAD=/usr/lib/herokupq/libherokupq.so HEROKU_APP="$HPQ_APP" "${PSQL[@]}" -c "$WHOAMI"
    local man_ok=0
    [ -s /usr/share/man/man1/herokupq.1.gz ] && [ -s /usr/share/man/man7/herokupq.7.gz ] && man_ok=1
    if [ "$cmd_rc" = 0 ] && [ "$cmd_out" = "app_user|app_db|t" ] && [ "$RC" = 0 ] && [ "$OUT" = "app_user|app_db|t" ] && [ "$man_ok" = 1 ]; then
        pass "dpkg -i: /usr/bin/herokupq and LD_PRELOAD=/usr/lib/herokupq/libherokupq.so both reach the app's database; man pages in /usr/share/man/man1 and man7"
    else fail "the installed package works" "command rc=$cmd_rc out=$cmd_out" "library rc=$RC out=$OUT man=$man_ok" "$ERR"; fi
    local files; files=$(dpkg -L herokupq | while read -r f; do [ -f "$f" ] && echo "$f"; done)
    run dpkg_retry dpkg -r herokupq
    local left=""
    for f in $files; do [ -e "$f" ] && left+="$f "; done
    if [ "$RC" = 0 ] && [ -z "$left" ] && [ -n "$files" ] && ! dpkg-query -W -f='${Status}' herokupq 2>/dev/null | grep -q ' installed'; then
        pass "dpkg -r herokupq removes every file it installed"
    else fail "dpkg -r removes the package" "rc=$RC left: $left" "$ERR"; fi
}

# The package as Debian's own checker sees it, every tag shown (-I, --pedantic): no error, no
# warning; and none of its hardening notes, for the library or the command (dpkg-buildflags).
t_deb_lintian() {
    if ! command -v lintian >/dev/null; then skip "lintian --pedantic on the .deb" "no lintian (scripts/install-deps.sh --tests)"; return; fi
    run make -s -C "$ROOT" deb
    local deb; deb=$(deb_path)
    [ -n "$deb" ] || { fail "make deb" "rc=$RC" "$ERR"; return; }
    run lintian --pedantic -I --tag-display-limit 0 "$deb"
    local ew hard
    ew=$(grep -cE '^[EW]: ' <<<"$OUT")
    hard=$(grep -c 'hardening-' <<<"$OUT")
    if [ "$RC" = 0 ] && [ "$ew" = 0 ] && [ "$hard" = 0 ]; then
        pass "lintian --pedantic -I on $(basename "$deb"): 0 errors, 0 warnings, no hardening note (fortify, relro, bindnow: library and command)$([ -n "$OUT" ] && printf '; %s' "$(grep -c . <<<"$OUT") info or pedantic notes")"
    else fail "lintian --pedantic: 0 E/W" "rc=$RC E/W=$ew hardening=$hard" "$OUT" "$ERR"; fi
}

# --- a minimal Debian root, as a container image is built -----------------------------------
# debootstrap --variant=minbase, the .deb installed with --no-install-recommends
# (its Depends must bring everything), the test CA and the token as files,
# psql run in the root (chroot: same network namespace, so it reaches the
# loopback API double and PostgreSQL).
in_minroot() {
    chroot "$MINROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root \
        LD_PRELOAD=/usr/lib/herokupq/libherokupq.so HEROKU_APP="$HPQ_APP" HEROKU_HOST="$HPQ_API_URL" \
        HEROKUPQ_CAFILE=/etc/herokupq-test-ca.crt HEROKUPQ_STRICT=1 HEROKUPQ_LOG=info \
        sh -c 'HEROKU_API_KEY=$(cat /run/secrets/heroku_token) && export HEROKU_API_KEY && exec "$@"' _ "$@"
}

t_minimal_root() {
    local why; why=$("$ROOT/tests/minroot.sh" why-not)
    if [ -n "$why" ]; then skip "psql in a minimal Debian root through the packaged shim" "$why"; return; fi
    run make -s -C "$ROOT" deb
    MINROOT=$WORK/minroot
    local t0=$SECONDS
    if ! "$ROOT/tests/minroot.sh" make "$MINROOT" "$(deb_path)" 2>"$WORK/minroot.log"; then
        fail "a minimal Debian root with the package" "$(tail -n 20 "$WORK/minroot.log")"
        "$ROOT/tests/minroot.sh" drop "$MINROOT"; return
    fi
    cat "$WORK/minroot.log"
    echo "minroot: ready in $((SECONDS - t0)) s"
    install -m 644 "$HPQ_CAFILE" "$MINROOT/etc/herokupq-test-ca.crt"
    mkdir -p "$MINROOT/run/secrets"
    (umask 077 && printf '%s\n' "$HPQ_TOKEN" >"$MINROOT/run/secrets/heroku_token")

    run in_minroot psql -X -q -A -t -c "$WHOAMI"
    if [ "$RC" = 0 ] && [ "$OUT" = "app_user|app_db|t" ] && grep -q 'connections go to' <<<"$ERR"; then
        pass "minimal root (minbase + the .deb, no recommends): psql connects over SSL through the shim"
    else fail "psql in the minimal root" "rc=$RC out=$OUT" "$ERR"; fi
    # The shared cache's default directory (no XDG_RUNTIME_DIR): libcrypto, loaded by the
    # shim on first use, named the entry as everywhere else.
    if [ -f "$MINROOT/tmp/herokupq-0/$(cache_entry_name)" ] && ! grep -q 'no SHA-256' <<<"$ERR"; then
        pass "minimal root: the shared cache's record is in /tmp/herokupq-0, named by the SHA-256 of its key"
    else fail "the shared cache in the minimal root" "files: $(ls "$MINROOT/tmp/herokupq-0" 2>&1)" "$ERR"; fi

    start_rotation db-first 3000
    wait_first_half db-first
    run in_minroot psql -X -q -A -t -c "SELECT 'after rotation'"
    wait_rotation
    if [ "$RC" = 0 ] && [ "$OUT" = "after rotation" ] && grep -q 'rotation' <<<"$ERR"; then
        pass "minimal root: psql right after a rotation (config var 2 s late) connects with no error"
    else fail "rotation in the minimal root" "rc=$RC out=$OUT" "$ERR"; fi

    run in_minroot herokupq doctor
    local doctor_rc=$RC doctor_out=$OUT
    # Without ca-certificates (libcurl4 only recommends it) the doctor says so.
    chroot "$MINROOT" dpkg --purge --force-depends ca-certificates >/dev/null 2>&1
    run in_minroot env -u HEROKUPQ_CAFILE herokupq doctor
    if [ "$doctor_rc" = 0 ] && [ "$RC" = 1 ] &&
        grep -A1 '^FAIL CA bundle:' <<<"$OUT" | grep -q 'fix: apt-get install ca-certificates'; then
        pass "minimal root: herokupq doctor passes; without ca-certificates it fails with 'apt-get install ca-certificates'"
    else fail "doctor in the minimal root" "with CAs rc=$doctor_rc: $doctor_out" "without rc=$RC: $OUT" "$ERR"; fi
    "$ROOT/tests/minroot.sh" drop "$MINROOT"
}

# --- HEROKUPQ_SOURCE=file:PATH and exec:COMMAND ------------------------------------------------

current_url() { api GET /config-vars | json_field DATABASE_URL; }

# Through the shim with a source other than heroku: no HEROKU_APP, no token.
shim_source() {  # SOURCE CMD...
    local source=$1
    shim env -u HEROKU_APP -u HEROKU_API_KEY HEROKUPQ_SOURCE="$source" HEROKUPQ_STRICT=1 "${@:2}"
}

replace_by_rename() { printf '%s\n' "$2" >"$1.tmp" && mv "$1.tmp" "$1"; }
rewrite_in_place() { printf '%s\n' "$2" >"$1"; }  # same inode, as Vault Agent's template does
# A Kubernetes Secret volume: FILE -> ..data/FILE, ..data -> a timestamped directory;
# an update writes a new directory and renames a new ..data symlink over the old one.
k8s_volume() {  # DIR URL: set up
    mkdir -p "$1/..v1" && printf '%s\n' "$2" >"$1/..v1/url"
    ln -s ..v1 "$1/..data" && ln -s ..data/url "$1/url"
}
k8s_swap() {  # FILE URL
    local dir; dir=$(dirname "$1")
    mkdir "$dir/..v2" && printf '%s\n' "$2" >"$dir/..v2/url"
    ln -s ..v2 "$dir/..data_tmp" && mv -T "$dir/..data_tmp" "$dir/..data" && rm -rf "$dir/..v1"
}

# A process connects through FILE's URL; the password changes; its next
# connection fails as stale while the file still holds the old URL; a second
# later UPDATE writes the new one: that connection must succeed.
file_case() {  # WHAT FILE UPDATE
    local what=$1 file=$2 update=$3 go=$WORK/go.file
    rm -f "$go"
    : >"$WORK/out"
    ( wait_for_line '^warm' "$WORK/out" 200; local new; new=$(rotate together 0); wait_rotation
      touch "$go"; sleep 1; "$update" "$file" "$new" ) &
    run shim_source "file:$file" "$CONNECT" -w "$go"
    wait
    if [ "$RC" = 0 ] && [ "$(sed -n 2p <<<"$OUT")" = "$OK_LINE" ] &&
        grep -q 'attempt 1 failed, the credentials or database are gone' <<<"$ERR" &&
        grep -q "connections go to file $file" <<<"$ERR" && ! grep -q "own parameters" <<<"$ERR"; then
        pass "HEROKUPQ_SOURCE=file: alone turns the shim on; $what is picked up by the connection that failed as stale"
    else fail "file source, $what" "rc=$RC out=$OUT" "$ERR"; fi
}

t_source_file() {
    mkdir -p "$WORK/src" "$WORK/k8s"
    printf '%s\n' "$(current_url)" >"$WORK/src/url"
    file_case "a file replaced atomically (rename)" "$WORK/src/url" replace_by_rename
    file_case "a file rewritten in place" "$WORK/src/url" rewrite_in_place
    k8s_volume "$WORK/k8s" "$(current_url)"
    file_case "a Kubernetes Secret volume's ..data symlink swap" "$WORK/k8s/url" k8s_swap
    rm -rf "$WORK/src" "$WORK/k8s"
}

t_source_exec() {
    printf '%s\n' "$(current_url)" >"$WORK/exec-url"
    remember_secret hpq-stderr-secret
    run shim_source "exec:sh -c 'cat \"\$0\"; echo diagnostic password=hpq-stderr-secret >&2' $WORK/exec-url" \
        "$CONNECT" "$(stale_url)"
    if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && grep -q 'on stderr: diagnostic password=\*\*\*\*\*\*\*\*$' <<<"$ERR"; then
        pass "HEROKUPQ_SOURCE=exec: (a shell when asked: sh -c): its URL is used; its stderr is logged with the password masked"
    else fail "exec source" "rc=$RC out=$OUT" "$ERR"; fi

    # A command that hangs, and one it started, are killed at the timeout: one line.
    # Durations this run alone uses: another run's sleeps are not this one's leftovers.
    local tag=$$$RANDOM
    run shim_source "exec:sh -c 'sleep 31.1$tag & sleep 31.2$tag; wait'" env HEROKUPQ_API_TIMEOUT_MS=500 \
        "$CONNECT" "$(stale_url)"
    local left lines
    left=$(grep -laE "sleep.31\.[12]$tag" /proc/[0-9]*/cmdline 2>/dev/null || true)
    lines=$(grep -c 'did not finish within 500 ms (HEROKUPQ_API_TIMEOUT_MS); killed' <<<"$ERR")
    if [ "$RC" != 0 ] && [ "$lines" = 1 ] && [ -z "$left" ] && grep -q '^error .*herokupq: the command sh' <<<"$OUT"; then
        pass "exec: a command that hangs is killed at its timeout with what it started, reported in one line; the connection fails (strict)"
    else fail "exec source, hang" "rc=$RC lines=$lines left=$left out=$OUT" "$ERR"; fi

    run shim_source "exec:echo mysql://hpq_user:hpq-not-a-password@127.0.0.1/db" "$CONNECT" "$(stale_url)"
    lines=$(grep -c 'did not give a postgres:// URL' <<<"$ERR")
    if [ "$RC" != 0 ] && [ "$lines" = 1 ] && [[ $OUT$ERR != *hpq-not-a-password* ]]; then
        pass "exec: a command printing a URL that is not postgres:// is refused, in one line, its text not shown"
    else fail "exec source, not postgres" "rc=$RC lines=$lines out=$OUT" "$ERR"; fi
}

tests t_cmd_runs_program t_cmd_version t_cmd_url t_info_says_where_once t_info_says_rotation_once t_doctor_passes t_doctor_failures t_doctor_skips t_make_install t_install_deps_says_what t_source_file t_source_exec
# The .deb (lintian included) and a minimal root built with debootstrap: minutes each, in make check.
check_tests t_debian_package t_deb_lintian t_minimal_root
