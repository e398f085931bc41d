#!/usr/bin/env bash
# make demo: a local "Heroku" (PostgreSQL with SSL + the Platform API double),
# psql through the shim, a credential rotation, psql again.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Installing what the demo needs, if missing (scripts/install-deps.sh --list: $(scripts/install-deps.sh --list | wc -w) Debian packages)"
scripts/install-deps.sh
say "Building the library and the command (make all)"
make --no-print-directory -s all

# shellcheck source=tests/lib.sh
source tests/lib.sh
hpq_clean_env
WORK=$(mktemp -d /tmp/herokupq-demo.XXXXXX)
chmod 755 "$WORK"
trap 'hpq_env_down "$WORK/env"; rm -rf "$WORK"' EXIT
hpq_env_up "$WORK/env" 2>/dev/null

export LD_PRELOAD=$ROOT/build/libherokupq.so
export HEROKU_APP=$HPQ_APP HEROKU_API_KEY=$HPQ_TOKEN HEROKU_HOST=$HPQ_API_URL
export HEROKUPQ_CAFILE=$HPQ_CAFILE HEROKUPQ_LOG=info
export HEROKUPQ_CACHE_DIR=$WORK/cache # the shared cache lives and dies with the demo
whoami() {
    psql -X -c "SELECT current_user, current_database(), inet_server_port() AS port,
                       ssl, version AS tls
                FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
}

say "The app $HEROKU_APP's DATABASE_URL (PostgreSQL on 127.0.0.1:$HPQ_PG_PORT, SSL only)"
echo "${HPQ_DB_URL/:$HPQ_DB_PASSWORD@/:********@}"

say "psql with no arguments, PGSSLMODE=disable: herokupq resolves the URL and enforces SSL"
echo "\$ HEROKU_APP=$HEROKU_APP PGSSLMODE=disable LD_PRELOAD=libherokupq.so psql"
PGSSLMODE=disable whoami

say "Heroku rotates the credentials: the password changes now, the config var 2 s later"
api POST /rotate '{"order": "db-first", "delay_ms": 2000}' >/dev/null
echo "(the program keeps its stale DATABASE_URL from before)"
export DATABASE_URL=$HPQ_DB_URL

say "psql \"\$DATABASE_URL\" right away: the old password fails, herokupq waits for the new URL"
start=$(date +%s%N)
psql -X "$DATABASE_URL" -c "SELECT current_user, 'connected after rotation' AS result"
echo "connected in $(( ($(date +%s%N) - start) / 1000000 )) ms, no error reached psql"

say "Heroku Platform API requests made by the whole demo: $(api_count)"
