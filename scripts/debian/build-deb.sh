#!/usr/bin/env bash
# Build the Debian binary package from the tree with Debian's own tools:
# `make install` into a staging root, dpkg-shlibdeps for the linked
# libraries, dpkg-deb --build.   scripts/debian/build-deb.sh VERSION OUT.deb
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
VERSION=$1 OUT=$(realpath -m "$2")
STAGE=$ROOT/build/deb
ARCH=$(dpkg --print-architecture)

# The changelog's newest entry is this version: a new version needs its entry first.
top=$(dpkg-parsechangelog -l "$HERE/changelog" -S Version)
[ "$top" = "$VERSION" ] || { echo "build-deb: scripts/debian/changelog starts at $top, not $VERSION" >&2; exit 1; }

rm -rf "$STAGE"
mkdir -p "$STAGE/root/DEBIAN" "$STAGE/shlibs/debian"
# Built apart (build/deb-build) with Debian's hardening flags, the library and the command alike:
# fortify, stack protector, relro, bindnow (dpkg-buildflags, hardening=+all).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
(cd "$ROOT" && make -s install BUILD=build/deb-build DESTDIR="$STAGE/root" PREFIX=/usr \
    CFLAGS="$(dpkg-buildflags --get CFLAGS)" CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)" \
    LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" >/dev/null)
R=$STAGE/root
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$R/usr/bin/herokupq" "$R/usr/lib/herokupq/libherokupq.so"
gzip -9n "$R/usr/share/man/man1/herokupq.1" "$R/usr/share/man/man7/herokupq.7"
install -d "$R/usr/share/doc/herokupq"
install -m 644 "$ROOT/LICENSE" "$R/usr/share/doc/herokupq/copyright"
# A native package's changelog (Debian's format) is changelog.gz.
gzip -9n <"$HERE/changelog" >"$R/usr/share/doc/herokupq/changelog.gz"

# What the two binaries link (libc6, libpq5 for the command), as
# dpkg-shlibdeps reads it; then what the library loads at run time without
# linking it: libcurl4, libcjson1 and libssl3's libcrypto.so.3 (dlopen'd on
# first use) and the CA bundle libcurl4 only recommends.
printf 'Source: herokupq\n\nPackage: herokupq\nArchitecture: any\n' >"$STAGE/shlibs/debian/control"
shlibs=$(cd "$STAGE/shlibs" && dpkg-shlibdeps -O -e"$R/usr/bin/herokupq" \
    -e"$R/usr/lib/herokupq/libherokupq.so" 2>"$STAGE/shlibdeps.log")
shlibs=${shlibs#shlibs:Depends=}
depends="$shlibs, libcurl4 (>= 7.84), libcjson1 (>= 1.7.13), libssl3 (>= 3.0.0), ca-certificates"
size=$(du -k -s --apparent-size "$R" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$size/" \
    -e "s/@DEPENDS@/$depends/" "$HERE/control" >"$R/DEBIAN/control"
(cd "$R" && find usr -type f -printf '%P\n' | sort | sed 's|^|usr/|' | xargs md5sum) >"$R/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$R" "$OUT" >/dev/null
echo "$OUT"
