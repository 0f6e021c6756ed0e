// SPDX-License-Identifier: GPL-2.0
/*
 * boundary.c - directed tests of the patterns the API documents, at the
 * engine's boundary: a release that frees at once, tracepoints that read a
 * subscription, callbacks after the release pass, and invalidations with
 * no record to take.
 *
 * Each test forces one interleaving with threads and flags (no sleeps to
 * win a race): a thread that must be inside a wait is waited for through
 * the shim's count of sleepers. Memory a release frees is freed at once,
 * so ASan reports any later read.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/slab.h>
#include <linux/tracepoint.h>

#include "mni.h"
#include "mni_itree.h"
#include "shared_ref.h"
#include "tap.h"

#define PG		4096UL

/* The engine's, also given here to build against an engine without them. */
#ifndef MNI_OVERFLOW_SLOTS
#define MNI_OVERFLOW_SLOTS	4
#endif

static struct mm_struct *const fake_mm = (struct mm_struct *)0x30000;

/* A subscription the tests allocate, so a release can free it. */
struct bsub {
	struct mmu_interval_notifier sub;
	int calls;		/* atomic: callbacks made on it */
	int releases;		/* atomic: RELEASE callbacks */
	int after_release;	/* atomic: callbacks after its RELEASE returned */
	bool refuse;		/* non-blockable callbacks refuse */
	void (*hook)(struct bsub *b);	/* run inside the callback */
};

static int released_subs;	/* atomic: subs bsub_free_release() freed */

static void flag_set(int *f)
{
	__atomic_store_n(f, 1, __ATOMIC_RELEASE);
}

static bool flag_get(int *f)
{
	return __atomic_load_n(f, __ATOMIC_ACQUIRE);
}

static void wait_flag(int *f)
{
	while (!flag_get(f))
		sched_yield();
}

static bool bsub_invalidate(struct mmu_interval_notifier *sub,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq)
{
	struct bsub *b = container_of(sub, struct bsub, sub);

	if (flag_get(&b->releases))
		__atomic_add_fetch(&b->after_release, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&b->calls, 1, __ATOMIC_RELAXED);
	if (!mmu_notifier_range_blockable(range) && b->refuse)
		return false;
	mmu_interval_set_seq(sub, cur_seq);
	if (b->hook)
		b->hook(b);
	if (range->event == MMU_NOTIFY_RELEASE)
		flag_set(&b->releases);
	return true;
}

static const struct mmu_interval_notifier_ops bsub_ops = {
	.invalidate = bsub_invalidate,
};

static struct bsub *bsub_new(unsigned long start, unsigned long last)
{
	struct bsub *b = calloc(1, sizeof(*b));

	if (!b)
		abort();
	b->sub.interval_tree.start = start;
	b->sub.interval_tree.last = last;
	b->sub.ops = &bsub_ops;
	b->sub.mm = fake_mm;
	return b;
}

/* A release that poisons and frees at once, as README's mirror_release(). */
static void bsub_free_release(struct mmu_interval_notifier *sub)
{
	struct bsub *b = container_of(sub, struct bsub, sub);

	memset(b, 0x6b, sizeof(*b));
	free(b);
	__atomic_add_fetch(&released_subs, 1, __ATOMIC_RELEASE);
}

static void bsub_remove(struct mni_itree *it, struct bsub *b)
{
	if (mni_itree_remove_begin(it, &b->sub) > 0)
		mni_itree_remove_wait(it, &b->sub);
	free(b);
}

static struct mmu_notifier_range mkrange(unsigned long start,
					 unsigned long end, bool blockable,
					 enum mmu_notifier_event event)
{
	return (struct mmu_notifier_range){
		.mm = fake_mm,
		.start = start,
		.end = end,
		.flags = blockable ? MMU_NOTIFIER_RANGE_BLOCKABLE : 0,
		.event = event,
	};
}

/* ---- 1: a reader asleep on a sub its own callback puts ------------- */

static struct mni_itree it1;
static struct bsub *m1;
static int in_cb1, reader_asleep1;

