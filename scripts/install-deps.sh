#!/usr/bin/env bash
# Install the Debian/Ubuntu packages herokupq needs.
#   scripts/install-deps.sh [--tests|--fuzz|--bench]...          install whatever is missing (root or sudo)
#   scripts/install-deps.sh [--tests|--fuzz|--bench]... --list   print the package names
# Without flags: what building and `make demo` need; --fuzz adds what `make fuzz` and the
# sanitizer runs need; --tests adds all the tests need (--fuzz included: CI runs them);
# --bench what `make bench` needs (valgrind, gnuplot, npm for the Heroku CLI).
#
# No version is written here: the same lists serve Debian 12 and 13 (and Ubuntu). What
# differs is found on the machine: the clang runtime matching its clang (CLANG_RT below), a
# library renamed for 64-bit time_t (libfoo -> libfoo t64, Debian 13) by the name apt knows
# (real_names), and PostgreSQL's version through the unversioned postgresql packages.
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
    clang CLANG_RT                 # libFuzzer and the sanitizers' runtimes for clang
    valgrind                       # memcheck of the C test programs through the shim
)
BENCH_PACKAGES=(valgrind gnuplot-nox python3-psycopg2)  # psycopg2: bench/proxy.py
# npm: Debian's nodejs and npm, unless a Node.js with npm is already installed
# (NodeSource's nodejs ships npm itself and conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || BENCH_PACKAGES+=(nodejs npm)
command -v npm >/dev/null 2>&1 || TEST_PACKAGES+=(nodejs npm) # node pg, through the proxy

# The clang runtime of the clang installed, or else of the one apt would install: clang
# depends on clang-N, whose runtimes are in libclang-rt-N-dev (Debian 12: 14, 13: 19).
clang_rt() {
    local n
    if dpkg-query -W -f='${Status}' clang 2>/dev/null | grep -q 'ok installed'; then
        n=$(dpkg-query -W -f='${Depends}' clang | grep -o 'clang-[0-9]\+' | head -n1)
    else
        n=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: \(clang-[0-9]\+\)$/\1/p' | head -n1)
    fi
    [ -n "$n" ] || { echo "install-deps: apt knows no clang (run apt-get update first)" >&2; return 1; }
    echo "libclang-rt-${n#clang-}-dev"
}

# real_names NAME...: each NAME as apt can install it: NAME when apt has a candidate for it,
# else NAMEt64 when that has one (a library renamed for 64-bit time_t), else NAME (apt says why).
real_names() {
    local candidates name
    candidates=" $(apt-cache policy "$@" "${@/%/t64}" 2>/dev/null |
        awk '/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) } /Candidate:/ && $2 != "(none)" { printf "%s ", p }')"
    for name in "$@"; do
        if [[ $candidates != *" $name "* && $candidates == *" ${name}t64 "* ]]; then echo "${name}t64"
        else echo "$name"; fi
    done
}

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
# CLANG_RT's name, once apt or dpkg knows clang (nothing printed when neither does).
name_clang_rt() {
    local i
    for i in "${!PACKAGES[@]}"; do
        [ "${PACKAGES[i]}" != CLANG_RT ] || PACKAGES[i]=$(clang_rt) || return 1
    done
}

installed() { # NAME: NAME, or NAMEt64, is installed
    local status
    status=$(dpkg-query -W -f='${Status}\n' "$1" "${1}t64" 2>/dev/null) # (fails if either is unknown)
    [[ $status == *"ok installed"* ]]
}

if [ -n "$list" ]; then
    name_clang_rt || exit 1
    mapfile -t PACKAGES < <(real_names "${PACKAGES[@]}")
    echo "${PACKAGES[@]}"
    exit 0
fi

name_clang_rt 2>/dev/null || true # on a machine whose apt lists are empty: after apt-get update
missing=()
for p in "${PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
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
PACKAGES=("${missing[@]}")
name_clang_rt
mapfile -t missing < <(real_names "${PACKAGES[@]}")
[ "${missing[*]}" = "${PACKAGES[*]}" ] || echo "install-deps: as this Debian names them: ${missing[*]}" >&2
# Another apt run (a second checkout's tests) may hold dpkg's lock: wait for it.
"${sudo[@]}" apt-get install -y -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" |
    sed -nu 's/^Setting up \([^ ]*\) .*/install-deps:   set up \1/p' >&2
echo "install-deps: done" >&2
