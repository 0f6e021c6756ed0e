#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mutate.sh - break the engine on purpose and check that the tests notice
#
# For each mutation: copy src/ (and include/) to a temporary directory,
# apply one sed edit to the engine file the mutation names (a pattern that
# matches nothing fails the script: a mutation that changed nothing proves
# nothing), then build and run against it, one after the other, the asan
# model (also with rounds of 4), stress, callbacks and boundary, until one
# fails (run_bins()): the mutation must make a run FAIL.
# TAP: "ok N - mutation X caught by <test>"; ends "N passed, N failed".
#
# Environment: MNI_SEED (default 1), MNI_MUTATE_KEEP=1 keeps the temp dir,
# MNI_MUTATE_JOBS (default 2) mutations at a time.

set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../src" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mni-mutate.XXXXXX")
[ "${MNI_MUTATE_KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
seed=${MNI_SEED:-1}

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# name|file in src/|sed expression (applied to that file)
MUTATIONS='put-lock-irqs-on|mni_put.c|s/^	raw_spin_lock_irqsave(\&it->lock, flags);$/	raw_spin_lock(\&it->lock);/
put-no-reader-wake|mni_put.c|s/^		mni_itree_wake_any(it);$/		(void)0;/
wake-with-irqs-off|mni_internal.h|s/^	if (!irqs_disabled())$/	if (1)/
end-closes-another|mni_walk.c|s/		if (inv->range == range)$/		if (inv->range == range || 1)/
wait-for-nothing|mni_read.c|s/^	if (mni_itree_overlap_in_flight(it, sub))$/	if (0 \&\& mni_itree_overlap_in_flight(it, sub))/
wait-for-latest-only|mni_internal.h|s/^		if (mni_inval_overlaps(inv, sub))$/		if (inv->link.pprev == \&it->inflight.first \&\& mni_inval_overlaps(inv, sub))/
drop-insert-collisions|mni_internal.h|s/^		if (mni_inval_overlaps(inv, sub))$/		if (inv->seq > mni_sub_stamp(sub) \&\& mni_inval_overlaps(inv, sub))/
release-no-collision|mni_read.c|s/^		\*seq = mni_itree_collision_seq(sub);$/		*seq = READ_ONCE(sub->invalidate_seq);/
remove-no-wait|mni_itree.c|s/^	if (mni_itree_sub_busy(it, sub, false) ||$/	if ((0 \&\& mni_itree_sub_busy(it, sub, false)) ||/
call-new-and-dying|mni_walk.c|s/^		if (mni_sub_stamp(sub) < inv->seq) {$/		if (sub) {/
refused-record-kept|mni_walk.c|s/^	if (refused) {$/	if (0) {/
lost-wake-up|mni_internal.h|s/^	if (swait_active(\&it->wq))$/	if (0)/
walk-end-no-wake|mni_walk.c|s/^	if (!READ_ONCE(inv->waiters))$/	if (1 || !READ_ONCE(inv->waiters))/
held-slot-done|mni_internal.h|s/^	if (i >= smp_load_acquire(\&inv->pos))$/	if (0 \&\& i >= smp_load_acquire(\&inv->pos))/
unlink-no-advance|mni_internal.h|s/^		if (inv->next == \&sub->interval_tree)$/		if (0)/
put-while-held|mni_put.c|s/^	} else if (mni_itree_in_flight(it) \&\& mni_itree_sub_busy(it, sub, true)) {$/	} else if (0 \&\& mni_itree_sub_busy(it, sub, true)) {/
reap-skips-marked|mni_put.c|s/^		if (mni_slot_is_put(sub)) {$/		if (0 \&\& mni_slot_is_put(sub)) {/
update-no-queue|mni_update.c|s/^		return inv->next \&\&$/		return 0 \&\&/
update-owed-lost|mni_update.c|/^	\/\* Read by mni_itree_walk_end(). \*\/$/{n;s/.*/	(void)0;/}
update-keeps-stamp|mni_update.c|s/^	mni_sub_restamp(sub, it->seq);$/	(void)0;/
unlink-keeps-owed|mni_internal.h|s/^			if (o->sub != sub) {$/			if (1) {/
update-no-propagate|mni_itree.c|s/^		mni_it_augment.propagate(\&sub->interval_tree.rb, NULL);$/		(void)0;/
finish-not-widened|mni_update.c|s/^		if (mni_inval_may_finish(inv, sub))$/		if (0)/
walk-done-drops-round-early|mni_walk.c|s/^	if (!wake)$/	if (1)/
last-user-ignores-holds|mni_internal.h|s/^	return !it->nr_subs \&\& !it->nr_holds;$/	return !it->nr_subs;/
unlink-not-counted|mni_internal.h|s/^	it->nr_subs--;$/	(void)0;/
insert-used-ignores-holds|mni_itree.c|s/^	used = mni_itree_used(it);$/	used = it->nr_subs;/
own-pass-waits-finishes|mni_internal.h|s/^		     (put || !mni_inval_is_own_pass(inv))))$/		     1))/
own-finish-not-seen|mni_itree.c|s/^	    mni_itree_own_finish_take(it, sub, NULL)) {$/	    0) {/
own-finish-not-run|mni_read.c|s/^	mni_itree_own_finish_take(it, sub, \&own);$/	(void)0;/
own-slot-held|mni_internal.h|s/^		if (!put) {$/		if (0) {/
own-removed-finish-kept|mni_walk.c|s/^			if (unlikely(!READ_ONCE(inv->batch\[i\]))) {$/			if (0) {/
map-nested-annotation|mni_itree.c|s/^	if (lock_is_held(\&mni_invalidate_map))$/	if (0)/
owner-stale-ignored|mni_internal.h|s/^	return mni_inval_skips(inv, sub) \&\& !inv->owner_stale;$/	return mni_inval_skips(inv, sub);/
owner-reached-always|mni_itree.c|s/^	if (mni_sub_stamp(sub) >= inv->seq || !inv->next ||$/	if (1 || !inv->next ||/
update-no-wake|mni_update.c|s/^	mni_itree_wake_any(it);$/	(void)0;/
set-owner-no-wake|mni_itree.c|s/^		mni_itree_wake_any(it);$/		(void)0;/
finishing-walk-not-done|mni_walk.c|s/^	if (inv->finishing || !done)$/	if (!done)/
reader-not-told-of-unlink|mni_internal.h|s/^		if (r->sub == sub)$/		if (0)/
remove-trace-unlocked|mni_put.c|s/^		trace_mni_remove(it->id, sub, ret);$/		{ raw_spin_unlock_irqrestore(\&it->lock, flags); trace_mni_remove(it->id, sub, ret); raw_spin_lock_irqsave(\&it->lock, flags); }/
insert-trace-unlocked|mni_itree.c|s/^	trace_mni_insert(it->id, sub, 0);$/	raw_spin_unlock_irqrestore(\&it->lock, flags); trace_mni_insert(it->id, sub, 0); raw_spin_lock_irqsave(\&it->lock, flags);/
start-after-release-calls|mni_walk.c|s/^	\*skip = it->released;$/	*skip = false;/
overflow-no-collision|mni_internal.h|s/^	if (it->nr_overflow)$/	if (0)/
blockable-takes-reserve|mni_walk.c|s/^	inv = mni_spare_take_locked(it, blockable ? MNI_SPARE_RESERVE : 0);$/	inv = mni_spare_take_locked(it, 0);/
overflow-slot-kept|mni_walk.c|s/^		ended = mni_overflow_put_locked(it, range);$/		ended = false;/
blockable-no-slot-refused|mni_walk.c|s/^		if (!blockable)$/		if (1)/
dead-start-needs-slot|mni_walk.c|s/^	else if (stack \&\& (it->dead || mni_overflow_take_locked(it, range)))$/	else if (stack \&\& (0 || mni_overflow_take_locked(it, range)))/
read-unlocked-ignores-busy|mni_read.c|s/^	if (smp_load_acquire(\&it->busy))$/	if (0 \&\& smp_load_acquire(\&it->busy))/
busy-not-published-at-start|mni_walk.c|/^	mni_itree_publish_busy_locked(it);$/{N;s/^	mni_itree_publish_busy_locked(it);\nout:$/	(void)0;\nout:/}
busy-not-published-at-end|mni_walk.c|/^	mni_itree_publish_busy_locked(it);$/{N;s/^	mni_itree_publish_busy_locked(it);\n	in_flight/	(void)0;\n	in_flight/}
busy-ignores-dead|mni_internal.h|s/^			  it->nr_inflight + it->nr_overflow + it->dead);$/			  it->nr_inflight + it->nr_overflow);/
unlinked-stamp-linked|mni_internal.h|s/^	return (stamp \& 1) \&\& stamp >= MNI_SEQ_FIRST \&\& stamp <= seq;$/	return (void)seq, stamp != MNI_STAMP_DYING;/
dying-stamp-linked|mni_internal.h|s/^	return (stamp \& 1) \&\& stamp >= MNI_SEQ_FIRST \&\& stamp <= seq;$/	return (void)seq, (stamp \& 1) \&\& stamp >= MNI_SEQ_FIRST;/
poisoned-stranger-linked|mni_internal.h|s/^	return (stamp \& 1) \&\& stamp >= MNI_SEQ_FIRST \&\& stamp <= seq;$/	return (void)seq, (stamp \& 1) \&\& stamp != MNI_STAMP_DYING;/'

n=0
pass=0
fail=0
total=$(($(printf '%s\n' "$MUTATIONS" | wc -l) + 1))
echo "TAP version 13"
echo "1..$total"

# Build one binary ($3) of build directory $1 from the engine in $2.
build_bin() {
	make -s -j2 -C "$here" B="$1" MNI_SRC="$2" "$1/$3" >>"$1.build.log" 2>&1
}

# Build each binary just before it runs, and stop at the first run that
# fails: most mutations fail the model, and the binaries after it are then
# never built. Prints which test of which binary failed (the first "not
# ok" lines' names) and returns 0; returns 1 if every run passed, 2 if a
# binary did not build.
run_bins() {
	b=$1
	for bin in asan/model asan-b4/model asan/stress asan/callbacks \
		   asan/boundary; do
		build_bin "$b" "$2" "$bin" || return 2
		log=$b.$(echo "$bin" | tr / -).log
		case $bin in
		*/model)
			MNI_SEED=$seed MNI_ROUNDS=2 MNI_MODEL_OPS=10000 \
				timeout 120 "$b/$bin" >"$log" 2>&1 ;;
		*/stress)
			MNI_SEED=$seed MNI_STRESS_SECONDS=2 \
				timeout 120 "$b/$bin" >"$log" 2>&1 ;;
		*/callbacks)
			timeout 300 "$b/$bin" >"$log" 2>&1 ;;
		*)
			timeout 120 "$b/$bin" >"$log" 2>&1 ;;
		esac
		[ $? -ne 0 ] || continue
		case $bin in
		asan/model) what=model prefix= ;;
		asan-b4/model) what='model with rounds of 4' prefix='rounds of 4: ' ;;
		asan/stress) what=stress prefix= ;;
		*) what=${bin#asan/} prefix="${bin#asan/}: " ;;
		esac
		caught=$(grep '^not ok' "$log" | sed -E "s/^not ok [0-9]+ (- )?/$prefix/; s/ # .*//" | paste -sd ';' -)
		echo "${caught:-$what (crashed)}"
		return 0
	done
	return 1
}

# The unmutated engine must pass, or every "caught" below means nothing.
n=$((n + 1))
mkdir -p "$tmp/orig"
run_bins "$tmp/orig/build" "$src" >/dev/null
if [ $? -eq 1 ]; then
	echo "ok $n - unmutated engine passes"
	pass=$((pass + 1))
else
	echo "not ok $n - unmutated engine passes (see $tmp/orig)"
	fail=$((fail + 1))
fi

# One mutation: its TAP line without the number, then any diagnostics,
# to $tmp/res.IDX.
mutate_one() {
	name=$2 file=$3 expr=$4
	d=$tmp/$name
	out=$tmp/res.$1
	mkdir -p "$d"
	cp -r "$src" "$d/src"
	cp -r "$src/../include" "$d/include"
	if [ ! -f "$d/src/$file" ]; then
		echo "not ok - mutation $name: no file src/$file" >"$out"
		return
	fi
	sed -i "$expr" "$d/src/$file"
	if cmp -s "$src/$file" "$d/src/$file"; then
		echo "not ok - mutation $name: the sed pattern matched nothing" >"$out"
		return
	fi
	by=$(run_bins "$d/build" "$d/src")
	case $? in
	0)
		echo "ok - mutation $name caught by $by" >"$out" ;;
	2)
		{
			echo "not ok - mutation $name: does not build"
			sed 's/^/    # /' "$d/build.build.log" | head -20
		} >"$out" ;;
	*)
		echo "not ok - mutation $name survived the tests" >"$out" ;;
	esac
}

# $jobs workers (most of a mutation's time is one compiler or one test
# binary): worker k takes the mutations whose index is k modulo $jobs.
# The lines come out in the list's order once all are done.
jobs=${MNI_MUTATE_JOBS:-2}
k=0
while [ "$k" -lt "$jobs" ]; do
	(
		idx=0
		while IFS='|' read -r name file expr; do
			idx=$((idx + 1))
			[ $((idx % jobs)) -eq "$k" ] || continue
			mutate_one "$idx" "$name" "$file" "$expr"
		done <<LIST
$MUTATIONS
LIST
	) &
	k=$((k + 1))
done
wait

idx=0
while [ "$idx" -lt $((total - 1)) ]; do
	idx=$((idx + 1))
	n=$((n + 1))
	if [ ! -f "$tmp/res.$idx" ]; then
		echo "not ok $n - mutation $idx: no result"
		fail=$((fail + 1))
		continue
	fi
	line=$(head -n 1 "$tmp/res.$idx")
	case $line in
	"ok - "*)
		echo "ok $n ${line#ok }"
		pass=$((pass + 1)) ;;
	*)
		echo "not ok $n ${line#not ok }"
		fail=$((fail + 1)) ;;
	esac
	tail -n +2 "$tmp/res.$idx"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
