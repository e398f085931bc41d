# shellcheck shell=bash
# The real client matrix (the clients are listed in tests/clients/list).
#
# Every client (real programs, the drivers of Python, Ruby, PHP and Perl as
# Debian 12 packages them, and a C program that only dlopens libpq) gets two
# checks, each counted with pass/fail:
#   stale credentials  its own connection string names the database with a
#                      stale password and sslmode=disable; through the shim it
#                      must reach the app's database over SSL;
#   after rotation     right after a rotation starts (password now, config var
#                      2 s later) the same string, HEROKUPQ_LOG=warn: it must
#                      connect with nothing on stderr (beyond the program's own
#                      progress lines).
# The server rejects every TCP connection without SSL (hostnossl reject), so a
# client that cannot show ssl itself (pg_dump, pgbench) connected over SSL if
# it connected at all.
#
# A client whose package is missing fails both checks, saying which package.
# The results also go to a Markdown table in $MATRIX_OUT (build/, never the
# docs/testing.md: `make readme-matrix` copies it there when a person chooses to).

MATRIX_OUT=${MATRIX_OUT:-$ROOT/build/client-matrix.md}
# Debian's interpreters, which the Debian packages below go with (never a
# pyenv/rbenv/perlbrew one that happens to come first in PATH).
MATRIX_PY=/usr/bin/python3
MATRIX_RUBY=/usr/bin/ruby
MATRIX_PHP=/usr/bin/php
MATRIX_PERL=/usr/bin/perl
MATRIX_TIMEOUT=60          # seconds, per client program
MATRIX_CLIENT_DIR=$ROOT/tests/clients
MATRIX_DLOPEN=$ROOT/build/progs/dlopen_client
MATRIX_OK="ok user=app_user db=app_db ssl=t"
MATRIX_PRIVATE= # the private renamed copy of libpq, made by matrix_setup
MATRIX_PRIVATE_NOTE=

