# shellcheck shell=bash
# The one shell library of the tests, the demo and the test environment:
# a clean environment, the local Heroku (start, stop, control calls), URL
# builders, and the test bookkeeping (pass/fail/skip, run, shim).
#
#   source tests/lib.sh          defines functions and ROOT; changes nothing else
#   hpq_clean_env                 unset everything that could steer libpq or the shim
#   hpq_env_up DIR / hpq_env_down DIR
#                                 start / stop the local Heroku (scripts/testenv.sh)
#                                 and export its HPQ_* variables
#
# Test files (tests/integration/*.sh) may use everything below; they register
# their tests with `tests t_a t_b ...` (`make test`: every behaviour, in minutes)
# or `check_tests t_c ...` (the long runs only `make check` adds: soaks, the
# sanitizer and valgrind re-runs, fuzzing, the minimal root and the .deb).

HPQ_LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=${ROOT:-$HPQ_LIB_ROOT}
SHIM=${SHIM:-$ROOT/build/libherokupq.so}
# The tests' own C programs; the sanitizer run points PROGS at their ASan build
# (build/asan/progs, see tests/integration/70-sanitizers.sh).
PROGS=${PROGS:-$ROOT/build/progs}
CONNECT=$PROGS/hpq_connect
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)
WHOAMI="SELECT current_user, current_database(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
OK_LINE="ok user=app_user db=app_db ssl=t"
# Debian's own interpreter: quick to start (no version-manager shims in PATH),
# and the one the Debian client packages go with.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# --- the environment ---------------------------------------------------------------------------

# Nothing from the caller's environment may steer libpq, libcurl or the shim:
# every PG* variable, the Heroku settings, every HEROKUPQ_* one, the preload,
# netrc and proxies.
hpq_clean_env() {
    local name
    while read -r name; do
        unset "$name"
    done < <(compgen -e | grep -E '^(PG|HEROKU_|HEROKUPQ_)' || true)
    unset DATABASE_URL LD_PRELOAD NETRC http_proxy https_proxy HTTP_PROXY HTTPS_PROXY \
        ALL_PROXY all_proxy no_proxy NO_PROXY
}

# Start the local Heroku (PostgreSQL with SSL + the API double) in DIR and
# export its settings (HPQ_PG_PORT, HPQ_API_URL, HPQ_TOKEN, ...).
hpq_env_up() {
    "$HPQ_LIB_ROOT/scripts/testenv.sh" up "$1" || return 1
    # shellcheck disable=SC1091
    source "$1/env"
}

hpq_env_down() { "$HPQ_LIB_ROOT/scripts/testenv.sh" down "$1" >/dev/null 2>&1; }

# --- the API double's control plane ------------------------------------------------------------

api() { curl -sS --max-time 10 -X "$1" ${3:+-d "$3"} "$HPQ_API_CONTROL$2"; }

json_field() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

api_count() { api GET /requests | json_field count; }
api_reset() { api POST /reset >/dev/null; }

# The password in a postgres:// URL (percent-decoded).
url_password() {
    "$PY" -c 'import sys; from urllib.parse import urlsplit, unquote; print(unquote(urlsplit(sys.argv[1]).password or ""))' "$1"
}

# The password the database has now (after the last rotation, if any).
current_password() {
    local pw
    pw=$(api GET /rotate/status | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("password") or "")')
    echo "${pw:-$HPQ_DB_PASSWORD}"
}

rotate() { # ORDER DELAY_MS: starts a rotation, prints the new URL
    api POST /rotate "{\"order\": \"$1\", \"delay_ms\": $2}" | json_field url
}

# poll_until TENTHS CMD...: run CMD every 0.1 s until it succeeds, at most TENTHS times.
poll_until() {
    local _
    for _ in $(seq 1 "$1"); do
        "${@:2}" && return 0
        sleep 0.1
    done
    return 1
}

rotation_says() { api GET /rotate/status | grep -q "\"$1\": true"; } # FIELD: is it true now?
rotation_reached() { poll_until "$2" rotation_says "$1"; }              # FIELD TENTHS

# Until the last rotation is done.
wait_rotation() { rotation_reached done 100; }

# Until the first half of a rotation (ORDER) is done: the password, or the var.
wait_first_half() {
    if [ "$1" = var-first ]; then rotation_reached var_updated 50; else rotation_reached db_updated 50; fi
}

# wait_for_line PATTERN FILE TENTHS: until a line of FILE matches (grep -E).
wait_for_line() { poll_until "$3" grep -qsE -- "$1" "$2"; }

