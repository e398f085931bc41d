#!/usr/bin/env bash
# bench/run.sh [bench.py options]: what `make bench` runs. Starts its own test
# environment (scripts/testenv.sh), runs bench/bench.py, draws bench/results/bench.png,
# stops the environment whatever happens.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RESULTS=bench/results
HEROKU_CLI_VERSION=11.10.0
mkdir -p "$RESULTS"

# The Heroku CLI of the recipe, from npm, pinned, into bench/node_modules (git-ignored).
# It needs Node.js 20 or later (Debian 12's is 18): without one the recipe is skipped.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
    echo "bench: skipped: the Heroku CLI recipe (heroku@$HEROKU_CLI_VERSION needs Node.js >= 20)" >&2
elif [[ ! -x bench/node_modules/.bin/heroku ]]; then
    echo "bench: installing the Heroku CLI (npm heroku@$HEROKU_CLI_VERSION) into bench/node_modules" >&2
    npm install --prefix bench --no-save --no-audit --no-fund --loglevel=error \
        "heroku@$HEROKU_CLI_VERSION" >&2
fi

ENVDIR=$(mktemp -d /tmp/herokupq-bench-env.XXXXXX)
chmod 755 "$ENVDIR"
trap 'scripts/testenv.sh down "$ENVDIR/env" >/dev/null 2>&1 || true; rm -rf "$ENVDIR"' EXIT
scripts/testenv.sh up "$ENVDIR/env" 2>/dev/null
set -a
# shellcheck disable=SC1091
source "$ENVDIR/env/env"
set +a
python3 bench/bench.py --out "$RESULTS" "$@"
/usr/bin/python3 bench/proxy.py --out "$RESULTS"  # herokupq proxy against direct (psycopg2: Debian's)
gnuplot -e "dir='$RESULTS'" bench/plot.gp
echo "bench: $RESULTS/results.md, $RESULTS/bench.png" >&2
