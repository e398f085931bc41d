#!/usr/bin/env bash
# Install the Debian/Ubuntu packages herokupq needs to build, test and demo.
#   scripts/install-deps.sh          install whatever is missing (needs root or sudo)
#   scripts/install-deps.sh --list   print the package names
set -euo pipefail

PACKAGES=(
    gcc libc6-dev make pkg-config  # build
    libpq-dev                      # libpq's headers (the shim never links libpq)
    libcurl4-openssl-dev           # libcurl's headers; libcurl4 is loaded at run time
    libcjson-dev                   # cJSON
    libcmocka-dev                  # unit tests
    postgresql                     # the tests' and demo's local database, and psql
    openssl ca-certificates curl python3  # test CA, API double, its control calls
    python3-psycopg2 python3-psycopg ruby-pg php-cli php-pgsql libdbd-pg-perl patchelf  # client matrix
)

if [ "${1:-}" = --list ]; then
    echo "${PACKAGES[@]}"
    exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
