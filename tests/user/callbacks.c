// SPDX-License-Identifier: GPL-2.0
/*
 * callbacks.c - directed tests of the API boundary: remove() from inside a
 * callback or a second pass (own walk, two-pass finishes, own
 * subscription), the lockdep map around such a remove(), and read_begin()
 * sleepers against update() and set_owner() made while an invalidation is
 * in flight.
 *
 * Each test runs in a forked child under alarm(): a remove() that waits
 * for a wake only its own walk could give hangs there, and costs one
 * "not ok" (timeout).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "mni.h"
#include "mni_itree.h"
#include "shared_ref.h"
#include "utap.h"

#define PG		4096UL

static struct mni_itree it;
static struct mm_struct *const fake_mm = (struct mm_struct *)0x30000;

struct bsub {
	struct mmu_interval_notifier sub;
	struct mni_interval_notifier_finish finish;
	int calls;		/* atomic: first-pass callbacks */
	int finishes;		/* atomic: second passes */
	bool live;		/* inserted, not yet removed or released */
	/* What the callback does, set before the invalidation. */
	struct bsub *remove_in_cb;	/* remove() this one */
	struct bsub *remove_in_fin;	/* remove() this one from the finish */
	int remove_ret;			/* what remove_begin() said */
	bool removed;			/* remove() returned */
	int victim_finishes;		/* the victim's, when remove() returned */
	int *block;			/* atomic: spin while it is set */
};

static int api_remove(struct bsub *b);

static void bsub_called(struct bsub *b)
{
	CHECK(__atomic_load_n(&b->live, __ATOMIC_ACQUIRE),
	      "callback on a subscription removed or released");
	__atomic_add_fetch(&b->calls, 1, __ATOMIC_RELAXED);
	while (b->block && __atomic_load_n(b->block, __ATOMIC_ACQUIRE))
		sched_yield();
}

/* remove() @victim from a callback or a finish of @b's. */
static void bsub_remove(struct bsub *b, struct bsub *victim)
{
	b->remove_ret = api_remove(victim);
	b->victim_finishes = __atomic_load_n(&victim->finishes,
					     __ATOMIC_RELAXED);
	b->removed = true;
}

static void bsub_actions(struct bsub *b)
{
	if (b->remove_in_cb)
		bsub_remove(b, b->remove_in_cb);
}

static bool b_invalidate(struct mmu_interval_notifier *sub,
			 const struct mmu_notifier_range *range,
			 unsigned long cur_seq)
{
	struct bsub *b = container_of(sub, struct bsub, sub);

	CHECK(range->mm == fake_mm, "range of another mm");
	bsub_called(b);
	mmu_interval_set_seq(sub, cur_seq);
	bsub_actions(b);
	return true;
}

static const struct mmu_interval_notifier_ops b_ops = {
	.invalidate = b_invalidate,
};

static bool b_start(struct mmu_interval_notifier *sub,
		    const struct mmu_notifier_range *range,
		    unsigned long cur_seq,
		    struct mni_interval_notifier_finish **finish)
{
	struct bsub *b = container_of(sub, struct bsub, sub);

	CHECK(range->mm == fake_mm, "range of another mm");
	bsub_called(b);
	mmu_interval_set_seq(sub, cur_seq);
	bsub_actions(b);
	*finish = &b->finish;
	return true;
}

static void b_finish(struct mni_interval_notifier_finish *finish)
{
	struct bsub *b = container_of(finish, struct bsub, finish);

	CHECK(__atomic_load_n(&b->live, __ATOMIC_ACQUIRE),
	      "finish on a subscription removed or released");
	CHECK(finish->notifier == &b->sub, "finish of another subscription");
	__atomic_add_fetch(&b->finishes, 1, __ATOMIC_RELAXED);
	if (b->remove_in_fin)
		bsub_remove(b, b->remove_in_fin);
}