/* M's UNMAP callback: once its reader sleeps on M, put M (release frees). */
static void put_self_hook(struct bsub *b)
{
	flag_set(&in_cb1);
	wait_flag(&reader_asleep1);
	CHECK(mni_itree_put(&it1, &b->sub, bsub_free_release) == 1,
	      "a put from the sub's own callback did not defer");
}

static void *munmap_thread(void *arg)
{
	struct mmu_notifier_range *r = arg;

	CHECK(!mni_itree_invalidate_start(&it1, r), "blockable start failed");
	/* The walk is over: it released M. Then the end wakes the reader. */
	CHECK(flag_get(&released_subs), "the walk did not release M");
	mni_itree_invalidate_end(&it1, r);
	return NULL;
}

static void *sleep_watch(void *arg)
{
	unsigned long before = (unsigned long)arg;

	while (shim_swait_sleeping(&it1.wq) == 0 && shim_sleeps() == before)
		sched_yield();
	flag_set(&reader_asleep1);
	return NULL;
}

static void test_reader_of_put_sub(void)
{
	struct mmu_notifier_range r = mkrange(PG, 3 * PG, true, MMU_NOTIFY_UNMAP);
	struct bsub *other = bsub_new(8 * PG, 9 * PG - 1);
	pthread_t walker, watch;
	unsigned long seq = 1;
	struct mni_reader reader;
	int ret;

	CHECK(!mni_itree_init(&it1, 1), "init");
	m1 = bsub_new(PG, 2 * PG - 1);
	m1->hook = put_self_hook;
	/* Another sub keeps the tree non-empty: a lookup of M walks it. */
	mni_itree_insert(&it1, &other->sub);
	mni_itree_insert(&it1, &m1->sub);
	pthread_create(&walker, NULL, munmap_thread, &r);
	wait_flag(&in_cb1);
	ret = mni_itree_read_prepare(&it1, &m1->sub, &seq, &reader);
	CHECK(ret == -EAGAIN, "read_sample during the walk = %d", ret);
	pthread_create(&watch, NULL, sleep_watch, (void *)shim_sleeps());
	/* M is freed while this sleeps; the engine must not touch it again. */
	ret = mni_itree_read_wait(&it1, &reader, MAX_SCHEDULE_TIMEOUT, false,
				  &seq);
	pthread_join(watch, NULL);
	pthread_join(walker, NULL);
	CHECK(ret == -ESTALE, "read_wait on a sub put meanwhile = %d", ret);
	/* Our subs' sequences are odd: an even one always collides. */
	CHECK(!(seq & 1), "read_wait on a put sub gave %#lx, not a collision",
	      seq);
	bsub_remove(&it1, other);
	mni_itree_destroy(&it1);
}

/* ---- 6: tracepoints that read a put subscription ------------------- */

static struct mni_itree it6;
static struct bsub *a6, *s6;
static int a6_in_cb, a6_go, trace_armed;
static const char *armed_event;
static __thread bool trace_thread;

/*
 * In the putting (or inserting) thread, before its trace fills the record:
 * let the walk release the sub first. Under the engine lock the walk
 * cannot, and the record is safe: do not wait then.
 */
static void race_hook(const char *event)
{
	if (!trace_thread || strcmp(event, armed_event) ||
	    !__atomic_exchange_n(&trace_armed, 0, __ATOMIC_ACQ_REL))
		return;
	flag_set(&a6_go);
	if (shim_spin_depth())
		return;
	while (!flag_get(&released_subs))
		sched_yield();
}

static void block_hook(struct bsub *b)
{
	(void)b;
	flag_set(&a6_in_cb);
	wait_flag(&a6_go);
}

static void *walk6(void *arg)
{
	struct mmu_notifier_range *r = arg;

	CHECK(!mni_itree_invalidate_start(&it6, r), "start failed");
	mni_itree_invalidate_end(&it6, r);
	return NULL;
}

