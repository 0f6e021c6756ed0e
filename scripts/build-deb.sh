#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/build-deb.sh [OUTDIR]
#
# Build the binary package mmu-interval-notifier-dkms with
# `dpkg-buildpackage -us -uc -b` from a copy of the source tree (the files
# git knows, tracked or not ignored; so no build products of the working
# tree get in), and run lintian on the result. Everything lands in OUTDIR
# (default build/deb, gitignored): the .deb, .buildinfo, .changes,
# build.log, lintian.log and the exported tree in source/<name>/. Prints the path of the .deb on stdout.
# Fails when the build fails or lintian reports an error or a warning.
# Needs build-essential (dpkg-buildpackage checks it), debhelper, dh-dkms and
# lintian: `make deb` installs them.

set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

ver=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
src=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Source)
tree=$out/source/$src
work=$out/src
rm -rf "$work" "$out/source"
mkdir -p "$tree" "$work"

# The source tree, as git sees it; kept in OUTDIR/source/ (tests/dkms/run.sh
# hands it to autopkgtest), built in a copy.
# Without git, the tree's files less what .gitignore names.
(cd "$here" && scripts/tree-files.sh | cpio -pdm0 --quiet "$tree")
cp -a "$tree" "$work/$src"

echo "build-deb: dpkg-buildpackage -us -uc -b in $work/$src (log $out/build.log)" >&2
if ! (cd "$work/$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	echo "build-deb: dpkg-buildpackage failed; last lines of $out/build.log:" >&2
	tail -n 30 "$out/build.log" >&2
	exit 1
fi
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out/"
rm -rf "$work"

changes=$out/${src}_${ver}_$(dpkg --print-architecture).changes
deb=$(ls "$out"/*-dkms_"${ver}"_all.deb)

# Errors and warnings fail; info and pedantic tags are shown. Overrides
# (debian/*.lintian-overrides) carry their reason in a comment.
lintian --fail-on error,warning --display-info --pedantic \
	"$changes" 2>&1 | grep -v "^running with root privileges" >"$out/lintian.log"
lrc=${PIPESTATUS[0]}
if [ "$lrc" != 0 ]; then
	echo "build-deb: lintian failed (exit $lrc):" >&2
	cat "$out/lintian.log" >&2
	exit 1
fi
if [ -s "$out/lintian.log" ]; then
	sed 's/^/build-deb: lintian: /' "$out/lintian.log" >&2
fi
echo "build-deb: lintian clean" >&2
printf '%s\n' "$deb"