static const struct mni_interval_notifier_ops b_two_pass_ops = {
	.invalidate_start = b_start,
	.invalidate_finish = b_finish,
};

/* Insert @b over pages [@first, @first + @n). */
static void bsub_insert(struct bsub *b, unsigned long first, unsigned long n,
			bool two_pass)
{
	b->sub.interval_tree.start = first * PG;
	b->sub.interval_tree.last = (first + n) * PG - 1;
	b->sub.ops = two_pass ? &b_two_pass_ops.base : &b_ops;
	b->sub.mm = fake_mm;
	b->live = true;
	mni_itree_insert(&it, &b->sub);
}

/*
 * What mni_interval_notifier_remove() does with the engine: the lockdep
 * annotation of a wait for callbacks, begin, then the wait if one is
 * needed. The subscription is then the caller's, who poisons it.
 */
static int api_remove(struct bsub *b)
{
	int ret;

	mni_itree_remove_annotate();
	ret = mni_itree_remove_begin(&it, &b->sub);
	if (ret < 0)
		return ret;
	if (ret > 0)
		mni_itree_remove_wait(&it, &b->sub);
	__atomic_store_n(&b->live, false, __ATOMIC_RELEASE);
	return ret;
}

static void range_init(struct mmu_notifier_range *r, unsigned long first,
		       unsigned long n, bool blockable)
{
	*r = (struct mmu_notifier_range){
		.mm = fake_mm,
		.start = first * PG,
		.end = (first + n) * PG,
		.flags = blockable ? MMU_NOTIFIER_RANGE_BLOCKABLE : 0,
		.event = MMU_NOTIFY_UNMAP,
	};
}

static void invalidate(unsigned long first, unsigned long n, bool blockable)
{
	struct mmu_notifier_range r;

	range_init(&r, first, n, blockable);
	CHECK(!mni_itree_invalidate_start(&it, &r), "start refused");
	mni_itree_invalidate_end(&it, &r);
}

static void engine_init(void)
{
	CHECK(!mni_itree_init(&it, 1), "init");
}

/* Remove what is still live; the engine must end empty and idle. */
static void engine_fini(struct bsub *subs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (__atomic_load_n(&subs[i].live, __ATOMIC_ACQUIRE))
			CHECK(api_remove(&subs[i]) == 0,
			      "remove of an idle subscription waited");
	CHECK(!it.nr_subs && !it.nr_inflight && !it.nr_put_pending,
	      "engine not empty and idle: %lu subs, %lu in flight, %u puts",
	      it.nr_subs, it.nr_inflight, it.nr_put_pending);
	mni_itree_destroy(&it);
}

/*
 * A (two-pass, its finish pending), B, C over one range, in that order.
 * B's callback removes C: no finish of C is pending and the walk has not
 * reached it, so the remove must neither wait nor let C be called.
 */
static void test_remove_sibling_two_pass_walk(void)
{
	struct bsub s[3] = {};

	engine_init();
	bsub_insert(&s[0], 0, 8, true);
	bsub_insert(&s[1], 1, 8, false);
	bsub_insert(&s[2], 2, 8, false);
	s[1].remove_in_cb = &s[2];
	invalidate(0, 16, true);
	CHECK(s[1].removed, "B's remove of C did not return");
	CHECK(s[1].remove_ret == 0, "remove of C said %d", s[1].remove_ret);
	CHECK(!s[2].calls, "C called after its remove() returned");
	CHECK(s[0].calls == 1 && s[0].finishes == 1, "A: %d calls, %d finishes",
	      s[0].calls, s[0].finishes);
	engine_fini(s, 3);
}

/*
 * B's callback removes A, whose finish this same walk still owes: the
 * finish must run before remove() returns (A is then freed), and the
 * remove must not wait for the walk it runs in.
 */