# The clients, from the one list (tests/clients/list).
MATRIX_CLIENTS=()
declare -gA MATRIX_NAME MATRIX_VIA MATRIX_PKG
matrix_load() {
    local id pkg name via
    while IFS='|' read -r id pkg name via; do
        [[ -z $id || $id == \#* ]] && continue
        MATRIX_CLIENTS+=("$id")
        MATRIX_PKG[$id]=${pkg%% *} MATRIX_NAME[$id]=$name MATRIX_VIA[$id]=$via
    done <"$ROOT/tests/clients/list"
}
matrix_load
declare -gA MATRIX_STALE MATRIX_ROTATION


# One line, no secret, bounded: for fail messages and the table's notes.
matrix_oneline() {
    local text=$1 secret
    while IFS= read -r secret; do
        [ -n "$secret" ] && text=${text//"$secret"/•••}
    done < <(known_secrets)
    text=$(tr '\n\t' '  ' <<<"$text" | tr -s ' ')
    text=${text# }
    text=${text% }
    [ ${#text} -gt 400 ] && text="${text:0:400}…"
    printf '%s' "$text"
}

# The system libpq (the file, not a link), for the private copy.
matrix_system_libpq() {
    local dir lib
    dir=$(pkg-config --variable=libdir libpq 2>/dev/null)
    if [ -n "$dir" ] && [ -e "$dir/libpq.so.5" ]; then
        lib=$dir/libpq.so.5
    else
        lib=$(ldconfig -p 2>/dev/null | awk '$1 == "libpq.so.5" { print $NF; exit }')
    fi
    [ -n "$lib" ] && [ -e "$lib" ] && readlink -f "$lib"
}

# A copy of the system libpq under another name, as a Python wheel or a Ruby
# gem bundles one: SONAME renamed with patchelf when there is one.
matrix_setup() {
    local src dir=$WORK/libpq-private
    MATRIX_PRIVATE=
    src=$(matrix_system_libpq) || { MATRIX_PRIVATE_NOTE="no system libpq.so.5 found (ldconfig -p, pkg-config libpq)"; return 0; }
    mkdir -p "$dir"
    cp "$src" "$dir/libpq-private-1a2b3c.so.5.15" ||
        { MATRIX_PRIVATE_NOTE="cannot copy $src"; return 0; }
    if command -v patchelf >/dev/null; then
        if patchelf --set-soname libpq-private-1a2b3c.so.5.15 "$dir/libpq-private-1a2b3c.so.5.15"; then
            MATRIX_PRIVATE_NOTE="a copy of $src with its SONAME set to libpq-private-1a2b3c.so.5.15 (patchelf)"
        else
            MATRIX_PRIVATE_NOTE="patchelf failed: a copy of $src, SONAME libpq.so.5 kept"
        fi
    else
        MATRIX_PRIVATE_NOTE="a copy of $src, SONAME libpq.so.5 kept (no patchelf)"
    fi
    MATRIX_PRIVATE=$dir/libpq-private-1a2b3c.so.5.15
}

# Why the client cannot run here, or nothing.
matrix_missing() {
    case $1 in
        psql | pg_dump | pgbench | pg_isready)
            command -v "$1" >/dev/null || echo "$1 not found (Debian package postgresql-client)" ;;
        psycopg2_sync | psycopg2_async)
            "$MATRIX_PY" -c 'import psycopg2' 2>/dev/null ||
                echo "psycopg2 not importable by $MATRIX_PY (Debian package python3-psycopg2)" ;;
        psycopg3)
            "$MATRIX_PY" -c 'import psycopg' 2>/dev/null ||
                echo "psycopg not importable by $MATRIX_PY (Debian package python3-psycopg)" ;;
        ruby_pg | ruby_reset)
            "$MATRIX_RUBY" -e 'require "pg"' 2>/dev/null ||
                echo "$MATRIX_RUBY cannot load pg (Debian package ruby-pg)" ;;
        php_pgsql | php_pconnect)
            "$MATRIX_PHP" -r 'exit(function_exists("pg_connect") ? 0 : 1);' 2>/dev/null ||
                echo "$MATRIX_PHP or its pgsql extension missing (Debian packages php-cli php-pgsql)" ;;
        perl_dbd_pg)
            "$MATRIX_PERL" -MDBI -MDBD::Pg -e 1 2>/dev/null ||
                echo "$MATRIX_PERL cannot load DBD::Pg (Debian package libdbd-pg-perl)" ;;
        dlopen_* | private_* | two_copies)
            if [ ! -x "$MATRIX_DLOPEN" ]; then
                echo "$MATRIX_DLOPEN not built (make test builds it, without -lpq)"
            elif [ "${1%%_*}" != dlopen ] && [ -z "$MATRIX_PRIVATE" ]; then
                echo "no private copy of libpq: $MATRIX_PRIVATE_NOTE"
            fi ;;
    esac
}

# matrix_exec ID ENV... -- CMD...: run CMD through the shim with ENV, bounded;
# appends its stderr, without the program's own progress lines, to M_ERR. pgbench's
# stderr is its progress report, worded by each version its own way (17 added "... of
# pgbench_accounts done"): of it only log lines count, pgbench's own ("pgbench: error:
# ..."), the server's and the shim's.
matrix_exec() {
    local id=$1 env=()
    shift
    while [ "$1" != -- ]; do env+=("$1"); shift; done
    shift
    run shim "${env[@]}" timeout -k 5 "$MATRIX_TIMEOUT" "$@"
    [ "$RC" = 124 ] && OUT+=$'\n'"(killed after $MATRIX_TIMEOUT s)"
    local rest=$ERR
    case $id in
        pgbench) rest=$(grep -E -- '^(pgbench: |herokupq: |(ERROR|FATAL|PANIC|WARNING): )' <<<"$ERR") ;;
        psycopg3) rest=$(grep -Ev -- '^psycopg3: pq implementation ' <<<"$ERR") ;;
    esac
    M_ERR+=${rest:+$rest$'\n'}
}