static void test_remove_trace_after_reap(void)
{
	struct mmu_notifier_range r = mkrange(0, 4 * PG, true, MMU_NOTIFY_CLEAR);
	pthread_t walker;

	CHECK(!mni_itree_init(&it6, 6), "init");
	a6 = bsub_new(0, PG - 1);
	a6->hook = block_hook;
	s6 = bsub_new(2 * PG, 3 * PG - 1);
	mni_itree_insert(&it6, &a6->sub);
	mni_itree_insert(&it6, &s6->sub);
	armed_event = "mni_remove";
	shim_trace_hook = race_hook;
	trace_thread = true;
	trace_armed = 1;
	pthread_create(&walker, NULL, walk6, &r);
	/* The walk's round holds A (running) and S (to come). */
	wait_flag(&a6_in_cb);
	CHECK(mni_itree_put(&it6, &s6->sub, bsub_free_release) == 1,
	      "a put of a sub the walk holds did not defer");
	pthread_join(walker, NULL);
	CHECK(flag_get(&released_subs), "the walk did not release S");
	bsub_remove(&it6, a6);
	mni_itree_destroy(&it6);
}

static struct bsub *n6;

/* N's callback puts N; its own walk releases it after the round. */
static void put_new_hook(struct bsub *b)
{
	CHECK(mni_itree_put(&it6, &b->sub, bsub_free_release) == 1,
	      "a put from the sub's own callback did not defer");
}

static void *walk_after_insert(void *arg)
{
	struct mmu_notifier_range *r = arg;

	wait_flag(&a6_go);
	CHECK(!mni_itree_invalidate_start(&it6, r), "start failed");
	mni_itree_invalidate_end(&it6, r);
	return NULL;
}

static void test_insert_trace_after_reap(void)
{
	struct mmu_notifier_range r = mkrange(0, 4 * PG, true, MMU_NOTIFY_UNMAP);
	struct bsub *keep = bsub_new(8 * PG, 9 * PG - 1);
	pthread_t walker;

	CHECK(!mni_itree_init(&it6, 7), "init");
	mni_itree_insert(&it6, &keep->sub);
	n6 = bsub_new(PG, 2 * PG - 1);
	n6->hook = put_new_hook;
	armed_event = "mni_insert";
	shim_trace_hook = race_hook;
	pthread_create(&walker, NULL, walk_after_insert, &r);
	trace_thread = true;
	trace_armed = 1;
	/* The insert's trace runs after a walk called, put and freed N. */
	mni_itree_insert(&it6, &n6->sub);
	pthread_join(walker, NULL);
	CHECK(flag_get(&released_subs), "the walk did not release N");
	bsub_remove(&it6, keep);
	mni_itree_destroy(&it6);
}

/* ---- 8: no callback after the release pass -------------------------- */

static void test_no_callback_after_release(void)
{
	struct mmu_notifier_range clear = mkrange(0, 4 * PG, true,
						  MMU_NOTIFY_CLEAR);
	struct mmu_notifier_range oom = mkrange(0, 4 * PG, false,
						MMU_NOTIFY_UNMAP);
	struct bsub *a = bsub_new(0, PG - 1), *b = bsub_new(2 * PG, 3 * PG - 1);
	struct mni_itree it;
	unsigned long seq;

	CHECK(!mni_itree_init(&it, 8), "init");
	mni_itree_insert(&it, &a->sub);
	mni_itree_insert(&it, &b->sub);
	mni_itree_release(&it, fake_mm);
	CHECK(a->calls == 1 && b->calls == 1 && a->releases && b->releases,
	      "the release pass called %d and %d times", a->calls, b->calls);
	/* An rmap walk that loaded the start notifier before it was unhooked. */
	CHECK(!mni_itree_invalidate_start(&it, &clear),
	      "a start after release failed");
	mni_itree_invalidate_end(&it, &clear);
	CHECK(!mni_itree_invalidate_start(&it, &oom),
	      "a non-blockable start after release failed");
	mni_itree_invalidate_end(&it, &oom);
	CHECK(!a->after_release && !b->after_release,
	      "callbacks after RELEASE: %d and %d", a->after_release,
	      b->after_release);
	/* Reads still collide at once, and nothing waits for an end. */
	CHECK(!mni_itree_read_sample(&it, &a->sub, &seq) &&
	      mmu_interval_read_retry(&a->sub, seq),
	      "read_begin after release does not collide");
	CHECK(!mni_itree_invalidate_start(&it, &clear), "start");
	CHECK(!mni_itree_read_sample(&it, &b->sub, &seq), "a read waits");
	mni_itree_invalidate_end(&it, &clear);
	bsub_remove(&it, a);
	bsub_remove(&it, b);
	mni_itree_destroy(&it);
}

