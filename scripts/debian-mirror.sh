#!/bin/sh
# Prints the Debian mirror this machine's apt uses (the archive, not the security one), for
# debootstrap and the sources of a root built with it: the first URI ending in /debian of
# /etc/apt/sources.list.d/*.sources (deb822), else of the one-line sources lists; else
# http://deb.debian.org/debian. Used by tests/minroot.sh and .ci/root.
set -eu
m=$(sed -n 's/^URIs:[[:space:]]*\(http[^ ]*\/debian\)\/*[[:space:]]*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
[ -n "$m" ] || m=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\(http[^ ]*\/debian\)\/*[[:space:]].*/\2/p' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
echo "${m:-http://deb.debian.org/debian}"
