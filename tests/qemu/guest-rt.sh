#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-rt.sh - the PREEMPT_RT run on the 6.12-rt debug kernel
# (DEBUG_ATOMIC_SLEEP, lockdep, KASAN), inside the QEMU guest
#
# The OOM reaper's and process_mrelease(2)'s non-blockable passes run the
# engine's callbacks inside the core's non_block_start() section, where a
# PREEMPT_RT spinlock_t or wait queue would sleep: DEBUG_ATOMIC_SLEEP then
# prints "BUG: sleeping function called from invalid context", which
# run.sh's console scan fails. So this runs guest-check.sh with mni_suite's
# nonblock_reap and nonblock_reap_busy (process_mrelease with the mirror
# lock free and held) and mni_triggers' stale_read_torture, on both
# flavours, and boundary_irq_put_and_set_owner and
# boundary_softirq_put_and_set_owner (put and set_owner from a hardirq
# handler and from a timer_list, whose softirq is a thread on RT) and
# put_irqs_off_wakes_reader_at_end (a put with interrupts off under a
# sleeping read_begin) on ours,
# and requires that each of those ran and passed
# (a skip, e.g. for a missing syscall, proves nothing here) and that the
# kernel is PREEMPT_RT. Ends with one summary line counting everything.

G=/guest
out=/tmp/guest-rt.out

# ok, not_ok, tap_continue, tap_summary.
# shellcheck source=tests/qemu/guest-tap.sh
. "$G/guest-tap.sh"
TESTS="nonblock_reap nonblock_reap_busy nonblock_reap_put_last"
# Ours only (the kernel's engine has no put): put and set_owner from a
# hardirq handler, which runs in hard interrupt context on PREEMPT_RT too,
# from the timer softirq, and with interrupts off under a sleeping reader.
MNI_TESTS="boundary_irq_put_and_set_owner boundary_softirq_put_and_set_owner
	put_irqs_off_wakes_reader_at_end"
TRIGGERS="stale_read_torture"

args="$TESTS $MNI_TESTS"
for t in $TRIGGERS; do
	args="$args t:$t"
done
# shellcheck disable=SC2086 # word list
sh "$G/guest-check.sh" $args | tee "$out"
tap_continue "$out"

# The version string names the preemption model: "#1 SMP PREEMPT_RT ...".
case " $(uname -v) " in
*" PREEMPT_RT "*) ok "rt/preempt_rt # $(uname -r) $(uname -v)" ;;
*) not_ok "rt/preempt_rt # not a PREEMPT_RT kernel: $(uname -r) $(uname -v)" ;;
esac

# Every test ran and passed on both flavours: an "ok" line without SKIP.
missing=''
for f in kern mni; do
	for t in $TESTS; do
		grep -qE "^ok [0-9]+ $f/$t\$" "$out" || missing="$missing $f/$t"
	done
	[ "$f" = kern ] || for t in $MNI_TESTS; do
		grep -qE "^ok [0-9]+ $f/$t\$" "$out" || missing="$missing $f/$t"
	done
	for t in $TRIGGERS; do
		grep -qE "^ok [0-9]+ triggers-$f/$t\$" "$out" ||
			missing="$missing triggers-$f/$t"
	done
done
if [ -z "$missing" ]; then
	ok "rt/all-ran # every test passed on both flavours, none skipped"
else
	not_ok "rt/all-ran # not run, skipped or failed:$missing"
fi

tap_summary