# matrix_try ID CONNINFO ENV...: one go of client ID; M_WHY is empty when it
# worked, else says why; M_ERR collects its stderr (less progress lines).
matrix_try() {
    local id=$1 conninfo=$2
    shift 2
    M_WHY=""
    M_ERR=""
    case $id in
        psql)
            matrix_exec "$id" "$@" -- psql -X -q -A -t -v ON_ERROR_STOP=1 "$conninfo" -c "$WHOAMI"
            matrix_expect 'app_user|app_db|t' ;;
        pg_dump)
            matrix_exec "$id" "$@" -- pg_dump --schema-only "$conninfo"
            if [ "$RC" != 0 ] || ! grep -q 'PostgreSQL database dump' <<<"$OUT"; then
                M_WHY="pg_dump --schema-only: rc=$RC, output $(grep -c '' <<<"$OUT") lines, no 'PostgreSQL database dump'; stderr: $ERR"
            fi ;;
        pgbench)
            matrix_exec "$id" "$@" -- pgbench -i -s 1 "$conninfo"
            if [ "$RC" != 0 ]; then
                M_WHY="pgbench -i -s 1: rc=$RC; $ERR"
            else
                matrix_exec "$id" "$@" -- pgbench -t 10 -c 2 "$conninfo"
                if [ "$RC" != 0 ] || ! grep -q 'number of transactions actually processed: 20/20' <<<"$OUT"; then
                    M_WHY="pgbench -t 10 -c 2: rc=$RC; $(grep 'processed' <<<"$OUT") $ERR"
                fi
            fi ;;
        pg_isready)
            # PQping calls a server that answers with an authentication error
            # "accepting": the stale string alone proves little. Port 1 has no
            # server: only a shim that redirects the ping makes it accepting.
            matrix_exec "$id" "$@" -- pg_isready -d "$conninfo"
            if [ "$RC" != 0 ] || ! grep -q 'accepting connections' <<<"$OUT"; then
                M_WHY="pg_isready -d <stale URL>: rc=$RC $OUT $ERR"
            fi
            matrix_exec "$id" "$@" -- pg_isready -h 127.0.0.1 -p 1
            if [ "$RC" != 0 ] || ! grep -q 'accepting connections' <<<"$OUT"; then
                M_WHY="${M_WHY:+$M_WHY; }pg_isready -h 127.0.0.1 -p 1 is not redirected to the app's database: rc=$RC $OUT $ERR"
            fi ;;
        psycopg2_sync | psycopg2_async)
            matrix_exec "$id" "$@" -- "$MATRIX_PY" "$MATRIX_CLIENT_DIR/$id.py" "$conninfo"
            matrix_expect "$MATRIX_OK" ;;
        psycopg3)
            # Debian ships only the ctypes implementation; force it where others exist.
            matrix_exec "$id" PSYCOPG_IMPL=python "$@" -- "$MATRIX_PY" "$MATRIX_CLIENT_DIR/psycopg3.py" "$conninfo"
            matrix_expect "$MATRIX_OK"
            local impl
            impl=$(sed -n 's/^psycopg3: pq implementation \([a-z]*\).*/\1/p' <<<"$ERR")
            [ "$impl" = python ] || M_WHY="${M_WHY:+$M_WHY; }pq implementation '${impl:-unknown}', not the ctypes 'python' one" ;;
        ruby_pg)
            matrix_exec "$id" "$@" -- "$MATRIX_RUBY" "$MATRIX_CLIENT_DIR/ruby_pg.rb" "$conninfo"
            matrix_expect "$MATRIX_OK" ;;
        php_pgsql)
            matrix_exec "$id" "$@" -- "$MATRIX_PHP" "$MATRIX_CLIENT_DIR/php_pgsql.php" "$conninfo"
            matrix_expect "$MATRIX_OK" ;;
        perl_dbd_pg)
            matrix_exec "$id" "$@" -- "$MATRIX_PERL" "$MATRIX_CLIENT_DIR/perl_dbd_pg.pl" "$conninfo"
            matrix_expect "$MATRIX_OK" ;;
        php_pconnect | ruby_reset)
            matrix_reset_client "$id" "$conninfo" "$@" ;;
        dlopen_local | dlopen_global)
            matrix_exec "$id" "$@" -- "$MATRIX_DLOPEN" "${id#dlopen_}" libpq.so.5 "$conninfo"
            matrix_expect "$MATRIX_OK" ;;
        private_local | private_global)
            matrix_exec "$id" "$@" -- "$MATRIX_DLOPEN" "${id#private_}" "$MATRIX_PRIVATE" "$conninfo"
            matrix_expect "$MATRIX_OK" ;;
        two_copies)
            matrix_exec "$id" "$@" -- "$MATRIX_DLOPEN" both "$MATRIX_PRIVATE" "$conninfo"
            matrix_expect "$MATRIX_OK"$'\n'"$MATRIX_OK" ;;
        *)
            M_WHY="unknown client $id" ;;
    esac
}

