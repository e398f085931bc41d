#!/usr/bin/env bash
# tests/fork-libpq.sh [RUNS]: libpq's own limit with fork, measured on bare libpq (no shim), for
# information: it never fails. Each run is a fresh process whose thread makes its first connection
# (TLS, SCRAM) to the local PostgreSQL while the main thread forks 0-50 ms into it; the child then
# connects on its own (tests/progs/fork_early.c, every run counted). With gssencmode=prefer
# (libpq's default) libpq first asks Kerberos (gss_indicate_mechs); with gssencmode=disable it
# does not. A hung child is one whose inherited OpenSSL or Kerberos lock was held by the parent's
# thread: a limit of libpq's that the shim neither causes nor can remove (docs/performance.md).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-40}
# shellcheck source=tests/lib.sh
source "$ROOT/tests/lib.sh"
hpq_clean_env
WORK=$(mktemp -d /tmp/herokupq-forklibpq.XXXXXX)
chmod 755 "$WORK"
trap 'hpq_env_down "$WORK/env" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
hpq_env_up "$WORK/env" >/dev/null 2>&1 || { echo "fork-libpq: cannot start the test environment" >&2; exit 1; }
PROG=$WORK/fork_early_all
# every run counted (the test's build stops after 3 that went wrong)
cc -O2 -DMAX_WRONG=100000 -I"$(pg_config --includedir)" "$ROOT/tests/progs/fork_early.c" \
    -o "$PROG" -lpq -lpthread || exit 1
for mode in prefer disable; do
    out=$(PGCONNECT_TIMEOUT=10 timeout 3600 "$PROG" "$HPQ_DB_URL?sslmode=require&gssencmode=$mode" \
        "$RUNS" 50 2>/dev/null | tail -1)
    echo "bare libpq, gssencmode=$mode: $out"
done
