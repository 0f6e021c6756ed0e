#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels-table.sh record LANE LOG SECONDS PASSED FAILED SKIPPED - keep
#	the result of a kernel lane (stock-*, matrix-*, debug-*), as
#	scripts/check.sh counted it, in results/kernels.csv, one row a lane,
#	replacing the lane's row of an earlier run; LOG gives the kernel
#	release and page size; other lanes are ignored
# kernels-table.sh readme - write README.md's table of tested kernels
#	from results/kernels.csv, between its two kernels-table markers
#
# scripts/check.sh calls both: every `make check`, `make check-quick` and
# `make matrix` leaves the table of its own kernels in README.md, so the
# table says what the last run of each lane found, never what was typed.
# A row: lane, kernel release, architecture, page size, passed, failed,
# skipped, seconds, date, commit.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
csv=$top/results/kernels.csv
readme=$top/README.md
begin='<!-- kernels-table: written by scripts/kernels-table.sh from results/kernels.csv -->'
end='<!-- kernels-table end -->'

die() {
	echo "kernels-table.sh: $*" >&2
	exit 2
}

# The release a lane ran, from what its scripts print.
release_of() {
	local lane=$1 log=$2 r=''

	case $lane in
	stock-*) r=${lane#stock-} ;;
	matrix-arm64-*)
		r=$(sed -nE 's/^# arm64 [^ ]+: ([^ ,]+), .*pages, root .*/\1/p' "$log" | head -n 1) ;;
	matrix-*)
		r=$(sed -nE 's/^# [^ ]+: ([^ ,]+), the newest kernel of .*/\1/p' "$log" | head -n 1) ;;
	debug-*)
		r=$(sed -nE 's/.*booting \/[^ ]*\/kernels\/([^/ ]+)\/.*/\1/p' "$log" | head -n 1) ;;
	esac
	echo "${r:-?}"
}

record() {
	local lane=$1 log=$2 secs=$3 p=$4 f=$5 s=$6 arch=amd64 page=4K rel commit

	case $lane in
	*-prepare | debug-kernel-*) return 0 ;;
	stock-* | matrix-* | debug-*) ;;
	*) return 0 ;;
	esac
	[ -r "$log" ] || die "no log $log"
	case $lane in
	matrix-arm64-*)
		arch=arm64
		page=$(sed -nE 's/^# arm64 [^ ]+: [^ ,]+, ([0-9]+K)iB pages.*/\1/p' "$log" | head -n 1)
		;;
	esac
	rel=$(release_of "$lane" "$log")
	commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null) ||
		commit="v$(cat "$top/VERSION" 2>/dev/null || echo '?')"
	mkdir -p "$(dirname "$csv")"
	touch "$csv"
	{
		grep -v "^$lane," "$csv" || true
		echo "$lane,$rel,$arch,${page:-?},$p,$f,$s,$secs,$(date -u +%F),$commit"
	} | sort -t, -k1,1 >"$csv.new"
	mv "$csv.new" "$csv"
}

readme() {
	local table

	[ -s "$csv" ] || die "no rows in $csv"
	if ! grep -qxF "$begin" "$readme" || ! grep -qxF "$end" "$readme"; then
		die "README.md has no kernels-table markers"
	fi
	table=$(mktemp)
	{
		echo "$begin"
		echo '| lane | kernel | arch | page | passed | failed | skipped | time | date | commit |'
		echo '|---|---|---|---|---:|---:|---:|---:|---|---|'
		awk -F, '{ printf "| %s | %s | %s | %siB | %s | %s | %s | %d min %02d s | %s | %s |\n",
			$1, $2, $3, $4, $5, $6, $7, $8 / 60, $8 % 60, $9, $10 }' "$csv"
		echo "$end"
	} >"$table"
	awk -v b="$begin" -v e="$end" -v t="$table" '
		$0 == b { while ((getline l < t) > 0) print l; skip = 1; next }
		$0 == e { skip = 0; next }
		!skip' "$readme" >"$readme.new"
	rm -f "$table"
	mv "$readme.new" "$readme"
}

case ${1:-} in
record)
	[ $# = 7 ] || die "usage: record LANE LOG SECONDS PASSED FAILED SKIPPED"
	record "$2" "$3" "$4" "$5" "$6" "$7" ;;
readme) readme ;;
*) die "usage: kernels-table.sh record LANE LOG SECONDS PASSED FAILED SKIPPED | readme" ;;
esac