static void test_remove_sibling_with_pending_finish(void)
{
	struct bsub s[2] = {};

	engine_init();
	bsub_insert(&s[0], 0, 8, true);
	bsub_insert(&s[1], 1, 8, false);
	s[1].remove_in_cb = &s[0];
	invalidate(0, 16, true);
	CHECK(s[1].removed, "B's remove of A did not return");
	CHECK(s[0].calls == 1 && s[0].finishes == 1 && s[1].victim_finishes == 1,
	      "A: %d calls, %d finishes (%d when its remove() returned): its second pass must run once, before its remove() returned",
	      s[0].calls, s[0].finishes, s[1].victim_finishes);
	engine_fini(s, 2);
}

/* Two-pass B's start removes two-pass A, whose finish is pending. */
static void test_remove_two_pass_sibling_from_start(void)
{
	struct bsub s[3] = {};

	engine_init();
	bsub_insert(&s[0], 0, 8, true);
	bsub_insert(&s[1], 1, 8, true);
	bsub_insert(&s[2], 2, 8, false);
	s[1].remove_in_cb = &s[0];
	invalidate(0, 16, true);
	CHECK(s[1].removed && s[1].victim_finishes == 1 &&
	      s[0].finishes == 1 && s[1].finishes == 1,
	      "finishes: A %d (%d at its remove), B %d", s[0].finishes,
	      s[1].victim_finishes, s[1].finishes);
	engine_fini(s, 3);
}

/*
 * A's finish removes B, whose finish comes later in the same second pass:
 * B's finish runs once, before B's remove() returns.
 */
static void test_remove_from_finish_pass(void)
{
	struct bsub s[2] = {};

	engine_init();
	bsub_insert(&s[0], 0, 8, true);
	bsub_insert(&s[1], 1, 8, true);
	s[0].remove_in_fin = &s[1];
	invalidate(0, 16, true);
	CHECK(s[0].removed && s[0].remove_ret >= 0,
	      "A's finish: remove of B said %d", s[0].remove_ret);
	CHECK(s[1].finishes == 1 && s[0].victim_finishes == 1,
	      "B: %d finishes (%d when its remove() returned)", s[1].finishes,
	      s[0].victim_finishes);
	engine_fini(s, 2);
}

/*
 * A callback removes its own subscription: it neither waits for itself
 * nor is called again; a two-pass start that does so gets no second pass
 * (the finish it handed back anyway is dropped).
 */
static void test_remove_own_sub(void)
{
	struct bsub s[3] = {};

	engine_init();
	bsub_insert(&s[0], 0, 8, false);
	bsub_insert(&s[1], 0, 8, true);
	bsub_insert(&s[2], 0, 8, false);
	s[0].remove_in_cb = &s[0];
	s[1].remove_in_cb = &s[1];
	invalidate(0, 16, true);
	CHECK(s[0].removed && s[1].removed, "own remove did not return");
	CHECK(s[0].remove_ret == 0 && s[1].remove_ret == 0,
	      "own remove said %d and %d, want 0 (unlinked at once)",
	      s[0].remove_ret, s[1].remove_ret);
	CHECK(s[0].calls == 1 && s[1].calls == 1 && !s[1].finishes &&
	      s[2].calls == 1, "calls %d %d %d, finishes of B %d",
	      s[0].calls, s[1].calls, s[2].calls, s[1].finishes);
	/* Removed: a second invalidation calls C alone (bsub_called()). */
	invalidate(0, 16, true);
	CHECK(s[2].calls == 2, "C: %d calls", s[2].calls);
	engine_fini(s, 3);
}

/*
 * A remove() made inside a pass must not take the pass's lockdep map a
 * second time (the shim, like lockdep, refuses a non-recursive map held
 * twice by one thread).
 */
static void test_remove_in_pass_no_map_recursion(void)
{
	struct bsub s[2] = {};

	engine_init();
	bsub_insert(&s[0], 0, 8, false);
	bsub_insert(&s[1], 0, 8, false);
	s[0].remove_in_cb = &s[1];
	invalidate(0, 8, true);
	CHECK(s[0].removed && s[0].remove_ret == 0 && !s[1].calls,
	      "remove of a later sibling: %d", s[0].remove_ret);
	engine_fini(s, 2);
}