/* ---- 9: invalidations with no record to take ------------------------ */

/* Take every spare record with non-blockable starts no sub overlaps. */
static void use_up_spares(struct mni_itree *it,
			  struct mmu_notifier_range *held, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		held[i] = mkrange((100 + 2 * i) * PG, (101 + 2 * i) * PG, false,
				  MMU_NOTIFY_UNMAP);
		CHECK(!mni_itree_invalidate_start(it, &held[i]),
		      "non-blockable start %d with a spare left failed", i);
	}
}

static void end_all(struct mni_itree *it, struct mmu_notifier_range *held,
		    int n)
{
	int i;

	for (i = 0; i < n; i++)
		mni_itree_invalidate_end(it, &held[i]);
}

/*
 * The OOM reaper's pass over a range no subscription overlaps, with no
 * record left, is not refused; a sub inserted over it meanwhile still
 * waits for its end.
 */
static void test_nonblock_no_record_no_overlap(void)
{
	struct mmu_notifier_range held[2], r = mkrange(10 * PG, 12 * PG, false,
						      MMU_NOTIFY_UNMAP);
	struct bsub *far = bsub_new(50 * PG, 51 * PG - 1);
	struct bsub *n = bsub_new(10 * PG, 11 * PG - 1);
	struct mni_itree it;
	unsigned long seq;
	int ret;

	CHECK(!mni_itree_init(&it, 9), "init");
	mni_itree_insert(&it, &far->sub);
	use_up_spares(&it, held, 2);
	shim_kmalloc_fail = 1000;
	ret = mni_itree_invalidate_start(&it, &r);
	shim_kmalloc_fail = 0;
	CHECK(!ret, "a non-blockable start no sub overlaps was refused for want of a record");
	mni_itree_insert(&it, &n->sub);
	CHECK(mni_itree_read_sample(&it, &n->sub, &seq) == -EAGAIN,
	      "a sub inserted over a recordless invalidation does not wait for it");
	mni_itree_invalidate_end(&it, &r);
	end_all(&it, held, 2);
	CHECK(!mni_itree_read_sample(&it, &n->sub, &seq),
	      "read_begin still waits after every end");
	bsub_remove(&it, n);
	bsub_remove(&it, far);
	mni_itree_destroy(&it);
}

/*
 * Blockable invalidations that cannot allocate (reclaim's, of an OOM
 * victim) leave the reserved record to the OOM reaper's pass, also once
 * every overflow slot is taken.
 */
static void test_reserve_kept_for_nonblock(void)
{
	struct mmu_notifier_range b[8], nb = mkrange(0, PG, false,
						     MMU_NOTIFY_UNMAP);
	struct bsub *a = bsub_new(0, PG - 1);
	struct mni_itree it;
	int i, n, ret;

	CHECK(!mni_itree_init(&it, 10), "init");
	mni_itree_insert(&it, &a->sub);
	shim_kmalloc_fail = 1000;
	/* One takes a spare, the others an overflow slot each. */
	for (n = 0; n < MNI_OVERFLOW_SLOTS + 1; n++) {
		b[n] = mkrange((20 + 2 * n) * PG, (21 + 2 * n) * PG, true,
			       MMU_NOTIFY_CLEAR);
		CHECK(!mni_itree_invalidate_start(&it, &b[n]),
		      "blockable start %d", n);
	}
	ret = mni_itree_invalidate_start(&it, &nb);
	shim_kmalloc_fail = 0;
	CHECK(!ret && a->calls == 1,
	      "the reaper's start over an accepting sub = %d (%d calls): the reserve was taken",
	      ret, a->calls);
	mni_itree_invalidate_end(&it, &nb);
	for (i = 0; i < n; i++)
		mni_itree_invalidate_end(&it, &b[i]);
	bsub_remove(&it, a);
	mni_itree_destroy(&it);
}

