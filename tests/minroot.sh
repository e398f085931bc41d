#!/usr/bin/env bash
# A minimal Debian root built the way a container image is: debootstrap
# --variant=minbase, then only what runs, with --no-install-recommends (the
# herokupq .deb brings its own Depends; psql is the program). Used by the
# integration tests (tests/integration/ship.sh), and runnable alone:
#
#   tests/minroot.sh make DIR DEB    build a fresh root in DIR with DEB installed
#   tests/minroot.sh drop DIR        unmount what `make` mounted, remove DIR
#   tests/minroot.sh why-not         why a root cannot be built here (empty: it can)
#
# The root is of the host's own Debian suite (VERSION_CODENAME in /etc/os-release:
# bookworm on Debian 12, trixie on 13), as the .deb built here is for that suite
# (dpkg-shlibdeps writes the libc6 version of the build machine into its Depends).
# The bare minbase root (with psql) is cached in build/minroot/ as a tarball per
# suite, so repeated local runs skip debootstrap; CI starts without it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=$ROOT/build/minroot
SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")

say() { printf 'minroot: %s\n' "$*" >&2; }

mirror() { "$ROOT/scripts/debian-mirror.sh"; }

why_not() {
    [ "$(id -u)" -eq 0 ] || { echo "not root (debootstrap and chroot need root)"; return; }
    [ -n "$SUITE" ] || { echo "/etc/os-release names no VERSION_CODENAME (not Debian?)"; return; }
    command -v debootstrap >/dev/null || { echo "debootstrap is not installed"; return; }
    [ -f "$CACHE/$SUITE-minbase.tar" ] && return
    curl -fsS --max-time 15 -o /dev/null "$(mirror)/dists/$SUITE/Release" 2>/dev/null ||
        echo "the Debian mirror $(mirror) cannot be reached"
}

in_root() { chroot "$DIR" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    DEBIAN_FRONTEND=noninteractive "$@"; }

mount_proc() { mkdir -p "$DIR/proc"; mountpoint -q "$DIR/proc" || mount -t proc proc "$DIR/proc"; }

sources() {
    local m; m=$(mirror)
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s-security %s-security main\n' \
        "$m" "$SUITE" "$m" "$SUITE" "$m" "$SUITE" >"$DIR/etc/apt/sources.list"
}

# The bare root plus psql (the program, not a herokupq dependency), cached.
base() {
    local t0=$SECONDS
    if [ -f "$CACHE/$SUITE-minbase.tar" ]; then
        tar -C "$DIR" -xf "$CACHE/$SUITE-minbase.tar"
        say "root from the cache in $((SECONDS - t0)) s"
        return
    fi
    debootstrap --variant=minbase "$SUITE" "$DIR" "$(mirror)" >"$DIR.debootstrap.log" 2>&1 ||
        { tail -n 20 "$DIR.debootstrap.log" >&2; return 1; }
    say "debootstrap --variant=minbase $SUITE: $((SECONDS - t0)) s"
    cp /etc/resolv.conf "$DIR/etc/resolv.conf"
    sources
    mount_proc
    in_root apt-get update -qq
    in_root apt-get install -y -qq --no-install-recommends postgresql-client >/dev/null
    in_root apt-get clean
    umount "$DIR/proc"
    mkdir -p "$CACHE"
    tar -C "$DIR" -cf "$CACHE/$SUITE-minbase.tar.tmp" . && mv "$CACHE/$SUITE-minbase.tar.tmp" "$CACHE/$SUITE-minbase.tar"
    say "root with psql in $((SECONDS - t0)) s (cached in $CACHE)"
}

make_root() {
    DIR=$1
    local deb=$2 t0=$SECONDS
    mkdir -p "$DIR"
    base
    cp /etc/resolv.conf "$DIR/etc/resolv.conf"
    mount_proc
    cp "$deb" "$DIR/tmp/herokupq.deb"
    # The packages downloaded by earlier runs, so repeated local runs download nothing.
    [ ! -d "$CACHE/archives" ] || cp "$CACHE/archives/"*.deb "$DIR/var/cache/apt/archives/" 2>/dev/null || true
    # The cached package lists first (a fresh root has them from a minute ago);
    # when they are too old for the mirror, fetch them again.
    if ! in_root apt-get install -y -qq --no-install-recommends /tmp/herokupq.deb >"$DIR.apt.log" 2>&1; then
        say "package lists out of date; apt-get update"
        { in_root apt-get update -qq &&
            in_root apt-get install -y -qq --no-install-recommends /tmp/herokupq.deb; } >"$DIR.apt.log" 2>&1 ||
            { tail -n 20 "$DIR.apt.log" >&2; return 1; }
    fi
    rm -f "$DIR/tmp/herokupq.deb"
    mkdir -p "$CACHE/archives" && cp -n "$DIR/var/cache/apt/archives/"*.deb "$CACHE/archives/" 2>/dev/null || true
    say "herokupq installed with its Depends in $((SECONDS - t0)) s"
}

drop_root() {
    DIR=$1
    [ -d "$DIR" ] || return 0
    ! mountpoint -q "$DIR/proc" || umount "$DIR/proc" || umount -l "$DIR/proc"
    # Never follow a mount into the host: refuse if anything is still mounted below.
    if grep -q " $DIR/" /proc/mounts; then say "still mounted under $DIR; not removing it"; return 1; fi
    rm -rf --one-file-system -- "$DIR" "$DIR.debootstrap.log" "$DIR.apt.log"
}

case ${1:-} in
    make) make_root "$2" "$3" ;;
    drop) drop_root "$2" ;;
    why-not) why_not ;;
    *) echo "usage: $0 make DIR DEB | drop DIR | why-not" >&2; exit 2 ;;
esac
