// SPDX-License-Identifier: GPL-2.0
/*
 * model.c - the engine against a deliberately naive reference model
 *
 * The real src/mni_itree.c is included here (as WireGuard's selftests
 * include the code they test) so the checks can also reach its static
 * interval-tree helpers and its state. The model is a flat array of
 * subscriptions, each in one of four states, and the documented rules:
 *
 *   - an invalidation [start, end) calls every subscription that is in
 *     the tree (M_TREE, or M_PEND_REM: removal queued) and overlaps
 *     [start, end - 1]; each call of one invalidation gets the same odd
 *     cur_seq, and every invalidation that calls anything gets a new one;
 *   - the first such invalidation opens an epoch; so does an insert while
 *     any invalidation is in flight; the end that brings the in-flight
 *     count to zero closes it; an end with nothing in flight is ignored;
 *   - during an epoch an insert is queued (M_PEND_INS, not called) and a
 *     remove is queued (M_PEND_REM, still called, remove() returns 1 and
 *     the epoch it must wait for); both are applied when the epoch ends;
 *     removing a queued insert cancels it (0); removing what is not there
 *     or already queued for removal is -ENOENT;
 *   - read_begin() would wait exactly when the epoch is open and the
 *     subscription was called, inserted or queued in it; read_retry(seq)
 *     is true exactly when a callback ran on the subscription since the
 *     read_begin() that returned seq;
 *   - a non-blockable invalidation stops at the first refusing callback
 *     (in tree order) and returns -EAGAIN, still counted until its end; a
 *     blockable one ignores refusals and logs each one.
 *
 * After every step the engine's tree, deferred list, sequence parity,
 * in-flight count and pending removals are compared with the model.
 * read_begin() is run either with the shim's non-blocking probe (a
 * wait_event() that would sleep returns and is counted) or, now and then,
 * for real in a helper thread that must stay asleep until the epoch ends.
 *
 * Environment: MNI_SEED (default: from the clock), MNI_ROUNDS (10),
 * MNI_MODEL_OPS (operations per round, 20000). Round r uses seed
 * MNI_SEED + r, so MNI_SEED=<printed round seed> MNI_ROUNDS=1 replays it.
 */
#include "mni_itree.c"

#include <pthread.h>
#include <time.h>

#include "utap.h"

#define NSUBS		40
#define NSTRANGERS	4
#define MAX_CALLS	(4 * NSUBS)
#define TRACE_LEN	64
#define TRACE_WIDTH	160

enum mstate { M_OUT, M_TREE, M_PEND_INS, M_PEND_REM };

static const char *const mstate_name[] = {
	[M_OUT] = "out", [M_TREE] = "tree",
	[M_PEND_INS] = "pend-ins", [M_PEND_REM] = "pend-rem",
};

struct msub {
	struct mmu_interval_notifier sub;
	int idx;
	enum mstate st;
	unsigned long start, last;	/* the model's own copy */
	bool wait;		/* read_begin() would wait */
	bool refuse;		/* the callback returns false */
	unsigned long calls;	/* callbacks run on it */
	unsigned int calls_now;	/* ... in the current invalidation */
	bool have_token;
	unsigned long token, token_calls;
	bool rm_wait;		/* remove() returned 1 */
	unsigned long rm_epoch;
};

struct call {
	struct msub *m;
	const struct mmu_notifier_range *range;
	struct mmu_notifier_range seen;	/* *range may be gone by the check */
	unsigned long cur_seq;
	bool ret;
};

struct helper {
	pthread_t thread;
	bool active;
	bool is_remove;		/* the API's remove-wait, else read_begin() */
	struct msub *m;
	unsigned long epoch, expect_seq, got;
	int returned;		/* atomic */
};

struct stats {
	unsigned long ops, inserts, pend_inserts, epoch_inserts, removes;
	unsigned long pend_removes, cancels, enoent, starts, empty_starts;
	unsigned long calls, epochs, eagain, refusals_logged, ends_ignored;
	unsigned long read_begins, would_wait, real_waits, retries_true;
	unsigned long retries_false, releases, quiesces, max_active;
};

static struct {
	struct mni_itree it;
	struct mni_stats stats;		/* the engine's "per-CPU" counters */
	struct msub subs[NSUBS];
	struct msub strangers[NSTRANGERS];
	unsigned long active;
	bool epoch_open;
	bool have_last_seq;
	unsigned long last_seq;
	unsigned long ended[8];	/* epochs whose removals completed */
	unsigned int n_ended;
	struct helper helper;
	struct stats st;
	/* a second engine whose subscriptions are strangers to the first */
	unsigned long trace_base[3];
	struct mni_itree other;
	struct mni_stats other_stats;
	struct msub other_subs[4];
} M;

static struct call calllog[MAX_CALLS];
static unsigned int ncalls;

static unsigned long long seed, rng;
static unsigned long round_no, step_no;
static char trace[TRACE_LEN][TRACE_WIDTH];
static unsigned long trace_n;

static struct mm_struct *const fake_mm = (struct mm_struct *)0x10000;

/* Directed scenarios: no random refusals, no random real waits. */
static bool directed;

/* ---- randomness and the failure trace ---------------------------- */