static struct mni_itree it9;
static int b9_returned;

static void *blockable_start9(void *arg)
{
	struct mmu_notifier_range *r = arg;

	shim_kmalloc_fail = 1000;
	CHECK(!mni_itree_invalidate_start(&it9, r), "blockable start");
	shim_kmalloc_fail = 0;
	flag_set(&b9_returned);
	return NULL;
}

/*
 * With every slot in use and no memory, a blockable start sleeps until an
 * end gives a slot back; the reserve stays.
 */
static void test_blockable_waits_for_slot(void)
{
	struct mmu_notifier_range held[MNI_OVERFLOW_SLOTS + 2];
	struct mmu_notifier_range r = mkrange(0, PG, true, MMU_NOTIFY_CLEAR);
	struct bsub *a = bsub_new(0, PG - 1);
	unsigned long sleeps;
	pthread_t t;
	int i;

	CHECK(!mni_itree_init(&it9, 12), "init");
	mni_itree_insert(&it9, &a->sub);
	shim_kmalloc_fail = 1000;
	/* One spare, then every slot: the reserve is left. */
	for (i = 0; i < MNI_OVERFLOW_SLOTS + 1; i++) {
		held[i] = mkrange((100 + 2 * i) * PG, (101 + 2 * i) * PG, true,
				  MMU_NOTIFY_CLEAR);
		CHECK(!mni_itree_invalidate_start(&it9, &held[i]),
		      "blockable start %d", i);
	}
	shim_kmalloc_fail = 0;
	CHECK(it9.nr_spare == 1, "%u spares", it9.nr_spare);
	sleeps = shim_sleeps();
	pthread_create(&t, NULL, blockable_start9, &r);
	while (shim_sleeps() == sleeps && !flag_get(&b9_returned))
		sched_yield();
	CHECK(!flag_get(&b9_returned) && !a->calls && it9.nr_spare == 1,
	      "a blockable start with no slot took the reserve");
	/* An end of a recordless invalidation gives its slot back. */
	mni_itree_invalidate_end(&it9, &held[1]);
	pthread_join(t, NULL);
	CHECK(a->calls == 1 && it9.nr_spare == 1, "%d calls, %u spares",
	      a->calls, it9.nr_spare);
	mni_itree_invalidate_end(&it9, &r);
	for (i = 0; i < MNI_OVERFLOW_SLOTS + 1; i++)
		if (i != 1)
			mni_itree_invalidate_end(&it9, &held[i]);
	bsub_remove(&it9, a);
	mni_itree_destroy(&it9);
}

/*
 * A blockable start with no spare and every allocation failing returns
 * (no loop), calls its subscriptions, and read_begin waits for its end.
 */
static void test_blockable_no_memory_returns(void)
{
	struct mmu_notifier_range held[2], r = mkrange(0, 2 * PG, true,
						      MMU_NOTIFY_CLEAR);
	struct bsub *a = bsub_new(0, PG - 1);
	struct mni_itree it;
	unsigned long seq, before;
	int ret;

	CHECK(!mni_itree_init(&it, 11), "init");
	mni_itree_insert(&it, &a->sub);
	CHECK(!mni_itree_read_sample(&it, &a->sub, &before), "read_begin");
	use_up_spares(&it, held, 2);
	shim_kmalloc_fail = 1000000;
	ret = mni_itree_invalidate_start(&it, &r);
	shim_kmalloc_fail = 0;
	CHECK(!ret && a->calls == 1, "blockable start = %d, %d calls", ret,
	      a->calls);
	CHECK(mni_itree_read_sample(&it, &a->sub, &seq) == -EAGAIN,
	      "read_begin does not wait for a recordless invalidation");
	mni_itree_invalidate_end(&it, &r);
	CHECK(!mni_itree_read_sample(&it, &a->sub, &seq) && seq != before,
	      "read_begin after the end");
	end_all(&it, held, 2);
	bsub_remove(&it, a);
	mni_itree_destroy(&it);
}

