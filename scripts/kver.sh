#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel release to build and test against:
#   1. $KVER if set;
#   2. else the newest /lib/modules/<rel>/build with <rel> ending in -amd64
#      (the Debian headers installed by scripts/deps.sh);
#   3. else `uname -r`, but only if /lib/modules/$(uname -r)/build exists.
# Exits 1 (message on stderr) when none applies.

set -eu

if [ -n "${KVER:-}" ]; then
	printf '%s\n' "$KVER"
	exit 0
fi

best=
for d in /lib/modules/*-amd64/build; do
	[ -d "$d/" ] || continue
	rel=${d%/build}
	rel=${rel##*/}
	best="$best$rel
"
done
if [ -n "$best" ]; then
	printf '%s' "$best" | sort -V | tail -n 1
	exit 0
fi

rel=$(uname -r)
if [ -d "/lib/modules/$rel/build/" ]; then
	printf '%s\n' "$rel"
	exit 0
fi

echo "kver: no kernel headers found (/lib/modules/*-amd64/build); run scripts/deps.sh" >&2
exit 1
