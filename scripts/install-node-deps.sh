#!/usr/bin/env bash
# The JavaScript driver of the proxy drivers' test (node `pg`, pure JavaScript),
# from npm, exactly as tests/clients/node/package-lock.json pins it (versions
# and integrity hashes), into build/node/node_modules. `make test` runs it;
# nothing is fetched when that copy is already installed from the same lock.
#   scripts/install-node-deps.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=$ROOT/tests/clients/node
DEST=$ROOT/build/node

if [ -f "$DEST/node_modules/pg/package.json" ] && cmp -s "$SRC/package-lock.json" "$DEST/package-lock.json"; then
    exit 0
fi
command -v npm >/dev/null 2>&1 || {
    echo "install-node-deps: npm not found (Debian packages nodejs npm; scripts/install-deps.sh --tests)" >&2
    exit 1
}
echo "install-node-deps: installing node pg from npm into $DEST/node_modules" >&2
mkdir -p "$DEST"
cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
cd "$DEST"
npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