static struct mni_itree it10;
static struct bsub *b10;
static int nested10 = 1;

/* A's RELEASE callback: an rmap walk of the dying mm comes in, no memory. */
static void nested_start_hook(struct bsub *b)
{
	struct mmu_notifier_range r = mkrange(2 * PG, 3 * PG, false,
					      MMU_NOTIFY_CLEAR);

	(void)b;
	/* Another task's walk in the kernel: lockdep would see no nesting. */
	shim_map_nest = 1;
	shim_kmalloc_fail = 1000;
	nested10 = mni_itree_invalidate_start(&it10, &r);
	shim_kmalloc_fail = 0;
	mni_itree_invalidate_end(&it10, &r);
	shim_map_nest = 0;
}

/*
 * During the release pass, with no record and no slot left, a start still
 * calls the subscriptions the pass has not reached: they map pages it is
 * about to free. A dead engine needs no slot (every read collides).
 */
static void test_dead_engine_start_without_record(void)
{
	struct mmu_notifier_range held[2 + MNI_OVERFLOW_SLOTS];
	struct bsub *a = bsub_new(0, PG - 1);

	CHECK(!mni_itree_init(&it10, 13), "init");
	b10 = bsub_new(2 * PG, 3 * PG - 1);
	mni_itree_insert(&it10, &a->sub);
	mni_itree_insert(&it10, &b10->sub);
	use_up_spares(&it10, held, 2 + MNI_OVERFLOW_SLOTS);
	a->hook = nested_start_hook;
	mni_itree_release(&it10, fake_mm);
	CHECK(!nested10, "a start during the release pass = %d", nested10);
	CHECK(b10->calls == 2 && !b10->after_release,
	      "B: %d calls, %d after its RELEASE", b10->calls,
	      b10->after_release);
	end_all(&it10, held, 2 + MNI_OVERFLOW_SLOTS);
	bsub_remove(&it10, a);
	bsub_remove(&it10, b10);
	mni_itree_destroy(&it10);
}

/* ---- a reader asleep on a sub put at once, no walk holding it ------- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct mni_itree it11;
static struct bsub *s11;
static struct mni_reader r11;
static unsigned long seq11;
static int ret11, done11;

static void *reader11(void *arg)
{
	(void)arg;
	ret11 = mni_itree_read_prepare(&it11, &s11->sub, &seq11, &r11);
	if (ret11 == -EAGAIN)
		ret11 = mni_itree_read_wait(&it11, &r11, MAX_SCHEDULE_TIMEOUT,
					    false, &seq11);
	flag_set(&done11);
	return NULL;
}

/*
 * A fault thread sleeps in read_begin(S) for an invalidation whose walk is
 * over; another thread puts S, which no walk holds, so it is unlinked at
 * once. With interrupts on, the reader must return then, not at the
 * invalidation's end: when S was the last user, the notifiers go and that
 * end never comes. With interrupts off the engine may not wake a sleeper:
 * the reader sleeps on until the end, and returns then. Either way it
 * returns the collision.
 */
