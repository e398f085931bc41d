#!/usr/bin/env bash
# Install the Debian/Ubuntu packages herokupq needs.
#   scripts/install-deps.sh [--tests]          install whatever is missing (root or sudo)
#   scripts/install-deps.sh [--tests] --list   print the package names
# Without --tests: what building and `make demo` need; with it, also the tests'.
set -euo pipefail

PACKAGES=(
    gcc libc6-dev make pkg-config  # build
    libpq-dev                      # libpq's headers (the shim never links libpq)
    libcurl4-openssl-dev           # libcurl's headers; libcurl4 is loaded at run time
    libcjson-dev                   # cJSON
    postgresql                     # the local database, and psql
    openssl ca-certificates curl python3  # test CA, API double, its control calls
)
HERE=$(cd "$(dirname "$0")" && pwd)
TEST_PACKAGES=(
    libcmocka-dev                  # unit tests
)
# The client matrix's packages, from its one list.
# shellcheck disable=SC2207
TEST_PACKAGES+=($(sed -e '/^#/d' -e '/^$/d' "$HERE/../tests/clients/list" | cut -d'|' -f2 | tr ' ' '\n' | sort -u))

list=
for arg in "$@"; do
    case $arg in
        --tests) PACKAGES+=("${TEST_PACKAGES[@]}") ;;
        --list) list=1 ;;
        *) echo "usage: $0 [--tests] [--list]" >&2; exit 2 ;;
    esac
done
if [ -n "$list" ]; then
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
# Another apt run (a second checkout's tests) may hold dpkg's lock: wait for it.
"${sudo[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