/* ---- sleepers against update() and set_owner() ---------------------- */

struct reader {
	struct bsub *b;
	pthread_t thread;
	int ret;
	unsigned long seq;
	int done;		/* atomic */
};

static void *reader_fn(void *arg)
{
	struct reader *rd = arg;
	struct mni_reader r;
	int ret;

	ret = mni_itree_read_prepare(&it, &rd->b->sub, &rd->seq, &r);
	if (ret == -EAGAIN)
		ret = mni_itree_read_wait(&it, &r, MAX_SCHEDULE_TIMEOUT, false,
					  &rd->seq);
	rd->ret = ret;
	__atomic_store_n(&rd->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void reader_start_and_sleep(struct reader *rd, struct bsub *b)
{
	int i;

	rd->b = b;
	CHECK(!pthread_create(&rd->thread, NULL, reader_fn, rd), "thread");
	for (i = 0; i < 2000 && !shim_swait_sleeping(&it.wq); i++)
		usleep(1000);
	CHECK(shim_swait_sleeping(&it.wq) == 1, "the reader did not sleep");
}

/* Did the reader return within @ms milliseconds? */
static bool reader_returns_within(struct reader *rd, unsigned int ms)
{
	unsigned int i;

	for (i = 0; i < ms; i++) {
		if (__atomic_load_n(&rd->done, __ATOMIC_ACQUIRE))
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * A reader sleeps on S for invalidation R. update() moves S off R's range:
 * the reader's condition turns true, and it must be woken then, not at
 * R's end.
 */
static void test_update_wakes_reader(void)
{
	struct bsub s[1] = {};
	struct mmu_notifier_range r;
	struct reader rd = {};
	bool woke;

	engine_init();
	bsub_insert(&s[0], 0, 8, false);
	range_init(&r, 0, 8, true);
	CHECK(!mni_itree_invalidate_start(&it, &r), "start refused");
	reader_start_and_sleep(&rd, &s[0]);
	CHECK(!mni_itree_update(&it, &s[0].sub, 100 * PG, 108 * PG - 1),
	      "update");
	woke = reader_returns_within(&rd, 1000);
	mni_itree_invalidate_end(&it, &r);
	pthread_join(rd.thread, NULL);
	CHECK(woke, "the reader slept on after update() moved its subscription off the only invalidation in flight");
	CHECK(!rd.ret, "read_begin said %d", rd.ret);
	engine_fini(s, 1);
}

static int owner_o;

/*
 * A migration R named by owner O is in flight over S, and its walk is
 * still in an earlier round (S's first round has not been collected:
 * MNI_WALK_BATCH subscriptions come before it, the first of which blocks).
 * A reader sleeps on S. set_owner(S, O) means R will skip S: the reader
 * must be woken and not wait for R; R then does not call S.
 */
struct walker {
	struct mmu_notifier_range r;
	pthread_t thread;
	int ret;
};

static void *walker_fn(void *arg)
{
	struct walker *w = arg;

	w->ret = mni_itree_invalidate_start(&it, &w->r);
	return NULL;
}

static void test_set_owner_wakes_reader(void)
{
	struct bsub s[MNI_WALK_BATCH + 1] = {};
	struct bsub *S = &s[MNI_WALK_BATCH];
	struct reader rd = {};
	struct walker w = {};
	int block = 1, i;
	bool woke;

	engine_init();
	for (i = 0; i < MNI_WALK_BATCH; i++)
		bsub_insert(&s[i], 0, 8, false);
	bsub_insert(S, 4, 4, false);
	s[0].block = &block;
	range_init(&w.r, 0, 8, true);
	w.r.event = MMU_NOTIFY_MIGRATE;
	w.r.owner = &owner_o;
	CHECK(!pthread_create(&w.thread, NULL, walker_fn, &w), "thread");
	while (!__atomic_load_n(&s[0].calls, __ATOMIC_ACQUIRE))
		sched_yield();
	reader_start_and_sleep(&rd, S);
	CHECK(!mni_itree_set_owner(&it, &S->sub, &owner_o), "set_owner");
	woke = reader_returns_within(&rd, 1000);
	__atomic_store_n(&block, 0, __ATOMIC_RELEASE);
	pthread_join(w.thread, NULL);
	CHECK(!w.ret, "start refused");
	mni_itree_invalidate_end(&it, &w.r);
	pthread_join(rd.thread, NULL);
	CHECK(woke, "the reader slept on after set_owner() made the only invalidation in flight skip its subscription");
	CHECK(!S->calls, "the migration of S's owner called S");
	engine_fini(s, MNI_WALK_BATCH + 1);
}

/*
 * Owner O's migration R has already called S (S had no owner then).
 * set_owner(S, O) mid-flight must not let read_begin() skip R: R's
 * callback ran, the CPU PTEs are not cleared until R's end.
 */
static void test_set_owner_mid_flight_keeps_collision(void)
{
	struct bsub s[1] = {};
	struct mmu_notifier_range r;
	unsigned long seq;

	engine_init();
	bsub_insert(&s[0], 0, 8, false);
	range_init(&r, 0, 8, true);
	r.event = MMU_NOTIFY_MIGRATE;
	r.owner = &owner_o;
	CHECK(!mni_itree_invalidate_start(&it, &r), "start refused");
	CHECK(s[0].calls == 1, "S not called");
	CHECK(!mni_itree_set_owner(&it, &s[0].sub, &owner_o), "set_owner");
	CHECK(mni_itree_read_sample(&it, &s[0].sub, &seq) == -EAGAIN,
	      "read_begin skipped a migration whose walk had already called its subscription");
	mni_itree_invalidate_end(&it, &r);
	CHECK(!mni_itree_read_sample(&it, &s[0].sub, &seq), "after the end");
	/* From the next invalidation on, O's migrations skip S. */
	CHECK(!mni_itree_invalidate_start(&it, &r), "start refused");
	CHECK(!mni_itree_read_sample(&it, &s[0].sub, &seq) && s[0].calls == 1,
	      "the next migration of O did not skip S");
	mni_itree_invalidate_end(&it, &r);
	engine_fini(s, 1);
}

static const struct utest tests[] = {
	{ "remove from a callback, two-pass finish pending elsewhere: no wait for the own walk",
	  test_remove_sibling_two_pass_walk, 10, 0 },
	{ "remove from a callback of a sibling whose finish the own walk owes: finish runs first, no hang",
	  test_remove_sibling_with_pending_finish, 10, 0 },
	{ "remove from a two-pass start of a two-pass sibling whose finish is pending: no hang",
	  test_remove_two_pass_sibling_from_start, 10, 0 },
	{ "remove from a second pass of a subscription whose finish comes later: finish runs first, no hang",
	  test_remove_from_finish_pass, 10, 0 },
	{ "remove of its own subscription from its callback: at once, no hang, no second pass",
	  test_remove_own_sub, 10, 0 },
	{ "remove inside a pass does not take the invalidation map twice",
	  test_remove_in_pass_no_map_recursion, 10, 0 },
	{ "update() off the in-flight range wakes a sleeping read_begin",
	  test_update_wakes_reader, 20, 0 },
	{ "set_owner() that the in-flight walk will honour wakes a sleeping read_begin",
	  test_set_owner_wakes_reader, 20, 0 },
	{ "set_owner() mid-flight keeps read_begin waiting for a walk that called the subscription",
	  test_set_owner_mid_flight_keeps_collision, 10, 0 },
};

int main(void)
{
	mni_itree_set_put_done(shim_put_done);
	printf("# callbacks: directed tests of the API boundary\n");
	return utap_main(tests, sizeof(tests) / sizeof(tests[0]));
}