static void reader_and_direct_put(bool irqs_off)
{
	struct mmu_notifier_range r = mkrange(PG, 3 * PG, true, MMU_NOTIFY_UNMAP);
	struct bsub *other = bsub_new(8 * PG, 9 * PG - 1);
	double deadline;
	pthread_t t;
	bool early;

	CHECK(!mni_itree_init(&it11, 11), "init");
	s11 = bsub_new(PG, 2 * PG - 1);
	mni_itree_insert(&it11, &other->sub);
	mni_itree_insert(&it11, &s11->sub);
	CHECK(!mni_itree_invalidate_start(&it11, &r), "blockable start failed");
	pthread_create(&t, NULL, reader11, NULL);
	while (!shim_swait_sleeping(&it11.wq) && !flag_get(&done11))
		sched_yield();
	CHECK(!flag_get(&done11), "read_begin did not wait for the invalidation: %d",
	      ret11);
	shim_irqs_off = irqs_off;
	CHECK(mni_itree_put(&it11, &s11->sub, bsub_free_release) == 0,
	      "a put no walk holds did not unlink at once");
	shim_irqs_off = false;
	deadline = now_ms() + (irqs_off ? 500 : 2000);
	while (!flag_get(&done11) && now_ms() < deadline)
		sched_yield();
	early = flag_get(&done11);
	mni_itree_invalidate_end(&it11, &r);
	pthread_join(t, NULL);
	if (irqs_off)
		CHECK(!early, "a put with interrupts off woke a sleeping read_begin");
	else
		CHECK(early, "a read_begin asleep on a sub put at once slept until the invalidation's end");
	CHECK(ret11 == -ESTALE && !(seq11 & 1),
	      "read_wait on a sub put meanwhile = %d, seq %#lx", ret11, seq11);
	bsub_remove(&it11, other);
	mni_itree_destroy(&it11);
}

static void test_reader_woken_by_direct_put(void)
{
	reader_and_direct_put(false);
}

static void test_reader_woken_at_end_after_irqs_off_put(void)
{
	reader_and_direct_put(true);
}

static const struct tap_test tests[] = {
	/* a reader asleep on a sub its own callback puts is not touched after the release freed it */
	{ .name = "reader_of_put_sub", .fn = test_reader_of_put_sub, .timeout = 20 },
	/* mni_remove's trace does not read a deferred put sub its walk released */
	{ .name = "remove_trace_after_reap", .fn = test_remove_trace_after_reap, .timeout = 20 },
	/* mni_insert's trace does not read a sub a callback put and a walk released */
	{ .name = "insert_trace_after_reap", .fn = test_insert_trace_after_reap, .timeout = 20 },
	/* after the release pass a start calls no subscription */
	{ .name = "no_callback_after_release", .fn = test_no_callback_after_release, .timeout = 20 },
	/* a non-blockable start no sub overlaps is not refused without a record; an insert over it still waits */
	{ .name = "nonblock_no_record_no_overlap", .fn = test_nonblock_no_record_no_overlap, .timeout = 20 },
	/* blockable starts that cannot allocate leave the reserve to non-blockable ones */
	{ .name = "reserve_kept_for_nonblock", .fn = test_reserve_kept_for_nonblock, .timeout = 20 },
	/* a blockable start with no spare and no memory returns, and read_begin waits for its end */
	{ .name = "blockable_no_memory_returns", .fn = test_blockable_no_memory_returns, .timeout = 10 },
	/* with every slot in use a blockable start without memory sleeps until an end, leaving the reserve */
	{ .name = "blockable_waits_for_slot", .fn = test_blockable_waits_for_slot, .timeout = 10 },
	/* a read_begin asleep on a sub put at once (no walk holds it) returns at the put */
	{ .name = "reader_woken_by_direct_put", .fn = test_reader_woken_by_direct_put, .timeout = 20 },
	/* after such a put made with interrupts off, it returns at the invalidation's end */
	{ .name = "reader_woken_at_end_after_irqs_off_put", .fn = test_reader_woken_at_end_after_irqs_off_put, .timeout = 20 },
	/* during the release pass a start with no record and no slot still calls the subs the pass has not reached */
	{ .name = "dead_engine_start_without_record", .fn = test_dead_engine_start_without_record, .timeout = 10 },
};

int main(int argc, char **argv)
{
	mni_itree_set_put_done(shim_put_done);
	return tap_main(argc, argv, tests, ARRAY_SIZE(tests));
}