# End every session of the app's role, as Heroku does when it rotates the
# default credential. Prints how many.
terminate_sessions() {
    psql -X -q -At "$HPQ_PG_ADMIN" -c \
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '$HPQ_DB_USER'"
}

# A client's own, stale, connection string: wrong password, sslmode=disable.
stale_url() { echo "postgres://app_user:stale@127.0.0.1:$HPQ_PG_PORT/app_db?sslmode=disable"; }

# The program's own parameters when the API fails: host and credentials valid
# but sslmode=disable, which the server rejects, so it only works if the shim
# still lifts sslmode to require.
fallback_conninfo() { echo "postgres://app_user:$(current_password)@127.0.0.1:$HPQ_PG_PORT/app_db?sslmode=disable"; }

# --- bookkeeping -------------------------------------------------------------------------------

PASSED=0
FAILED=0
SKIPPED=0
REGISTERED=() # every test, in the order registered
QUICK=()      # `tests`: tests/run.sh's default set (make test)
CHECK=()      # `check_tests`: tests/run.sh --check's set (make check, after make test)

tests() { REGISTERED+=("$@"); QUICK+=("$@"); }
check_tests() { REGISTERED+=("$@"); CHECK+=("$@"); }

pass() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$1"; shift; printf '     %s\n' "$@"; }
skip() { SKIPPED=$((SKIPPED + 1)); printf 'skip %s (%s)\n' "$1" "$2"; }

# A secret no log line may contain, beyond the ones the API double knows.
remember_secret() { printf '%s\n' "$1" >>"$WORK/secrets"; }

# Every secret of this run, one a line: the tokens, every password a config
# var of the double has held, and the ones tests remembered.
known_secrets() {
    printf '%s\n' "$HPQ_TOKEN" "$HPQ_FORBIDDEN_TOKEN" "$HPQ_DB_PASSWORD"
    api GET /secrets | "$PY" -c 'import json,sys; print("\n".join(json.load(sys.stdin)["passwords"]))'
    [ -f "$WORK/secrets" ] && cat "$WORK/secrets"
    return 0
}

# run CMD...: stdout to $OUT, stderr to $ERR, status in $RC. Stderr is also
# kept in $WORK/all-logs and stdout (where the tests' programs print
# PQerrorMessage) in $WORK/all-out, which the suite scans for secrets at the
# end; `HPQ_SHOWS_SECRET=1 run ...` keeps out the stdout of a command that
# prints a password on purpose (herokupq url --show-password).
run() {
    "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
    cat "$WORK/err" >>"$WORK/all-logs"
    [ "${HPQ_SHOWS_SECRET:-0}" = 1 ] || cat "$WORK/out" >>"$WORK/all-out"
}

# shim [NAME=VALUE...] CMD...: CMD through the shim, configured for the local
# Heroku, at debug level; NAME=VALUE words before CMD override the defaults.
#
# The cross-process cache: every shim call gets a cache directory of its own
# (fresh_cache_dir: a new path under $WORK, which the shim creates), so a call
# starts on a cold cache and shares nothing with other calls, as before the
# cache was shared: a test's assertions about API requests stay its own.
# Tests of the shared cache (tests/integration/cache.sh) pass one directory
# to several calls: `shim HEROKUPQ_CACHE_DIR="$dir" ...`.
HPQ_CACHE_SERIAL=0
# The file name of the local Heroku's DATABASE_URL entry in a shared cache: the
# SHA-256 of API, app, var and token (shim/filecache.h), computed by coreutils.
cache_entry_name() {
    printf '%s\n%s\n%s\ntoken:%s' "${HPQ_API_URL%/}" "$HPQ_APP" DATABASE_URL "$HPQ_TOKEN" |
        sha256sum | cut -c1-64
}
fresh_cache_dir() {
    HPQ_CACHE_SERIAL=$((HPQ_CACHE_SERIAL + 1))
    echo "$WORK/cache.$BASHPID.$HPQ_CACHE_SERIAL"
}

shim() {
    env LD_PRELOAD="$SHIM" HEROKU_APP="$HPQ_APP" HEROKU_API_KEY="$HPQ_TOKEN" \
        HEROKU_HOST="$HPQ_API_URL" HEROKUPQ_CAFILE="$HPQ_CAFILE" HEROKUPQ_LOG=debug \
        HEROKUPQ_CACHE_DIR="$(fresh_cache_dir)" "$@"
}