# The clients that reconnect their own connection (PHP's persistent links,
# Ruby's conn.reset): they connect first; then every session of the role ends
# (and, with MATRIX_ROTATE=1, the credentials rotate first: password now,
# config var 2 s later); then they reconnect the same link and query.
matrix_reset_client() { # id conninfo env...
    local id=$1 conninfo=$2 go=$WORK/go.matrix
    shift 2
    rm -f "$go"
    : >"$WORK/out" # the previous run's output must not count
    ( wait_for_line '^first' "$WORK/out" 300
      if [ "${MATRIX_ROTATE:-}" = 1 ]; then rotate db-first 2000 >/dev/null; wait_first_half db-first; fi
      terminate_sessions >/dev/null; touch "$go" ) &
    case $id in
        php_pconnect)
            matrix_exec "$id" "$@" -- "$MATRIX_PHP" -d pgsql.auto_reset_persistent=On \
                "$MATRIX_CLIENT_DIR/php_pconnect.php" "$conninfo" "$go" ;;
        ruby_reset)
            matrix_exec "$id" "$@" -- "$MATRIX_RUBY" "$MATRIX_CLIENT_DIR/ruby_reset.rb" "$conninfo" "$go" ;;
    esac
    wait
    matrix_expect "first ok"$'\n'"$MATRIX_OK"
}

matrix_expect() { # the exact output wanted, and status 0
    if [ "$RC" != 0 ] || [ "$OUT" != "$1" ]; then
        M_WHY="rc=$RC out: ${OUT:-(none)}; stderr: ${ERR:-(none)}"
    fi
}

# Record one check of client id in the results array named $1, from $M_WHY.
matrix_record() { # results-array id pass-text fail-label
    local -n results=$1
    if [ -z "$M_WHY" ]; then
        results[$2]=ok
        pass "$3"
    else
        results[$2]=$(matrix_oneline "$M_WHY")
        fail "$4" "${results[$2]}"
    fi
}

matrix_stale() {
    local id=$1 name=${MATRIX_NAME[$1]}
    matrix_try "$id" "$(stale_url)"
    matrix_record MATRIX_STALE "$id" \
        "matrix: $name with stale credentials and sslmode=disable in its connection string reaches the app's database over SSL" \
        "matrix: $name, stale credentials"
}

# A reset client: the rotation starts once it is connected (matrix_reset_client).
matrix_rotation_during() {
    local id=$1 name=${MATRIX_NAME[$1]} status
    MATRIX_ROTATE=1 matrix_try "$id" "$(stale_url)" HEROKUPQ_LOG=warn
    [ -z "$M_WHY" ] && [ -n "$M_ERR" ] && M_WHY="reconnected, but wrote to stderr: $M_ERR"
    wait_rotation || M_WHY="${M_WHY:+$M_WHY; }the rotation did not finish within 10 s"
    status=$(api GET /rotate/status)
    grep -q '"error": null' <<<"$status" || M_WHY="${M_WHY:+$M_WHY; }rotation failed: $status"
    matrix_record MATRIX_ROTATION "$id" \
        "matrix: $name: its sessions end during a rotation (db-first, 2 s); the same link reconnects, no error output" \
        "matrix: $name, after rotation"
}