static unsigned long long rnd(void)
{
	unsigned long long z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned long rnd_below(unsigned long n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int one_in)
{
	return rnd_below(one_in) == 0;
}

static __printf(1, 2) void tr(const char *fmt, ...)
{
	char *line = trace[trace_n++ % TRACE_LEN];
	va_list ap;
	int n;

	n = snprintf(line, TRACE_WIDTH, "%6lu: ", step_no);
	va_start(ap, fmt);
	vsnprintf(line + n, TRACE_WIDTH - n, fmt, ap);
	va_end(ap);
}

static void dump_trace(void)
{
	unsigned long i = trace_n > TRACE_LEN ? trace_n - TRACE_LEN : 0;

	utap_diag("seed %llu (round %lu, replay: MNI_SEED=%llu MNI_ROUNDS=1), step %lu",
		  (unsigned long long)seed, round_no,
		  (unsigned long long)seed, step_no);
	utap_diag("engine: seq=%#lx epoch=%#lx active=%lu; model: epoch %s, active=%lu",
		  M.it.seq, M.it.epoch, M.it.active,
		  M.epoch_open ? "open" : "closed", M.active);
	utap_diag("last %lu operations:", trace_n - i);
	for (; i < trace_n; i++)
		utap_diag("  %s", trace[i % TRACE_LEN]);
}

/* ---- the callback ------------------------------------------------- */

static bool model_invalidate(struct mmu_interval_notifier *sub,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq)
{
	struct msub *m = container_of(sub, struct msub, sub);

	CHECK(shim_spin_depth() == 0, "callback runs under a spinlock");
	CHECK(shim_lock_map_depth(&mni_invalidate_map) == 1,
	      "callback runs outside the mni_invalidate_range map");
	CHECK(ncalls < MAX_CALLS, "callback storm");
	calllog[ncalls++] = (struct call){
		.m = m, .range = range, .seen = *range, .cur_seq = cur_seq,
		.ret = !m->refuse,
	};
	/* Always, as consumers must; the model counts every call. */
	mmu_interval_set_seq(sub, cur_seq);
	return !m->refuse;
}

static const struct mmu_interval_notifier_ops model_ops = {
	.invalidate = model_invalidate,
};

static bool other_invalidate(struct mmu_interval_notifier *sub,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq)
{
	(void)range;
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops other_ops = {
	.invalidate = other_invalidate,
};

/* ---- helper threads for real waits --------------------------------- */

static void *helper_fn(void *arg)
{
	struct helper *h = arg;

	if (h->is_remove)
		wait_event(M.it.wq, mni_itree_epoch_ended(&M.it, h->epoch));
	else
		h->got = mni_itree_read_begin(&M.it, &h->m->sub);
	__atomic_store_n(&h->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Start a helper and wait until it sleeps in the engine's wait queue. */
static void helper_start(struct msub *m, bool is_remove, unsigned long epoch)
{
	struct helper *h = &M.helper;
	double t0 = now();

	*h = (struct helper){
		.active = true, .is_remove = is_remove, .m = m, .epoch = epoch,
		.expect_seq = READ_ONCE(m->sub.invalidate_seq),
	};
	if (!is_remove)
		M.st.would_wait++;
	CHECK(!pthread_create(&h->thread, NULL, helper_fn, h), "pthread_create");
	while (!shim_wait_sleeping(&M.it.wq)) {
		CHECK(!__atomic_load_n(&h->returned, __ATOMIC_ACQUIRE),
		      "%s on sub %d returned without waiting for the open epoch",
		      is_remove ? "remove's wait" : "read_begin", m->idx);
		CHECK(now() - t0 < 5, "helper never went to sleep");
		usleep(20);
	}
	M.st.real_waits++;
	tr("  helper: %s on sub %d asleep", is_remove ? "remove-wait" : "read_begin",
	   m->idx);
}

/* The epoch just ended: the helper must wake and finish. */
static void helper_finish(void)
{
	struct helper *h = &M.helper;
	double t0 = now();

	if (!h->active)
		return;
	while (!__atomic_load_n(&h->returned, __ATOMIC_ACQUIRE)) {
		CHECK(now() - t0 < 5, "%s on sub %d still asleep 5 s after its epoch ended",
		      h->is_remove ? "remove's wait" : "read_begin", h->m->idx);
		usleep(20);
	}
	pthread_join(h->thread, NULL);
	h->active = false;
	if (!h->is_remove)
		CHECK(h->got == h->expect_seq,
		      "blocking read_begin on sub %d returned %#lx, expected %#lx",
		      h->m->idx, h->got, h->expect_seq);
}

/* ---- model transitions --------------------------------------------- */

static bool overlaps(const struct msub *m, unsigned long start,
		     unsigned long end)
{
	return end > start && m->start <= end - 1 && m->last >= start;
}

static bool in_tree(const struct msub *m)
{
	return m->st == M_TREE || m->st == M_PEND_REM;
}

static void model_end_epoch(void)
{
	int i;

	M.epoch_open = false;
	for (i = 0; i < NSUBS; i++) {
		struct msub *m = &M.subs[i];

		m->wait = false;
		if (m->st == M_PEND_INS) {
			m->st = M_TREE;
		} else if (m->st == M_PEND_REM) {
			m->st = M_OUT;
			m->have_token = false;
			CHECK(mni_itree_epoch_ended(&M.it, m->rm_epoch),
			      "sub %d: epoch %#lx ended but epoch_ended() is false",
			      i, m->rm_epoch);
			M.ended[M.n_ended++ % 8] = m->rm_epoch;
			m->rm_wait = false;
		}
	}
	helper_finish();
}

static void model_end(void)
{
	if (!M.active) {
		M.st.ends_ignored++;
		return;
	}
	if (!--M.active && M.epoch_open)
		model_end_epoch();
}

/* ---- the per-step comparison --------------------------------------- */

static unsigned long check_subtree(struct rb_node *rb, unsigned long *prev_start,
				   bool *have_prev, unsigned int *count)
{
	struct interval_tree_node *n;
	unsigned long max;

	if (!rb)
		return 0;
	n = rb_entry(rb, struct interval_tree_node, rb);
	max = n->last;
	if (rb->rb_left) {
		unsigned long l = check_subtree(rb->rb_left, prev_start,
						have_prev, count);
		max = l > max ? l : max;
	}
	CHECK(!*have_prev || *prev_start <= n->start, "tree not sorted by start");
	*prev_start = n->start;
	*have_prev = true;
	(*count)++;
	if (rb->rb_right) {
		unsigned long r = check_subtree(rb->rb_right, prev_start,
						have_prev, count);
		max = r > max ? r : max;
	}
	CHECK(n->__subtree_last == max, "augmented __subtree_last is stale");
	return max;
}

/* What mni_itree_inspect() reported, by subscription. */
struct seen {
	int state[NSUBS];	/* -1: not reported */
	unsigned int n, order_bad;
	unsigned long prev_start;
	bool saw_pending_insert;
};

static void inspect_visit(void *arg, const struct mmu_interval_notifier *sub,
			  enum mni_sub_state state)
{
	const struct msub *m = container_of(sub, struct msub, sub);
	struct seen *seen = arg;

	/* No CHECK() here: the engine lock is held. */
	if (m < M.subs || m >= M.subs + NSUBS || seen->state[m->idx] != -1) {
		seen->order_bad++;
		return;
	}
	seen->state[m->idx] = state;
	seen->n++;
	if (state == MNI_SUB_PENDING_INSERT) {
		seen->saw_pending_insert = true;
		return;
	}
	/* the tree first, in address order, then pending inserts */
	if (seen->saw_pending_insert || sub->interval_tree.start < seen->prev_start)
		seen->order_bad++;
	seen->prev_start = sub->interval_tree.start;
}

static enum mni_sub_state model_sub_state(const struct msub *m)
{
	switch (m->st) {
	case M_PEND_INS:
		return MNI_SUB_PENDING_INSERT;
	case M_PEND_REM:
		return MNI_SUB_PENDING_REMOVE;
	default:
		return M.epoch_open && m->wait ? MNI_SUB_INVALIDATED : MNI_SUB_IDLE;
	}
}

/* The public snapshot and the counters agree with the model. */
static void check_inspect_and_stats(void)
{
	struct mni_itree_info info;
	struct seen seen = { .n = 0 };
	unsigned long n_def = 0, waits;
	int i;

	for (i = 0; i < NSUBS; i++)
		seen.state[i] = -1;
	mni_itree_inspect(&M.it, &info, inspect_visit, &seen);
	CHECK(!seen.order_bad,
	      "inspect: a subscription reported twice, a stranger, or out of order");
	for (i = 0; i < NSUBS; i++) {
		const struct msub *m = &M.subs[i];
		int want = m->st == M_OUT ? -1 : (int)model_sub_state(m);

		CHECK(seen.state[i] == want, "inspect: sub %d (%s) reported as %d, expected %d",
		      i, mstate_name[m->st], seen.state[i], want);
		n_def += m->st == M_PEND_INS || m->st == M_PEND_REM;
	}
	CHECK(!!(info.seq & 1) == M.epoch_open && info.active == M.active &&
	      info.deferred == n_def,
	      "inspect: seq %#lx active %lu deferred %lu; model: epoch %s, active %lu, %lu deferred",
	      info.seq, info.active, info.deferred,
	      M.epoch_open ? "open" : "closed", M.active, n_def);

	CHECK(M.stats.invalidations == M.st.starts,
	      "stats: %llu invalidations, model %lu", M.stats.invalidations, M.st.starts);
	CHECK(M.stats.callbacks == M.st.calls,
	      "stats: %llu callbacks, model %lu", M.stats.callbacks, M.st.calls);
	CHECK(M.stats.refused == M.st.eagain,
	      "stats: %llu refused, model %lu", M.stats.refused, M.st.eagain);
	CHECK(M.stats.deferred == M.st.pend_inserts + M.st.pend_removes,
	      "stats: %llu deferred, model %lu", M.stats.deferred,
	      M.st.pend_inserts + M.st.pend_removes);
	/* a read_begin asleep in the helper is counted when it wakes */
	waits = M.st.would_wait - (M.helper.active && !M.helper.is_remove);
	CHECK(M.stats.waits == waits, "stats: %llu waits, model %lu",
	      M.stats.waits, waits);
	/* the other engine traced its setup before the base was taken */
	CHECK(shim_trace_count("mni_callback") - M.trace_base[0] == M.st.calls &&
	      shim_trace_count("mni_invalidate_start") - M.trace_base[1] == M.st.starts &&
	      shim_trace_count("mni_insert") - M.trace_base[2] == M.st.inserts,
	      "trace events do not match the operations");
}

static void check_state(void)
{
	bool seen_tree[NSUBS] = { 0 }, seen_def[NSUBS] = { 0 };
	struct interval_tree_node *node;
	struct mmu_interval_notifier *pos;
	unsigned int n_tree = 0, n_walk = 0;
	unsigned long prev = 0;
	bool have_prev = false;
	unsigned int i;

	spin_lock(&M.it.lock);
	CHECK(!!(M.it.seq & 1) == M.epoch_open,
	      "engine seq %#lx is %s, model epoch is %s", M.it.seq,
	      M.it.seq & 1 ? "odd" : "even", M.epoch_open ? "open" : "closed");
	CHECK(M.it.active == M.active, "engine active %lu, model %lu",
	      M.it.active, M.active);
	for (node = mni_it_iter_first(&M.it.root, 0, ULONG_MAX); node;
	     node = mni_it_iter_next(node, 0, ULONG_MAX)) {
		struct msub *m = container_of(node, struct msub, sub.interval_tree);

		CHECK(m >= M.subs && m < M.subs + NSUBS, "stranger in the tree");
		CHECK(!seen_tree[m->idx], "sub %d twice in the tree", m->idx);
		seen_tree[m->idx] = true;
		n_walk++;
	}
	check_subtree(M.it.root.rb_root.rb_node, &prev, &have_prev, &n_tree);
	CHECK(n_tree == n_walk, "tree walk saw %u of %u nodes", n_walk, n_tree);
	hlist_for_each_entry(pos, &M.it.deferred, deferred_item) {
		struct msub *m = container_of(pos, struct msub, sub);

		CHECK(m >= M.subs && m < M.subs + NSUBS, "stranger deferred");
		CHECK(!seen_def[m->idx], "sub %d twice in the deferred list", m->idx);
		seen_def[m->idx] = true;
	}
	spin_unlock(&M.it.lock);

	for (i = 0; i < NSUBS; i++) {
		struct msub *m = &M.subs[i];

		CHECK(seen_tree[i] == in_tree(m),
		      "sub %d [%#lx, %#lx] is %s but %s the tree", i, m->start,
		      m->last, mstate_name[m->st], seen_tree[i] ? "in" : "not in");
		CHECK(seen_def[i] == (m->st == M_PEND_INS || m->st == M_PEND_REM),
		      "sub %d is %s but %s the deferred list", i,
		      mstate_name[m->st], seen_def[i] ? "on" : "not on");
		if (m->st != M_OUT)
			CHECK(READ_ONCE(m->sub.invalidate_seq) & 1,
			      "sub %d has an even invalidate_seq %#lx", i,
			      m->sub.invalidate_seq);
		if (m->rm_wait)
			CHECK(!mni_itree_epoch_ended(&M.it, m->rm_epoch),
			      "sub %d: epoch %#lx reported ended while open", i,
			      m->rm_epoch);
	}
	for (i = 0; i < 8 && i < M.n_ended; i++)
		CHECK(mni_itree_epoch_ended(&M.it, M.ended[i]),
		      "ended epoch %#lx reported open again", M.ended[i]);
	if (M.helper.active)
		CHECK(!__atomic_load_n(&M.helper.returned, __ATOMIC_ACQUIRE),
		      "%s on sub %d returned while its epoch is open",
		      M.helper.is_remove ? "remove's wait" : "read_begin",
		      M.helper.m->idx);
	check_inspect_and_stats();
}

/* ---- operations: each drives the engine and the model -------------- */

static void random_range(unsigned long *start, unsigned long *last)
{
	unsigned long len;

	switch (rnd_below(40)) {
	case 0:
		*start = 0;
		*last = rnd_below(64);
		return;
	case 1:
		*last = ULONG_MAX;
		*start = ULONG_MAX - rnd_below(64);
		return;
	case 2:
		*start = rnd_below(512);
		*last = ULONG_MAX - rnd_below(2);
		return;
	default:
		*start = rnd_below(512);
		len = 1 + rnd_below(rnd_below(4) ? 48 : 256);
		*last = *start + len - 1;
	}
}

static void do_insert(struct msub *m, unsigned long start, unsigned long last)
{
	CHECK(m->st == M_OUT, "test bug: insert of a sub that is %s",
	      mstate_name[m->st]);
	tr("insert sub %d [%#lx, %#lx]", m->idx, start, last);
	m->start = start;
	m->last = last;
	m->sub.interval_tree.start = start;
	m->sub.interval_tree.last = last;
	m->sub.ops = &model_ops;
	m->sub.mm = fake_mm;
	m->have_token = false;
	mni_itree_insert(&M.it, &m->sub);
	M.st.inserts++;

	if (M.epoch_open) {
		m->st = M_PEND_INS;
		m->wait = true;
		M.st.pend_inserts++;
	} else if (M.active) {
		/* unknown ranges in flight: the insert opens an epoch */
		m->st = M_TREE;
		m->wait = true;
		M.epoch_open = true;
		M.st.epochs++;
		M.st.epoch_inserts++;
	} else {
		m->st = M_TREE;
		m->wait = false;
	}
	CHECK(READ_ONCE(m->sub.invalidate_seq) & 1,
	      "insert left sub %d with an even invalidate_seq %#lx", m->idx,
	      m->sub.invalidate_seq);
}

static void do_remove_stranger(struct msub *m, const char *what)
{
	unsigned long epoch = 0xdead;
	int ret;

	ret = mni_itree_remove(&M.it, &m->sub, &epoch);
	tr("remove %s [%#lx, %#lx] -> %d", what, m->sub.interval_tree.start,
	   m->sub.interval_tree.last, ret);
	CHECK(ret == -ENOENT, "remove of %s returned %d, expected -ENOENT",
	      what, ret);
	CHECK(epoch == 0xdead, "remove of %s wrote *epoch", what);
	M.st.enoent++;
}

static void do_remove(struct msub *m)
{
	unsigned long epoch = 0;
	int ret, want;

	ret = mni_itree_remove(&M.it, &m->sub, &epoch);
	tr("remove sub %d (%s) -> %d", m->idx, mstate_name[m->st], ret);
	M.st.removes++;
	switch (m->st) {
	case M_OUT:
	case M_PEND_REM:
		want = -ENOENT;
		M.st.enoent++;
		break;
	case M_PEND_INS:
		want = 0;
		m->st = M_OUT;
		m->have_token = false;
		M.st.cancels++;
		break;
	case M_TREE:
	default:
		if (M.epoch_open) {
			want = 1;
			m->st = M_PEND_REM;
			m->rm_wait = true;
			m->rm_epoch = epoch;
			M.st.pend_removes++;
		} else {
			want = 0;
			m->st = M_OUT;
			m->have_token = false;
		}
		break;
	}
	CHECK(ret == want, "remove of sub %d returned %d, expected %d", m->idx,
	      ret, want);
	if (ret == 1) {
		CHECK(!mni_itree_epoch_ended(&M.it, epoch),
		      "remove returned 1 with epoch %#lx, which has ended", epoch);
		if (!directed && !M.helper.active && chance(16))
			helper_start(m, true, epoch);
	}
}

/* Pick refusals, run one invalidation, check its calls against the model. */
static int do_invalidate(unsigned long start, unsigned long end, bool blockable,
			 enum mmu_notifier_event event, bool release)
{
	struct mmu_notifier_range range = {
		.mm = fake_mm, .start = start, .end = end, .event = event,
		.flags = blockable ? MMU_NOTIFIER_RANGE_BLOCKABLE : 0,
	};
	const struct mmu_notifier_range *want_range = &range;
	bool expect[NSUBS];
	unsigned int n_expect = 0, refused = 0, i;
	unsigned long pr_before = shim_pr_err_count(), map_before;
	struct msub *refuser = NULL;
	int ret = 0;

	for (i = 0; i < NSUBS; i++) {
		struct msub *m = &M.subs[i];

		m->refuse = !directed && chance(blockable ? 30 : 12);
		m->calls_now = 0;
		expect[i] = in_tree(m) && overlaps(m, start, end);
		n_expect += expect[i];
	}
	ncalls = 0;
	map_before = shim_lock_map_acquired(&mni_invalidate_map);
	if (release) {
		tr("release (expect %u calls)", n_expect);
		mni_itree_release(&M.it, fake_mm);
		want_range = NULL;
	} else {
		ret = mni_itree_invalidate_start(&M.it, &range);
		tr("start [%#lx, %#lx) %s -> %d, %u calls of %u", start, end,
		   blockable ? "blockable" : "non-blockable", ret, ncalls,
		   n_expect);
	}

	CHECK(shim_lock_map_acquired(&mni_invalidate_map) - map_before == 1,
	      "invalidation took the lockdep map %lu times",
	      shim_lock_map_acquired(&mni_invalidate_map) - map_before);

	/* The calls this invalidation made. */
	for (i = 0; i < ncalls; i++) {
		struct call *c = &calllog[i];
		struct msub *m = c->m;

		CHECK(m >= M.subs && m < M.subs + NSUBS, "callback on a stranger");
		CHECK(expect[m->idx], "sub %d [%#lx, %#lx] (%s) called for [%#lx, %#lx)",
		      m->idx, m->start, m->last, mstate_name[m->st], start, end);
		CHECK(!m->calls_now++, "sub %d called twice by one invalidation",
		      m->idx);
		if (want_range)
			CHECK(c->range == want_range, "callback got another range");
		else
			CHECK(c->seen.start == 0 && c->seen.end == ULONG_MAX &&
			      c->seen.event == MMU_NOTIFY_RELEASE &&
			      c->seen.mm == fake_mm &&
			      mmu_notifier_range_blockable(&c->seen),
			      "release passed range [%#lx, %#lx) event %d flags %#x",
			      c->seen.start, c->seen.end, c->seen.event,
			      c->seen.flags);
		CHECK(c->cur_seq & 1, "even cur_seq %#lx", c->cur_seq);
		CHECK(c->cur_seq == calllog[0].cur_seq,
		      "two cur_seq values (%#lx, %#lx) in one invalidation",
		      calllog[0].cur_seq, c->cur_seq);
		if (!c->ret) {
			refused++;
			refuser = m;
		}
	}
	if (ncalls) {
		unsigned long seq = calllog[0].cur_seq;

		CHECK(!M.have_last_seq || (long)(seq - M.last_seq) > 0,
		      "cur_seq %#lx not newer than the previous one %#lx", seq,
		      M.last_seq);
		CHECK((long)(seq - M.it.epoch) >= 0,
		      "cur_seq %#lx older than the epoch %#lx", seq, M.it.epoch);
		M.have_last_seq = true;
		M.last_seq = seq;
	}
	if (blockable || !refused) {
		CHECK(ncalls == n_expect, "%u subs called, %u overlap", ncalls,
		      n_expect);
		CHECK(ret == 0, "invalidate_start returned %d", ret);
		CHECK(shim_pr_err_count() - pr_before == refused,
		      "%u refusals in blockable context, %lu logged", refused,
		      shim_pr_err_count() - pr_before);
		M.st.refusals_logged += refused;
	} else {
		CHECK(ret == -EAGAIN, "refused non-blockable start returned %d", ret);
		CHECK(refused == 1 && calllog[ncalls - 1].m == refuser,
		      "non-blockable start went on after a refusal");
		CHECK(shim_pr_err_count() == pr_before,
		      "non-blockable refusal was logged");
		/* Tree order is by start: everything before the refuser ran. */
		for (i = 0; i < NSUBS; i++) {
			struct msub *m = &M.subs[i];

			if (!expect[i])
				continue;
			if (m->start < refuser->start)
				CHECK(m->calls_now,
				      "sub %d (start %#lx) skipped before refuser %d (start %#lx)",
				      i, m->start, refuser->idx, refuser->start);
			if (m->start > refuser->start)
				CHECK(!m->calls_now,
				      "sub %d (start %#lx) called after refuser %d (start %#lx)",
				      i, m->start, refuser->idx, refuser->start);
		}
		M.st.eagain++;
	}

	/* The model's side. */
	M.active++;
	if (M.active > M.st.max_active)
		M.st.max_active = M.active;
	M.st.starts++;
	if (!n_expect)
		M.st.empty_starts++;
	if (n_expect && !M.epoch_open) {
		M.epoch_open = true;
		M.st.epochs++;
	}
	for (i = 0; i < ncalls; i++) {
		calllog[i].m->wait = true;
		calllog[i].m->calls++;
	}
	M.st.calls += ncalls;
	if (release) {
		M.st.releases++;
		model_end();
	}
	return ret;
}

static void do_start(void)
{
	unsigned long start, end;
	enum mmu_notifier_event ev;

	switch (rnd_below(20)) {
	case 0:		/* empty */
		start = rnd_below(600);
		end = start - rnd_below(2);
		break;
	case 1:
		start = 0;
		end = ULONG_MAX;
		break;
	case 2:
		start = ULONG_MAX - rnd_below(128);
		end = ULONG_MAX;
		break;
	default:
		start = rnd_below(600);
		end = start + 1 + rnd_below(rnd_below(3) ? 32 : 300);
		break;
	}
	ev = rnd_below(5);	/* anything but RELEASE */
	do_invalidate(start, end, !chance(3), ev, false);
}

static void do_end(void)
{
	tr("end (active %lu)", M.active);
	mni_itree_invalidate_end(&M.it);
	model_end();
}

static void do_quiesce(void)
{
	tr("quiesce (active %lu)", M.active);
	mni_itree_quiesce(&M.it);
	M.st.quiesces++;
	M.active = 0;
	if (M.epoch_open)
		model_end_epoch();
}

static void do_read_begin(struct msub *m)
{
	bool want_wait = M.epoch_open && m->wait;
	unsigned long before, seq, map_before;
	bool would;

	CHECK(m->st != M_OUT, "test bug: read_begin on a sub not inserted");
	M.st.read_begins++;
	m->have_token = true;
	m->token_calls = m->calls;
	if (want_wait && !directed && !M.helper.active && chance(24)) {
		tr("read_begin sub %d (%s), for real", m->idx, mstate_name[m->st]);
		m->token = READ_ONCE(m->sub.invalidate_seq);
		helper_start(m, false, 0);
		return;
	}
	before = shim_wait_would_block;
	map_before = shim_lock_map_acquired(&mni_invalidate_map);
	shim_wait_nonblock = true;
	seq = mni_itree_read_begin(&M.it, &m->sub);
	shim_wait_nonblock = false;
	CHECK(shim_lock_map_acquired(&mni_invalidate_map) - map_before == 1,
	      "read_begin did not take the lockdep map once before its wait");
	would = shim_wait_would_block != before;
	tr("read_begin sub %d (%s) -> %#lx%s", m->idx, mstate_name[m->st], seq,
	   would ? ", would wait" : "");
	CHECK(would == want_wait, "read_begin on sub %d (%s) %s, expected it %s",
	      m->idx, mstate_name[m->st], would ? "would wait" : "would not wait",
	      want_wait ? "to wait" : "not to wait");
	CHECK(seq & 1, "read_begin returned an even sequence %#lx", seq);
	M.st.would_wait += would;
	m->token = seq;
}

static void do_read_retry(struct msub *m)
{
	bool want = m->calls != m->token_calls;
	bool got = mmu_interval_read_retry(&m->sub, m->token);

	tr("read_retry sub %d seq %#lx -> %d", m->idx, m->token, got);
	CHECK(got == want, "read_retry on sub %d is %d, but %lu callbacks ran since read_begin",
	      m->idx, got, m->calls - m->token_calls);
	CHECK(mmu_interval_check_retry(&m->sub, m->token) == want,
	      "check_retry disagrees with read_retry");
	if (got)
		M.st.retries_true++;
	else
		M.st.retries_false++;
	if (chance(2))
		m->have_token = false;
}

/* ---- rounds ---------------------------------------------------------- */

static struct msub *pick(bool (*ok)(const struct msub *))
{
	unsigned int i, first = rnd_below(NSUBS);

	for (i = 0; i < NSUBS; i++) {
		struct msub *m = &M.subs[(first + i) % NSUBS];

		if (ok(m))
			return m;
	}
	return NULL;
}

static bool is_out(const struct msub *m) { return m->st == M_OUT; }
static bool is_in(const struct msub *m) { return m->st != M_OUT; }
static bool has_token(const struct msub *m) { return m->st != M_OUT && m->have_token; }
static bool any_sub(const struct msub *m) { (void)m; return true; }

/* The other engine: two subs in its tree, one queued insert, one queued remove. */
static void setup_other(void)
{
	struct mmu_notifier_range r = {
		.mm = fake_mm, .start = 0, .end = 600,
		.flags = MMU_NOTIFIER_RANGE_BLOCKABLE,
	};
	unsigned long epoch;
	int i;

	mni_itree_init(&M.other, &M.other_stats, 2);
	for (i = 0; i < 4; i++) {
		struct mmu_interval_notifier *s = &M.other_subs[i].sub;

		s->interval_tree.start = 16 * i;
		s->interval_tree.last = 16 * i + 100;
		s->ops = &other_ops;
		s->mm = fake_mm;
		if (i < 3)
			mni_itree_insert(&M.other, s);
	}
	mni_itree_invalidate_start(&M.other, &r);	/* open, never ended */
	mni_itree_insert(&M.other, &M.other_subs[3].sub);
	CHECK(mni_itree_remove(&M.other, &M.other_subs[2].sub, &epoch) == 1,
	      "setup of the other engine");
}

static void init_round(unsigned long long round_seed, bool wrap)
{
	int i;

	memset(&M, 0, sizeof(M));
	rng = round_seed;
	mni_itree_init(&M.it, &M.stats, 1);
	if (wrap) {
		/* start near the top of the sequence space: it will wrap */
		M.it.seq = ULONG_MAX - 1 - 2 * rnd_below(64);
		M.it.epoch = M.it.seq - 1;
	}
	for (i = 0; i < NSUBS; i++)
		M.subs[i].idx = i;
	for (i = 0; i < NSTRANGERS; i++) {
		M.strangers[i].idx = -1;
		random_range(&M.strangers[i].sub.interval_tree.start,
			     &M.strangers[i].sub.interval_tree.last);
		if (i & 1)	/* as left by a completed remove */
			RB_CLEAR_NODE(&M.strangers[i].sub.interval_tree.rb);
	}
	setup_other();
	M.trace_base[0] = shim_trace_count("mni_callback");
	M.trace_base[1] = shim_trace_count("mni_invalidate_start");
	M.trace_base[2] = shim_trace_count("mni_insert");
}

/* Close everything and take every subscription out. */
static void drain_round(void)
{
	int i;

	while (M.active) {
		step_no++;
		do_end();
		check_state();
	}
	CHECK(!M.helper.active, "helper left behind");
	for (i = 0; i < NSUBS; i++) {
		if (M.subs[i].st == M_OUT)
			continue;
		step_no++;
		do_remove(&M.subs[i]);
		check_state();
	}
	CHECK(RB_EMPTY_ROOT(&M.it.root.rb_root), "tree not empty after drain");
	CHECK(hlist_empty(&M.it.deferred), "deferred list not empty after drain");
	CHECK(!(M.it.seq & 1) && !M.it.active, "engine not idle after drain");
}

/* Spend @w of the roll @r: true if the roll falls in this bucket. */
static bool take(unsigned int *r, unsigned int w)
{
	if (*r < w)
		return true;
	*r -= w;
	return false;
}

static void random_step(void)
{
	unsigned int w_start = M.active < 12 ? 16 : 2;
	unsigned int w_end = M.active ? 16 : 1;
	unsigned int total = 14 + 10 + 4 + w_start + w_end + 14 + 10 + 1 + 1;
	unsigned int r = rnd_below(total);
	struct msub *m;

	if (take(&r, 14)) {
		m = pick(is_out);
		if (m) {
			unsigned long s, l;

			random_range(&s, &l);
			do_insert(m, s, l);
			return;
		}
	}
	if (take(&r, 10)) {
		m = pick(is_in);
		if (m) {
			do_remove(m);
			return;
		}
	}
	if (take(&r, 4)) {
		switch (rnd_below(4)) {
		case 0:
			do_remove_stranger(&M.strangers[rnd_below(NSTRANGERS)],
					   "a stranger");
			return;
		case 1:
			do_remove_stranger(&M.other_subs[rnd_below(4)],
					   "another engine's sub");
			return;
		default:
			do_remove(pick(any_sub));
			return;
		}
	}
	if (take(&r, w_start)) {
		do_start();
		return;
	}
	if (take(&r, w_end)) {
		do_end();
		return;
	}
	if (take(&r, 14)) {
		m = pick(is_in);
		if (m) {
			do_read_begin(m);
			return;
		}
	}
	if (take(&r, 10)) {
		m = pick(has_token);
		if (m) {
			do_read_retry(m);
			return;
		}
	}
	if (take(&r, 1)) {
		do_invalidate(0, ULONG_MAX, true, MMU_NOTIFY_RELEASE, true);
		return;
	}
	if (chance(2)) {
		do_quiesce();
		return;
	}
	do_end();
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

static unsigned long n_rounds, n_ops;

static void print_stats(void)
{
	struct stats *s = &M.st;

	utap_diag("%lu ops: %lu inserts (%lu queued, %lu opened an epoch)",
		  s->ops, s->inserts, s->pend_inserts, s->epoch_inserts);
	utap_diag("  %lu removes (%lu queued, %lu cancelled inserts, %lu -ENOENT)",
		  s->removes, s->pend_removes, s->cancels, s->enoent);
	utap_diag("  %lu starts (%lu overlapping nothing, max %lu in flight), %lu epochs",
		  s->starts, s->empty_starts, s->max_active, s->epochs);
	utap_diag("  %lu callbacks, %lu -EAGAIN, %lu refusals logged",
		  s->calls, s->eagain, s->refusals_logged);
	utap_diag("  %lu ends ignored, %lu releases, %lu quiesces",
		  s->ends_ignored, s->releases, s->quiesces);
	utap_diag("  %lu read_begins (%lu would wait, %lu real waits in a helper)",
		  s->read_begins, s->would_wait, s->real_waits);
	utap_diag("  read_retry %lu true, %lu false", s->retries_true,
		  s->retries_false);
}

static void run_round(unsigned long r)
{
	unsigned long long round_seed = seed + r;
	unsigned long i;

	/* Decided by the seed alone, so MNI_SEED=<round seed> replays it. */
	bool wrap = round_seed % 3 == 2;

	round_no = r;
	init_round(round_seed, wrap);
	seed = round_seed;	/* what dump_trace() prints */
	utap_diag("round %lu: seed %llu%s", r, (unsigned long long)round_seed,
		  wrap ? ", sequence starts near ULONG_MAX" : "");
	check_state();
	for (i = 0; i < n_ops; i++) {
		step_no = i + 1;
		random_step();
		M.st.ops++;
		check_state();
	}
	drain_round();
	print_stats();
}

/* One test per round; the harness forks, so state starts fresh. */
static void test_round(void)
{
	run_round(utap_arg);
}

/* ---- directed scenarios: short scripts through the same checks ------ */

static void directed_init(void)
{
	directed = true;
	init_round(seed, false);
	step_no = 0;
}

static struct msub *S(int i)
{
	return &M.subs[i];
}

#define STEP(op) do { step_no++; op; check_state(); } while (0)

static int inval(unsigned long start, unsigned long end, bool blockable)
{
	int ret;

	step_no++;
	ret = do_invalidate(start, end, blockable, MMU_NOTIFY_UNMAP, false);
	check_state();
	return ret;
}

/* Force every sub's refusal flag after do_invalidate() picked its own. */
static bool forced_refuse[NSUBS];

static bool forced_invalidate(struct mmu_interval_notifier *sub,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct msub *m = container_of(sub, struct msub, sub);

	m->refuse = forced_refuse[m->idx];
	return model_invalidate(sub, range, cur_seq);
}

static const struct mmu_interval_notifier_ops forced_ops = {
	.invalidate = forced_invalidate,
};

static void no_wait(struct msub *m)
{
	STEP(do_read_begin(m));
	CHECK(!M.epoch_open || !m->wait, "expected no wait");
}

static void test_idle_insert_remove(void)
{
	directed_init();
	STEP(do_insert(S(0), 0x1000, 0x1fff));
	no_wait(S(0));
	STEP(do_read_retry(S(0)));
	STEP(do_remove(S(0)));
	STEP(do_remove(S(0)));		/* double remove: -ENOENT */
	CHECK(M.st.enoent == 1, "double remove not refused");
}

static void test_remove_never_inserted(void)
{
	struct msub twin = { .idx = -1 };

	directed_init();
	STEP(do_insert(S(0), 100, 199));
	twin.sub.interval_tree.start = 100;	/* same range, other object */
	twin.sub.interval_tree.last = 199;
	STEP(do_remove_stranger(&twin, "a twin never inserted"));
	RB_CLEAR_NODE(&twin.sub.interval_tree.rb);
	STEP(do_remove_stranger(&twin, "a cleared twin"));
	STEP(do_remove_stranger(&M.other_subs[0], "another engine's sub"));
	STEP(do_remove_stranger(&M.other_subs[2], "another engine's queued remove"));
	STEP(do_remove_stranger(&M.other_subs[3], "another engine's queued insert"));
	memset(&twin, 0xa5, sizeof(twin));	/* never initialised at all */
	twin.sub.interval_tree.start = 100;
	twin.sub.interval_tree.last = 199;
	STEP(do_remove_stranger(&twin, "an uninitialised twin"));
	STEP(do_remove(S(1)));		/* never inserted, zeroed */
	CHECK(S(0)->st == M_TREE, "sub 0 disturbed");
}

static void test_end_without_start(void)
{
	directed_init();
	STEP(do_end());
	STEP(do_end());
	CHECK(M.st.ends_ignored == 2 && M.it.active == 0, "ends not ignored");
	STEP(do_insert(S(0), 0, 99));
	no_wait(S(0));
	inval(50, 60, true);
	STEP(do_end());
	STEP(do_end());
	CHECK(!(M.it.seq & 1) && !M.it.active, "engine not idle");
}

static void test_nonblockable_refusal(void)
{
	int ret, i;

	directed_init();
	for (i = 0; i < 3; i++) {
		STEP(do_insert(S(i), 10 * i, 10 * i + 9));
		S(i)->sub.ops = &forced_ops;
	}
	forced_refuse[1] = true;
	ret = inval(0, 30, false);
	CHECK(ret == -EAGAIN, "start returned %d", ret);
	CHECK(S(0)->calls == 1 && S(1)->calls == 1 && S(2)->calls == 0,
	      "calls %lu %lu %lu", S(0)->calls, S(1)->calls, S(2)->calls);
	CHECK(M.it.active == 1 && (M.it.seq & 1), "count not held after -EAGAIN");
	STEP(do_read_begin(S(0)));
	CHECK(S(0)->wait, "called sub would not wait");
	no_wait(S(2));
	STEP(do_end());
	no_wait(S(0));
	STEP(do_read_retry(S(0)));
}

static void test_blockable_refusal(void)
{
	unsigned long before = shim_pr_err_count();
	int ret, i;

	directed_init();
	for (i = 0; i < 3; i++) {
		STEP(do_insert(S(i), 10 * i, 10 * i + 9));
		S(i)->sub.ops = &forced_ops;
	}
	forced_refuse[0] = true;
	forced_refuse[1] = true;
	ret = inval(0, 30, true);
	CHECK(ret == 0, "start returned %d", ret);
	CHECK(S(2)->calls == 1, "refusal stopped a blockable invalidation");
	CHECK(shim_pr_err_count() - before == 2, "refusals not logged");
	STEP(do_end());
}

static void test_deferred(void)
{
	directed_init();
	STEP(do_insert(S(0), 0, 99));		/* A */
	STEP(do_insert(S(1), 200, 299));	/* B */
	inval(0, 10, true);			/* epoch opens on A */
	STEP(do_insert(S(2), 0, 99));		/* queued */
	CHECK(S(2)->st == M_PEND_INS, "insert not queued");
	inval(50, 60, true);			/* must not call the queued insert */
	CHECK(S(2)->calls == 0 && S(0)->calls == 2, "calls %lu %lu",
	      S(2)->calls, S(0)->calls);
	STEP(do_remove(S(1)));			/* queued: 1 */
	CHECK(S(1)->st == M_PEND_REM, "remove not queued");
	inval(250, 251, true);			/* still called */
	CHECK(S(1)->calls == 1, "queued remove not called");
	STEP(do_remove(S(1)));			/* double: -ENOENT */
	STEP(do_insert(S(3), 500, 599));
	STEP(do_remove(S(3)));			/* cancels a queued insert */
	STEP(do_end());
	STEP(do_end());
	CHECK(M.epoch_open, "epoch closed early");
	STEP(do_end());
	CHECK(!M.epoch_open && S(2)->st == M_TREE && S(1)->st == M_OUT &&
	      S(3)->st == M_OUT, "deferred list not applied");
	inval(0, 1000, true);
	CHECK(S(2)->calls == 1 && S(1)->calls == 1, "tree after the epoch");
	STEP(do_end());
}

static void test_nested_seq(void)
{
	directed_init();
	STEP(do_insert(S(0), 0, 99));
	no_wait(S(0));
	inval(0, 10, true);
	inval(20, 30, true);
	inval(40, 50, false);
	CHECK(S(0)->calls == 3, "nested calls %lu", S(0)->calls);
	STEP(do_read_retry(S(0)));
	STEP(do_end());
	STEP(do_end());
	STEP(do_end());
}

static void test_blocking_read_begin(void)
{
	directed_init();
	STEP(do_insert(S(0), 0, 99));
	STEP(do_insert(S(1), 100, 199));
	inval(0, 10, true);
	inval(150, 160, true);
	/* for real, in helpers: both must sleep until the last end */
	step_no++;
	S(0)->have_token = true;
	S(0)->token_calls = S(0)->calls;
	S(0)->token = READ_ONCE(S(0)->sub.invalidate_seq);
	helper_start(S(0), false, 0);
	STEP(do_end());
	CHECK(M.helper.active, "helper finished while an invalidation is in flight");
	STEP(do_end());
	CHECK(!M.helper.active, "helper not finished");
	STEP(do_read_retry(S(0)));
	inval(0, 200, true);
	step_no++;
	{
		unsigned long epoch = 0;

		CHECK(mni_itree_remove(&M.it, &S(1)->sub, &epoch) == 1,
		      "remove during an epoch");
		S(1)->st = M_PEND_REM;
		S(1)->rm_wait = true;
		S(1)->rm_epoch = epoch;
		M.st.pend_removes++;
		helper_start(S(1), true, epoch);
	}
	inval(0, 10, true);
	STEP(do_end());
	CHECK(M.helper.active, "remove's wait ended early");
	STEP(do_end());
	CHECK(!M.helper.active && S(1)->st == M_OUT, "remove's wait not ended");
}

static void test_insert_during_unrelated(void)
{
	directed_init();
	inval(0x100000, 0x200000, true);	/* overlaps nothing */
	CHECK(!M.epoch_open, "empty invalidation opened an epoch");
	STEP(do_insert(S(0), 0, 99));
	CHECK(M.epoch_open && S(0)->st == M_TREE, "insert did not open an epoch");
	STEP(do_read_begin(S(0)));
	CHECK(S(0)->wait, "read_begin would not wait on a racing insert");
	STEP(do_insert(S(1), 0, 99));		/* now queued */
	inval(0, 10, true);
	CHECK(S(0)->calls == 1 && S(1)->calls == 0, "calls");
	STEP(do_end());
	STEP(do_end());
	no_wait(S(0));
	no_wait(S(1));
}

static void test_quiesce_release(void)
{
	directed_init();
	STEP(do_insert(S(0), 0, 99));
	STEP(do_insert(S(1), ULONG_MAX - 10, ULONG_MAX - 1));
	STEP(do_insert(S(2), 5, ULONG_MAX));
	inval(0, 10, true);
	inval(0, 10, false);
	STEP(do_insert(S(3), 300, 400));
	STEP(do_quiesce());
	CHECK(!M.it.active && !(M.it.seq & 1) && S(3)->st == M_TREE,
	      "quiesce left the epoch open");
	STEP(do_end());
	STEP(do_end());
	CHECK(M.st.ends_ignored == 2, "ends after quiesce not ignored");
	step_no++;
	do_invalidate(0, ULONG_MAX, true, MMU_NOTIFY_RELEASE, true);
	check_state();
	CHECK(S(0)->calls == 3 && S(1)->calls == 1 && S(2)->calls == 3 &&
	      S(3)->calls == 1, "release did not call everything");
}

static void test_seq_wrap(void)
{
	int i;

	directed_init();
	M.it.seq = ULONG_MAX - 3;
	M.it.epoch = M.it.seq - 1;
	STEP(do_insert(S(0), 0, 99));
	for (i = 0; i < 6; i++) {
		inval(0, 10, true);
		inval(0, 10, true);
		STEP(do_read_begin(S(0)));
		STEP(do_end());
		STEP(do_read_retry(S(0)));
		STEP(do_end());
		no_wait(S(0));
	}
	CHECK(M.it.seq < 100, "sequence did not wrap (%#lx)", M.it.seq);
}

int main(void)
{
	static const struct utest directed[] = {
		{ .name = "idle insert, read, remove, double remove",
		  .fn = test_idle_insert_remove },
		{ .name = "remove of never-inserted and foreign subs is -ENOENT",
		  .fn = test_remove_never_inserted },
		{ .name = "ends without starts are ignored",
		  .fn = test_end_without_start },
		{ .name = "non-blockable refusal: -EAGAIN, later subs skipped, count held",
		  .fn = test_nonblockable_refusal },
		{ .name = "blockable refusal: ignored and logged",
		  .fn = test_blockable_refusal },
		{ .name = "deferred inserts and removes apply at the epoch's end",
		  .fn = test_deferred },
		{ .name = "nested invalidations: distinct odd cur_seq",
		  .fn = test_nested_seq },
		{ .name = "read_begin and remove's wait sleep until the epoch ends",
		  .fn = test_blocking_read_begin },
		{ .name = "insert during an unrelated invalidation opens an epoch",
		  .fn = test_insert_during_unrelated },
		{ .name = "quiesce closes the epoch; release calls every sub",
		  .fn = test_quiesce_release },
		{ .name = "sequence wraps around ULONG_MAX",
		  .fn = test_seq_wrap },
	};
	const int nd = ARRAY_SIZE(directed);
	struct utest *tests;
	char (*names)[64];
	unsigned long r;
	int ret;

	seed = env_ul("MNI_SEED", (unsigned long)time(NULL) * 2654435761UL ^ getpid());
	n_rounds = env_ul("MNI_ROUNDS", 10);
	n_ops = env_ul("MNI_MODEL_OPS", 20000);
	utap_fail_hook = dump_trace;

	tests = calloc(nd + n_rounds, sizeof(*tests));
	names = calloc(n_rounds, sizeof(*names));
	if (!tests || !names)
		return 1;
	memcpy(tests, directed, sizeof(directed));
	for (r = 0; r < n_rounds; r++) {
		snprintf(names[r], sizeof(names[r]),
			 "model round %lu: %lu random operations", r, n_ops);
		tests[nd + r] = (struct utest){
			.name = names[r], .fn = test_round, .timeout = 120, .arg = r,
		};
	}
	printf("# model: seed %llu (MNI_SEED=%llu to replay), %lu rounds x %lu operations\n",
	       (unsigned long long)seed, (unsigned long long)seed, n_rounds, n_ops);
	ret = utap_main(tests, nd + n_rounds);
	free(tests);
	free(names);
	return ret;
}
