#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static checks of the module: W=1 and sparse (C=2) builds with no
# diagnostics, checkpatch --strict, kernel-doc on every exported symbol,
# and the exports in namespace MNI. Prints TAP.
# Usage: lint.sh KDIR
set -u
kdir=$1
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${MNI_CACHE:-/var/cache/mni}
tools=$cache/tools
pass=0 fail=0 n=0

result() {	# result OK|FAIL name [detail-file]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		pass=$((pass + 1)); echo "ok $n - $2"
	else
		fail=$((fail + 1)); echo "not ok $n - $2"
		[ -n "${3:-}" ] && sed 's/^/# /' "$3" | head -40
	fi
}

# checkpatch.pl and kernel-doc come from Debian's linux-source-6.1 tarball.
if [ ! -x "$tools/scripts/checkpatch.pl" ]; then
	mkdir -p "$tools.tmp" &&
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$tools.tmp" --strip-components=1 \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' '*/scripts/kernel-doc' &&
	rm -rf "$tools" && mv "$tools.tmp" "$tools"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "TAP version 13"

for flags in "W=1" "C=2"; do
	touch "$top"/src/*.c
	make -s -C "$kdir" M="$top" $flags modules >"$log" 2>&1
	rc=$?
	# Debian's headers carry no vmlinux, so kbuild skips BTF: not ours.
	grep -v -e 'Skipping BTF generation' "$log" | grep -q . && rc=1
	[ $rc = 0 ] && result OK "build $flags: no diagnostics" ||
		result FAIL "build $flags: no diagnostics" "$log"
done

# Kernel code only: the userspace suites use libc types on purpose.
# Listed without git when there is none (scripts/tree-files.sh); an empty
# list would check nothing, so it fails.
files=$("$top/scripts/tree-files.sh" 'src/*.[ch]' 'include/*.h' \
	'tests/driver/*.[ch]' 'tests/lockdep/*.c' | tr '\0' '\n' |
	grep -v '^src/mni_trace.h$') || files=
nfiles=$(echo "$files" | grep -c .)
# TRACE_EVENT() bodies are laid out as macro arguments, which checkpatch
# reads as open-ended, misaligned calls: those two checks are off there.
if [ "$nfiles" = 0 ]; then
	echo "no source files listed (scripts/tree-files.sh)" >"$log"
	result FAIL "checkpatch --strict: no files to check" "$log"
else
	# shellcheck disable=SC2086 # one word per file
	(cd "$top" && perl "$tools/scripts/checkpatch.pl" --strict --no-tree --quiet \
		--ignore FILE_PATH_CHANGES -f $files &&
		perl "$tools/scripts/checkpatch.pl" --strict --no-tree --quiet \
		--ignore FILE_PATH_CHANGES,OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT \
		-f src/mni_trace.h) >"$log" 2>&1 &&
		result OK "checkpatch --strict: $((nfiles + 1)) files" ||
		result FAIL "checkpatch --strict" "$log"
fi

(cd "$top" && perl "$tools/scripts/kernel-doc" -none src/*.c src/*.h include/*.h) >"$log" 2>&1
[ -s "$log" ] && result FAIL "kernel-doc -none" "$log" || result OK "kernel-doc -none"

# Every export of the source, and nothing else, in namespace MNI, each with
# kernel-doc. An empty list examined nothing: a failure.
syms=$(cd "$top" && sed -n 's/^EXPORT_SYMBOL_NS_GPL(\([a-z_]*\), MNI_NS);$/\1/p' src/*.c)
missing=""
[ -n "$syms" ] || missing=" (no EXPORT_SYMBOL_NS_GPL in src/*.c)"
for sym in $syms; do
	grep -qP "\t$sym\t.*\tEXPORT_SYMBOL_GPL\tMNI\$" "$top/Module.symvers" || missing="$missing $sym"
	(cd "$top" && perl "$tools/scripts/kernel-doc" -function "$sym" src/*.c 2>/dev/null) |
		grep -q "$sym" || missing="$missing $sym(no-kernel-doc)"
done
nsyms=$(echo "$syms" | grep -c .)
nexp=$(grep -cP '\tEXPORT_SYMBOL_GPL\tMNI$' "$top/Module.symvers")
[ "$nsyms" = "$nexp" ] || missing="$missing ($nexp in Module.symvers, $nsyms in src)"
echo "missing:$missing" >"$log"
[ -z "$missing" ] && result OK "Module.symvers: $nsyms exports in namespace MNI, each with kernel-doc" ||
	result FAIL "Module.symvers: the exports of src/ in namespace MNI, each with kernel-doc" "$log"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