# A rotation (password now, config var 2 s later); the client right away.
matrix_rotation() {
    local id=$1 name=${MATRIX_NAME[$1]} url status
    case $id in php_pconnect | ruby_reset) matrix_rotation_during "$id"; return ;; esac
    url=$(rotate db-first 2000 2>&1)
    if [[ $url != postgres* ]]; then
        MATRIX_ROTATION[$id]=$(matrix_oneline "could not start a rotation: $url")
        fail "matrix: $name, after rotation" "${MATRIX_ROTATION[$id]}"
        return
    fi
    # The database's password must have changed before the client starts, or
    # it could still get in with the old one and the retry would go untested.
    local changed=
    wait_first_half db-first && changed=1
    matrix_try "$id" "$(stale_url)" HEROKUPQ_LOG=warn
    [ -z "$M_WHY" ] && [ -n "$M_ERR" ] && M_WHY="connected, but wrote to stderr: $M_ERR"
    [ -n "$changed" ] || M_WHY="${M_WHY:+$M_WHY; }the password had not changed 5 s after the rotation started"
    if ! wait_rotation; then
        M_WHY="${M_WHY:+$M_WHY; }the rotation did not finish within 10 s"
    fi
    status=$(api GET /rotate/status)
    grep -q '"error": null' <<<"$status" || M_WHY="${M_WHY:+$M_WHY; }rotation failed: $status"
    matrix_record MATRIX_ROTATION "$id" \
        "matrix: $name right after a rotation (db-first, 2 s): connects, no error output" \
        "matrix: $name, after rotation"
}

matrix_pkg_version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null
}

