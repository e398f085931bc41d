#!/usr/bin/env bash
# Install the Debian/Ubuntu packages herokupq needs.
#   scripts/install-deps.sh [--tests|--fuzz|--bench]...          install whatever is missing (root or sudo)
#   scripts/install-deps.sh [--tests|--fuzz|--bench]... --list   print the package names
# Without flags: what building and `make demo` need; --fuzz adds what `make fuzz` and the
# sanitizer runs need; --tests adds all the tests need (--fuzz included: CI runs them);
# --bench what `make bench` needs (valgrind, gnuplot, npm for the Heroku CLI).
set -euo pipefail

PACKAGES=(
    gcc libc6-dev make pkg-config  # build
    libpq-dev                      # libpq's headers (the shim never links libpq)
    libcurl4-openssl-dev           # libcurl's headers; libcurl4 is loaded at run time
    libcjson-dev                   # cJSON
    libssl-dev                     # libcrypto's headers (SHA-256); libcrypto is loaded at run time
    postgresql                     # the local database, and psql
    openssl ca-certificates curl python3  # test CA, API double, its control calls
    dpkg-dev                       # make deb: dpkg-shlibdeps (dpkg-deb is in dpkg)
    pgbouncer                      # herokupq proxy's engine (a product feature: the .deb recommends it)
)
HERE=$(cd "$(dirname "$0")" && pwd)
TEST_PACKAGES=(
    libcmocka-dev                  # unit tests
    debootstrap                    # the minimal Debian root test (as a container image is built)
    strace binutils                # hardening tests: files libpq opens; the wipe in the disassembly
    lintian                        # the .deb checked as Debian checks packages
)
# The client matrix's packages, from its one list.
# shellcheck disable=SC2207
TEST_PACKAGES+=($(sed -e '/^#/d' -e '/^$/d' "$HERE/../tests/clients/list" | cut -d'|' -f2 | tr ' ' '\n' | sort -u))
# The drivers that do not use libpq, through the proxy, from their one list;
# node pg itself comes from npm (scripts/install-node-deps.sh).
# shellcheck disable=SC2207
TEST_PACKAGES+=($(sed -e '/^#/d' -e '/^$/d' "$HERE/../tests/clients/proxy-list" | cut -d'|' -f2 | tr ' ' '\n' | sed '/^$/d' | sort -u))
FUZZ_PACKAGES=(
    clang libclang-rt-14-dev       # libFuzzer and the sanitizers' runtimes for clang
    valgrind                       # memcheck of the C test programs through the shim
)
BENCH_PACKAGES=(valgrind gnuplot-nox python3-psycopg2)  # psycopg2: bench/proxy.py
# npm: Debian's nodejs and npm, unless a Node.js with npm is already installed
# (NodeSource's nodejs ships npm itself and conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || BENCH_PACKAGES+=(nodejs npm)
command -v npm >/dev/null 2>&1 || TEST_PACKAGES+=(nodejs npm) # node pg, through the proxy

list=
for arg in "$@"; do
    case $arg in
        --tests) PACKAGES+=("${TEST_PACKAGES[@]}" "${FUZZ_PACKAGES[@]}") ;;
        --fuzz) PACKAGES+=("${FUZZ_PACKAGES[@]}") ;;
        --bench) PACKAGES+=("${BENCH_PACKAGES[@]}") ;;
        --list) list=1 ;;
        *) echo "usage: $0 [--tests|--fuzz|--bench]... [--list]" >&2; exit 2 ;;
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

# Said before apt starts, and one line per package as apt sets it up: on a fresh machine this
# takes a minute or more, and a silent minute looks like a hang.
echo "install-deps: installing ${#missing[@]} Debian packages with apt-get (a minute or more" \
    "on a fresh machine): ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: apt-get update" >&2
"${sudo[@]}" apt-get update -qq
# Another apt run (a second checkout's tests) may hold dpkg's lock: wait for it.
"${sudo[@]}" apt-get install -y -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" |
    sed -nu 's/^Setting up \([^ ]*\) .*/install-deps:   set up \1/p' >&2
echo "install-deps: done" >&2