matrix_write() {
    local id check mark_s mark_r label via version libpq_version
    mkdir -p "$(dirname "$MATRIX_OUT")"
    libpq_version=$(matrix_pkg_version libpq5)
    {
        echo "Written by \`make test\` (tests/integration/90-matrix.sh) on $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-$(uname -s)}"), libpq5 ${libpq_version:-?}."
        echo
        echo "- **stale credentials**: the client's own connection string is \`postgres://app_user:stale@127.0.0.1:PORT/app_db?sslmode=disable\`;"
        echo "  through the shim it must reach the app's database over SSL (the server rejects TCP without SSL)."
        echo "- **after rotation**: a rotation starts (password now, \`DATABASE_URL\` 2 s later) and the same client runs"
        echo "  right away with \`HEROKUPQ_LOG=warn\`: it must connect, with nothing on stderr."
        echo
        echo "| client | connects via | stale credentials | after rotation |"
        echo "|---|---|---|---|"
        for id in "${MATRIX_CLIENTS[@]}"; do
            label=${MATRIX_NAME[$id]}
            case $id in
                psql | pg_dump | pgbench | pg_isready)
                    version=$("$id" --version 2>/dev/null | sed -nE '1s/.*\(PostgreSQL\) ([^ ]+).*/PostgreSQL \1/p')
                    [ -n "$version" ] && label+=" ($version)" ;;
                *)
                    version=$(matrix_pkg_version "${MATRIX_PKG[$id]}")
                    [ -n "$version" ] && label+=" (${MATRIX_PKG[$id]} $version)" ;;
            esac
            via=${MATRIX_VIA[$id]}
            [ "$id" = psycopg3 ] && [ -n "${MATRIX_PSYCOPG_IMPL:-}" ] && via+=" (pq impl: $MATRIX_PSYCOPG_IMPL)"
            mark_s=❌ mark_r=❌
            [ "${MATRIX_STALE[$id]:-}" = ok ] && mark_s=✅
            [ "${MATRIX_ROTATION[$id]:-}" = ok ] && mark_r=✅
            echo "| $label | $via | $mark_s | $mark_r |"
        done
        local any=
        for id in "${MATRIX_CLIENTS[@]}"; do
            for check in stale rotation; do
                local why
                if [ $check = stale ]; then why=${MATRIX_STALE[$id]:-not run}; else why=${MATRIX_ROTATION[$id]:-not run}; fi
                [ "$why" = ok ] && continue
                [ -z "$any" ] && { echo; echo "**Failures**"; echo; any=1; }
                echo "- **${MATRIX_NAME[$id]}**, $([ $check = stale ] && echo "stale credentials" || echo "after rotation"): $why"
            done
        done
        echo
        echo "**Notes**"
        echo
        echo "- pg_isready: \`PQping\` calls a server that answers with an authentication error \"accepting\", so"
        echo "  the stale string proves little; its row also requires \`pg_isready -h 127.0.0.1 -p 1\` (nothing"
        echo "  listens there; without the shim: no response) to report accepting through the shim."
        echo "- psycopg 3: Debian's package has only the \"python\" implementation (libpq opened with ctypes, each"
        echo "  function found with \`dlsym\` on that handle); the test forces \`PSYCOPG_IMPL=python\`."
        echo "- PHP loads its extensions \`RTLD_DEEPBIND\`: pgsql.so and the libpq it brings resolve their symbols in"
        echo "  their own scope first, so an \`LD_PRELOAD\`ed definition of a libpq function is not what they call."
        echo "- Perl: DBD::Pg gives the text after \`dbi:Pg:\` to \`PQconnectdb\`, which parses a whole"
        echo "  \`postgres://\` URL; \`dbi:Pg:dbname=<url>\` would not work (only \`PQconnectdbParams\` expands a URL given as dbname)."
        echo "- Private copy: ${MATRIX_PRIVATE_NOTE:-not made}. In \"two copies\" the copy's own calls to its"
        echo "  exported functions (\`PQconnectdb\` → \`PQconnectStart\`) bind to the first definition in the global"
        echo "  scope, so the system libpq loaded \`RTLD_GLOBAL\` may serve them; either copy is accepted, a third is not."
        echo "- PHP persistent link and Ruby \`conn.reset\`: one long-running process connects, then every session of"
        echo "  the role is ended (\`pg_terminate_backend\`, as a rotation of Heroku's default credential does) and it"
        echo "  reconnects the same link: PHP with \`pgsql.auto_reset_persistent=On\` (a dead link is \`PQreset\`), 4 more"
        echo "  \`pg_pconnect\` rounds, every one must work; Ruby resets the same \`PG::Connection\`. In **stale"
        echo "  credentials** the sessions end with no rotation (the baseline); in **after rotation** the password"
        echo "  changes first (config var 2 s later), so the reset needs the shim's repair in place."
        echo "- The dlopen client is not linked with libpq and refuses to run if libpq is loaded before its dlopen,"
        echo "  or if another libpq gets loaded while it connects."
        # The drivers through the proxy, when they ran in this run (85-proxy-drivers.sh).
        if [ -f "$WORK/pd-matrix.md" ]; then echo; cat "$WORK/pd-matrix.md"; fi
    } >"$MATRIX_OUT"
}

t_matrix() {
    local id missing
    matrix_setup
    MATRIX_PSYCOPG_IMPL=$("$MATRIX_PY" -c 'import os; os.environ["PSYCOPG_IMPL"] = "python"; import psycopg; print(psycopg.pq.__impl__)' 2>/dev/null)
    # Port 1 must be dead without the shim, or the pg_isready redirect check means nothing.
    if pg_isready -h 127.0.0.1 -p 1 -t 5 >/dev/null 2>&1; then
        fail "matrix: something answers on 127.0.0.1:1; the pg_isready redirect check cannot be made"
    fi
    for id in "${MATRIX_CLIENTS[@]}"; do
        missing=$(matrix_missing "$id")
        if [ -n "$missing" ]; then
            MATRIX_STALE[$id]="not run: $missing"
            MATRIX_ROTATION[$id]="not run: $missing"
            fail "matrix: ${MATRIX_NAME[$id]}, stale credentials" "not run: $missing"
            fail "matrix: ${MATRIX_NAME[$id]}, after rotation" "not run: $missing"
            continue
        fi
        matrix_stale "$id"
        matrix_rotation "$id"
    done
    matrix_write
    echo "     client matrix: $MATRIX_OUT"
}

tests t_matrix
