// SPDX-License-Identifier: GPL-2.0
/*
 * model.c - the engine against a deliberately naive reference model
 *
 * The real src/mni_itree.c is included here (as WireGuard's selftests
 * include the code they test) so the checks can also reach its static
 * helpers and its state. The model is a flat array of subscriptions and a
 * flat array of in-flight records, one per range pointer, and the rules:
 *
 *   - an insert stamps the subscription with the current sequence and sets
 *     its invalidate_seq to it; a record calls only subscriptions stamped
 *     before it began (stamp < its seq) that are not dying;
 *   - every start that gets a record takes a fresh odd seq (+2), hands it
 *     to every callback, and walks the subscriptions it overlaps in tree
 *     order (start, then address), looking at the tree as it is at each
 *     step: nested inserts and removes made from inside a callback count;
 *   - a non-blockable start takes only a spare record (-EAGAIN and no call
 *     without one), stops at the first refusing callback and drops its
 *     record; a blockable one keeps one spare in reserve, allocates, takes
 *     the reserve and retries when allocation fails, and ignores refusals
 *     (logging each one); ends give records back (blockable ends keep at
 *     most MNI_SPARE_MAX spares); an end finds its record by the range
 *     pointer, and an end without one changes nothing;
 *   - remove is -ENOENT for a stranger or a dying subscription, 1 (dying)
 *     while a walk stands on it, or while another thread's walk holds it
 *     (it is in that walk's round, at or after its progress; the walk then
 *     skips it and wakes the remover when the round is over), otherwise 0
 *     and gone at once (a walk of the remover's own thread drops it);
 *   - read_sample is -ENOENT for strangers and dying subscriptions, a
 *     collision seq (even) once release began, -EAGAIN while any record
 *     overlaps the subscription, else its invalidate_seq;
 *   - mni_itree_inspect() reports REMOVING for dying subscriptions,
 *     INVALIDATING for those a record overlaps, else IDLE;
 *   - update moves a subscription, takes a fresh seq (+2) as its stamp and
 *     invalidate_seq, and makes each walk in flight (all of them stand in
 *     a callback here) that began after the old stamp, overlaps the old or
 *     the new range, does not stand on it and has not called it yet
 *     (old range: it is after the walk's last tree call) owe it one call;
 *     the walk makes owed calls in any order, each once, before it ends; a
 *     remove drops them.
 *
 * A third of the subscriptions have mni's two-pass ops (invalidate_start,
 * invalidate_finish); their start is the callback above, and then:
 *
 *   - a start that returns true hands back a finish object of its own
 *     (mostly) or none; one that refuses sometimes hands one back too,
 *     which must never run: only a start that returned true gets a second
 *     pass;
 *   - a walk's finishes run after its whole first pass (all of it, or up
 *     to a non-blockable refusal), before the start returns and before
 *     its record goes (a refused one is dropped after them), in the order
 *     their starts ran, each exactly once, on a subscription not yet
 *     unlinked or released; no first-pass call of that walk comes after;
 *   - from the first collected finish until they have all run, the record
 *     "finishes" a range: its own, widened by every update of a sub that
 *     overlaps that range, or that its walk owes a call (the owed rule
 *     above; in the second passes only a refused walk still owes: its
 *     round stays held); every sub overlapping it is busy, besides the
 *     one a walk stands on: remove is 1 (dying) and put is 1;
 *   - put is -ENOENT like remove, 0 (the caller releases at
 *     once) when not busy, else 1: the release comes from the walks, never
 *     while a walk below the reaping one stands on the sub, nor while a
 *     finish of it is still to run or a record that may finish it has not
 *     run them all; and by the time each walk that held it at the put, or
 *     that an update made cover it since, has returned, exactly once;
 *   - updates, removes, puts, reads, starts and ends of other ranges are
 *     also made from inside the finishes (nested as from the first pass).
 *
 * Walks are interleaved with other operations by doing those operations
 * from inside the callbacks (nested inserts, removes, reads, and starts and
 * ends of other ranges), and now and then by real helper threads that
 * sleep in read_wait() or remove_wait(), or walk concurrently.
 *
 * After every step the engine's tree, sequence, records, spares, stats,
 * inspect() view and every subscription's invalidate_seq are compared
 * with the model.
 *
 * Environment: MNI_SEED (default: from the clock), MNI_ROUNDS (10),
 * MNI_MODEL_OPS (operations per round, 20000). Round r uses seed
 * MNI_SEED + r, so MNI_SEED=<printed round seed> MNI_ROUNDS=1 replays it.
 */
#include "mni_itree.c"
#include "mni_walk.c"
#include "mni_read.c"
#include "mni_put.c"
#include "mni_update.c"
#include "mni.h"
#include "shared_ref.h"

#include <pthread.h>
#include <time.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define NSUBS		24
#define NSTRANGERS	3
#define NRANGES		8
#define RELEASE_SLOT	NRANGES
#define MAX_DEPTH	3
#define SPACE		1024UL
#define TRACE_LEN	64
#define TRACE_WIDTH	160
/* Finish objects: each walk on the stack may hold one per call it made. */
#define NFINS		(NSUBS * 2)
#define NFIN_POOL	((MAX_DEPTH + 1) * NFINS)

enum mstate { M_OUT, M_IN, M_DYING };

static const char *const mstate_name[] = {
	[M_OUT] = "out", [M_IN] = "in", [M_DYING] = "dying",
};

struct msub {
	struct mmu_interval_notifier sub;
	int idx;
	enum mstate st;
	unsigned long start, last;	/* the model's own copy */
	unsigned long stamp;		/* the model's seq at insert */
	unsigned long seq;		/* what invalidate_seq must be */
	bool refuse;			/* the callback returns false */
	bool two_pass;			/* mni's two-pass ops */
	bool put;			/* put, its release not run yet */
	unsigned int put_holders;	/* walks that held it at the put */
};

/* A finish object of the pool, handed back by a two-pass start. */
struct mfin {
	struct mni_interval_notifier_finish fin;
	struct msub *m;
	bool busy;			/* handed back, its finish not run */
};

/* One record in flight, by range slot (RELEASE_SLOT: the release pass). */
struct mrec {
	bool live;
	bool walking;
	bool blockable;
	bool overflow;			/* no record: a slot stands for it */
	unsigned long start, last, seq;
	int cursor;			/* sub the walk stands on, or -1 */
	/* subs another thread's walk holds: its round, from its progress on */
	unsigned long long held;
	/* the walk collected finishes that have not all run */
	bool finishing;
	/* the subs whose finish it may hold: its range, widened by updates */
	unsigned long fin_start, fin_last;
};

/* A walk of the main thread in progress (nested walks stack up). */
struct frame {
	int slot;
	struct msub *prev;		/* its last call in tree order */
	unsigned long prev_start;	/* where that was: updates move subs */
	unsigned long long owe;		/* subs an update made it owe a call */
	bool refused;
	bool finish_pass;		/* its second passes have begun */
	int nfin, fin_ran;		/* finishes collected, and run */
	/* removed from its own running callback: the walker lets it go */
	struct msub *cut;
	struct mfin *fins[NFINS];	/* in the order their starts ran */
};

struct helper {
	pthread_t thread;
	int kind;
	struct msub *m;
	long timeout;
	bool killable, fatal;
	unsigned long seq;
	int ret, ret2;
	int done;			/* atomic */
};

enum { H_READ_WAIT, H_REMOVE, H_WALK };

static struct {
	struct mni_itree it;
	struct msub subs[NSUBS];
	struct msub strangers[NSTRANGERS], stranger_copy[NSTRANGERS];
	struct mmu_notifier_range ranges[NRANGES];
	struct mrec rec[NRANGES + 1];
	struct frame frames[MAX_DEPTH];
	int depth;
	unsigned long seq;
	unsigned int spare;
	unsigned int nr_ov;		/* overflow slots in use */
	bool dead;
	bool released;			/* the release pass is over */
	pthread_t main;
	/* expected stats */
	struct mni_stats want;
	unsigned long pr_err_base, pr_errs;
	/* a helper sleeping in remove_wait() for the running callback */
	struct helper *rm_helper;
	bool quiet;			/* no nested ops: a helper races */
	bool no_nest;
	/* finish objects, and one a refusing start hands back (ignored) */
	struct mfin fin_pool[NFIN_POOL];
	struct mni_interval_notifier_finish bogus_fin;
	bool in_put_done;		/* the put itself releases */
	/* a second engine, whose subscriptions are strangers to the first */
	struct mni_itree other;
	struct msub other_subs[2];
	/* counts, for the diagnostics */
	unsigned long ops, calls, nested, eagain, no_record, enoent, dying;
	unsigned long ignored_ends, real_waits, remove_sleeps, releases;
	unsigned long kfails, updates, owed_calls;
	unsigned long tp_starts, fin_asks, fin_none, fin_bogus, fin_runs;
	unsigned long fin_dropped, fin_early;
	/* a remove_wait() from a pass runs this sub's finish of that pass */
	struct msub *early_fin;
	unsigned long fin_nested, fin_waits, puts, put_defers, put_releases;
} M;

static unsigned long long seed, rng;
static unsigned long round_no, step_no;
static char trace[TRACE_LEN][TRACE_WIDTH];
static unsigned long trace_n;
static bool directed;
static bool late;		/* the last tenth of a random round */

static struct mm_struct *const fake_mm = (struct mm_struct *)0x10000;

static void check_state(void);

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

	n = snprintf(line, TRACE_WIDTH, "%6lu:%*s ", step_no, 2 * M.depth, "");
	va_start(ap, fmt);
	vsnprintf(line + n, TRACE_WIDTH - n, fmt, ap);
	va_end(ap);
}

static void dump_trace(void)
{
	unsigned long i = trace_n > TRACE_LEN ? trace_n - TRACE_LEN : 0;

	if (!directed)
		tap_diag("seed %llu (round %lu, replay: MNI_SEED=%llu MNI_ROUNDS=1), step %lu",
			  seed, round_no, seed, step_no);
	tap_diag("engine: seq=%#lx in_flight=%lu spare=%u dead=%d; model: seq=%#lx spare=%u dead=%d",
		  M.it.seq, M.it.nr_inflight, M.it.nr_spare, M.it.dead,
		  M.seq, M.spare, M.dead);
	tap_diag("last %lu operations:", trace_n - i);
	for (; i < trace_n; i++)
		tap_diag("  %s", trace[i % TRACE_LEN]);
}

/* ---- the model's rules --------------------------------------------- */

static bool overlaps(const struct msub *m, unsigned long start,
		     unsigned long last)
{
	return m->start <= last && start <= m->last;
}

/* Tree order: by start, then by address. */
static bool before_at(unsigned long a_start, const struct msub *a,
		      const struct msub *b)
{
	return a_start < b->start ||
	       (a_start == b->start && (unsigned long)&a->sub < (unsigned long)&b->sub);
}

static bool before(const struct msub *a, const struct msub *b)
{
	return before_at(a->start, a, b);
}

/* Has the walk of @f gone past @m's place in the tree? */
static bool walk_passed(const struct frame *f, const struct msub *m)
{
	return f->prev && !before_at(f->prev_start, f->prev, m);
}

static bool linked(const struct msub *m)
{
	return m->st != M_OUT;
}

static bool any_overlap(const struct msub *m)
{
	int s;

	/* An invalidation without a record collides with every sub. */
	if (M.nr_ov)
		return true;
	for (s = 0; s <= NRANGES; s++)
		if (M.rec[s].live && overlaps(m, M.rec[s].start, M.rec[s].last))
			return true;
	return false;
}

/* May the pending finishes of @r include one of @m's? */
static bool fin_covers(const struct mrec *r, const struct msub *m)
{
	return r->live && r->finishing && m->start <= r->fin_last &&
	       r->fin_start <= m->last;
}

static bool finish_pending(const struct msub *m)
{
	int s;

	for (s = 0; s <= NRANGES; s++)
		if (fin_covers(&M.rec[s], m))
			return true;
	return false;
}

/* A walk stands on @m (or holds it), or may owe it a second pass. */
static bool busy(const struct msub *m)
{
	int s;

	for (s = 0; s <= NRANGES; s++)
		if (M.rec[s].live && M.rec[s].walking &&
		    (M.rec[s].cursor == m->idx || M.rec[s].held >> m->idx & 1))
			return true;
	return finish_pending(m);
}

/* Is record @s the pass of a walk of the main thread in progress? */
static bool own_pass(int s)
{
	int d;

	for (d = 0; d < M.depth; d++)
		if (M.frames[d].slot == s)
			return true;
	return false;
}

/*
 * busy() for a remove() made by the main thread, from inside its walks or
 * not: its own passes never hold @m (a later slot is dropped, the running
 * callback's own sub let go), nor make it wait for their second passes
 * (remove_wait() runs @m's own, see own_fin_pending()).
 */
static bool busy_remove(const struct msub *m)
{
	int s;

	for (s = 0; s <= NRANGES; s++) {
		const struct mrec *r = &M.rec[s];

		if (!r->live || own_pass(s))
			continue;
		if (r->walking && (r->cursor == m->idx || r->held >> m->idx & 1))
			return true;
		if (fin_covers(r, m))
			return true;
	}
	return false;
}

/* Does a walk of the main thread in progress still owe @m a finish? */
static bool own_fin_pending(const struct msub *m)
{
	int d, i;

	for (d = 0; d < M.depth; d++)
		for (i = M.frames[d].fin_ran; i < M.frames[d].nfin; i++)
			if (M.frames[d].fins[i] && M.frames[d].fins[i]->m == m)
				return true;
	return false;
}

/* The next subscription the walk of @f must call, from the tree as it is. */
static struct msub *model_next(const struct frame *f)
{
	const struct mrec *r = &M.rec[f->slot];
	struct msub *best = NULL;
	int i;

	for (i = 0; i < NSUBS; i++) {
		struct msub *m = &M.subs[i];

		if (m->st != M_IN || m->stamp >= r->seq ||
		    !overlaps(m, r->start, r->last))
			continue;
		if (walk_passed(f, m))
			continue;
		if (!best || before(m, best))
			best = m;
	}
	return best;
}

/* A record back to the spares; true if the engine frees it instead. */
static void model_put(bool blockable)
{
	if (blockable && M.spare >= MNI_SPARE_MAX)
		return;
	M.spare++;
}

/* ---- the callback ------------------------------------------------- */

static void nested_ops(void);
static void remove_in_helper(struct msub *m);
static bool helper_done(struct helper *h);

static struct {
	struct msub *stop_at;		/* H_WALK: block on this one */
	int arrived, go;		/* atomic */
	struct msub *log[NSUBS * 2];
	unsigned long log_seq[NSUBS * 2];
	int nlog;
} W;

/* Callbacks of a helper thread's walk: logged, checked after the join. */
static bool helper_invalidate(struct msub *m, unsigned long cur_seq)
{
	CHECK(shim_spin_depth() == 0, "callback runs under a spinlock");
	CHECK(W.nlog < NSUBS * 2, "helper walk storm");
	W.log[W.nlog] = m;
	W.log_seq[W.nlog++] = cur_seq;
	mmu_interval_set_seq(&m->sub, cur_seq);
	if (m == W.stop_at) {
		__atomic_store_n(&W.arrived, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&W.go, __ATOMIC_ACQUIRE))
			usleep(100);
	}
	return true;
}

/* The first pass of the main thread's walk, one-pass or two-pass. */
static bool model_call(struct msub *m, const struct mmu_notifier_range *range,
		       unsigned long cur_seq)
{
	struct mmu_interval_notifier *sub = &m->sub;
	struct frame *f;
	struct mrec *r;
	struct msub *want;
	bool ret, owed;

	CHECK(shim_spin_depth() == 0, "callback runs under a spinlock");
	CHECK(shim_lock_map_depth(&mni_invalidate_map) == M.depth,
	      "callback runs outside the mni_invalidate_range map");
	CHECK(M.depth > 0, "callback with no walk in progress");
	f = &M.frames[M.depth - 1];
	r = &M.rec[f->slot];
	want = model_next(f);
	tr("call%s sub %d [%lu,%lu] seq %#lx (want %d%s)",
	   m->two_pass ? " two-pass" : "", m->idx, m->start,
	   m->last, cur_seq, want ? want->idx : -1,
	   f->owe >> m->idx & 1 ? ", owed" : "");
	CHECK(!f->finish_pass, "first pass of sub %d during the second passes",
	      m->idx);
	CHECK(!f->refused, "walk called sub %d after a refusal", m->idx);
	CHECK(m->two_pass == !sub->ops->invalidate,
	      "sub %d called through the other kind of ops", m->idx);
	owed = f->owe >> m->idx & 1;
	if (owed) {
		/* Owed by an update: any time before the walk ends. */
		f->owe &= ~(1ULL << m->idx);
		M.owed_calls++;
	} else {
		CHECK(want == m, "walk called sub %d, model wants %d", m->idx,
		      want ? want->idx : -1);
	}
	CHECK(cur_seq == r->seq, "cur_seq %#lx, record's %#lx", cur_seq, r->seq);
	if (f->slot == RELEASE_SLOT)
		CHECK(range->event == MMU_NOTIFY_RELEASE && !range->start &&
		      range->end == ULONG_MAX, "release pass with a wrong range");
	else
		CHECK(range == &M.ranges[f->slot], "callback got another range");

	mmu_interval_set_seq(sub, cur_seq);
	m->seq = cur_seq;
	if (!owed) {
		f->prev = m;
		f->prev_start = m->start;
	}
	r->cursor = m->idx;
	f->cut = NULL;
	M.want.callbacks++;
	M.calls++;
	ret = !m->refuse;
	if (!ret) {
		if (r->blockable)
			M.pr_errs++;
		else
			f->refused = true;
	}

	if (M.rm_helper == (struct helper *)1 && M.depth == 1 &&
	    f->slot != RELEASE_SLOT) {
		remove_in_helper(m);
		return ret;
	}
	if (M.rm_helper || M.quiet)
		return ret;
	check_state();
	if (!directed && !M.no_nest && M.depth < MAX_DEPTH && chance(3))
		nested_ops();
	/* Removed from its own callback: the walker reports it no more. */
	if (f->cut == m && !ret && r->blockable)
		M.pr_errs--;
	return ret;
}

static bool model_invalidate(struct mmu_interval_notifier *sub,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq)
{
	struct msub *m = container_of(sub, struct msub, sub);

	if (!pthread_equal(pthread_self(), M.main))
		return helper_invalidate(m, cur_seq);
	return model_call(m, range, cur_seq);
}

static const struct mmu_interval_notifier_ops model_ops = {
	.invalidate = model_invalidate,
};

static struct mfin *fin_get(struct msub *m)
{
	int i;

	for (i = 0; i < NFIN_POOL; i++) {
		if (!M.fin_pool[i].busy) {
			M.fin_pool[i].busy = true;
			M.fin_pool[i].m = m;
			return &M.fin_pool[i];
		}
	}
	return NULL;
}

/* Is a finish @m's start handed back still to run? */
static bool fin_unrun(const struct msub *m)
{
	int i;

	for (i = 0; i < NFIN_POOL; i++)
		if (M.fin_pool[i].busy && M.fin_pool[i].m == m)
			return true;
	return false;
}

/*
 * mni's two-pass start: the first pass as above, then (returning true)
 * mostly a finish object of the pool, sometimes none; a refusing start
 * sometimes hands one back too, which the engine must ignore.
 */
static bool model_start(struct mmu_interval_notifier *sub,
			const struct mmu_notifier_range *range,
			unsigned long cur_seq,
			struct mni_interval_notifier_finish **finish)
{
	struct msub *m = container_of(sub, struct msub, sub);
	struct frame *f;
	struct mfin *mf;
	bool ret;

	CHECK(pthread_equal(pthread_self(), M.main),
	      "two-pass sub %d called by a helper's walk", m->idx);
	CHECK(!*finish, "start of sub %d: *finish not NULL", m->idx);
	M.tp_starts++;
	ret = model_call(m, range, cur_seq);
	/* Nested walks are over: the frame is this walk's again. */
	f = &M.frames[M.depth - 1];
	if (!ret) {
		if (chance(2)) {
			*finish = &M.bogus_fin;
			M.fin_bogus++;
		}
		return false;
	}
	mf = chance(4) ? NULL : fin_get(m);
	if (!mf) {
		M.fin_none++;
		return true;
	}
	if (f->cut == m) {
		/* Removed from its own start: the engine drops the finish. */
		tr("sub %d, removed, hands back finish %ld anyway", m->idx,
		   (long)(mf - M.fin_pool));
		mf->busy = false;
		M.fin_dropped++;
		*finish = &mf->fin;
		return true;
	}
	CHECK(f->nfin < NFINS, "walk collected too many finishes");
	f->fins[f->nfin++] = mf;
	/* The walker sets it once this returns, before it moves on. */
	M.rec[f->slot].finishing = true;
	M.fin_asks++;
	tr("sub %d hands back finish %ld", m->idx, (long)(mf - M.fin_pool));
	*finish = &mf->fin;
	return true;
}

/*
 * A finish a remove_wait() from inside a pass runs for the sub it removes
 * (the pass owes it, and would run it only after the caller returns): one
 * of a walk of the main thread in progress, not run yet; it leaves a hole
 * in that walk's order.
 */
static void model_finish_early(struct mfin *mf)
{
	int d, i;

	for (d = 0; d < M.depth; d++) {
		struct frame *f = &M.frames[d];

		for (i = f->fin_ran; i < f->nfin; i++) {
			if (f->fins[i] != mf)
				continue;
			tr("finish %ld of sub %d, early, by its remove",
			   (long)(mf - M.fin_pool), mf->m->idx);
			CHECK(mf->m->st == M_DYING,
			      "early finish of sub %d, which is not dying",
			      mf->m->idx);
			f->fins[i] = NULL;
			mf->busy = false;
			M.fin_runs++;
			M.fin_early++;
			return;
		}
	}
	FAIL("early finish of sub %d that no walk of ours owes", mf->m->idx);
}

/* Has @f run all its finishes (but the holes of early ones)? */
static bool fins_done(const struct frame *f)
{
	int i;

	for (i = f->fin_ran; i < f->nfin; i++)
		if (f->fins[i])
			return false;
	return true;
}

/* Skip the holes model_finish_early() left at the end of @f's order. */
static void fin_skip_holes(struct frame *f)
{
	while (f->fin_ran < f->nfin && !f->fins[f->fin_ran])
		f->fin_ran++;
}

/*
 * The second pass: after the walk's whole first pass (all of it, or up to
 * a refusal), in the order the starts ran, once each, before the start
 * returns, on a subscription still in the tree (remove() and put() wait).
 */
static void model_finish(struct mni_interval_notifier_finish *finish)
{
	struct mfin *mf = container_of(finish, struct mfin, fin);
	struct msub *m = mf->m;
	struct frame *f;
	struct mrec *r;
	struct msub *missed;

	CHECK(pthread_equal(pthread_self(), M.main),
	      "finish run by another thread");
	CHECK(finish != &M.bogus_fin,
	      "finish handed back by a refusing start ran");
	CHECK(shim_spin_depth() == 0, "finish runs under a spinlock");
	CHECK(M.depth > 0, "finish with no walk in progress");
	CHECK(shim_lock_map_depth(&mni_invalidate_map) == M.depth,
	      "finish runs outside the mni_invalidate_range map");
	f = &M.frames[M.depth - 1];
	r = &M.rec[f->slot];
	CHECK(mf >= M.fin_pool && mf < M.fin_pool + NFIN_POOL && mf->busy,
	      "finish of an object no start handed back, or run twice");
	if (M.early_fin == m) {
		model_finish_early(mf);
		return;
	}
	/* Finishes run early (model_finish_early()) left holes. */
	while (f->fin_ran < f->nfin && !f->fins[f->fin_ran])
		f->fin_ran++;
	tr("finish %ld of sub %d (%d of %d)", (long)(mf - M.fin_pool), m->idx,
	   f->fin_ran + 1, f->nfin);
	if (!f->finish_pass) {
		/* The first finish: the first pass must be over. */
		f->finish_pass = true;
		if (!f->refused) {
			missed = model_next(f);
			CHECK(!missed && !f->owe,
			      "finishes began with sub %d (owed %#llx) still to call",
			      missed ? missed->idx : -1, f->owe);
			/* No slot of the walk is held any more. */
			r->cursor = -1;
		}
	}
	CHECK(f->fin_ran < f->nfin && f->fins[f->fin_ran] == mf,
	      "finish of sub %d out of order (%d of %d)", m->idx,
	      f->fin_ran + 1, f->nfin);
	CHECK(finish->notifier == &m->sub, "finish->notifier is not sub %d",
	      m->idx);
	CHECK(m->st != M_OUT, "finish of sub %d, removed or released",
	      m->idx);
	CHECK(r->live, "finish after the record of range %d went", f->slot);
	if (M.rm_helper && M.rm_helper != (struct helper *)1 &&
	    M.rm_helper->m == m)
		CHECK(!helper_done(M.rm_helper),
		      "remove_wait of sub %d returned before its finish", m->idx);
	f->fin_ran++;
	mf->busy = false;
	M.fin_runs++;
	if (M.rm_helper || M.quiet)
		return;
	/* Half the time: finishes add a fifth to the callbacks. */
	if (chance(2))
		check_state();
	if (!directed && !M.no_nest && M.depth < MAX_DEPTH && chance(4)) {
		M.fin_nested++;
		nested_ops();
	}
}

static const struct mni_interval_notifier_ops model_tp_ops = {
	.invalidate_start = model_start,
	.invalidate_finish = model_finish,
};

/*
 * A put's release: exactly once, when no callback runs on the sub and
 * none can start: the walks below the one reaping stand in callbacks, no
 * finish of the sub is still to run, and no walk still collecting or
 * running finishes may have one of it. The reaping walk is the innermost:
 * its own callbacks are over, and after its last finish, so are its
 * second passes.
 */
static void model_release(struct mmu_interval_notifier *sub)
{
	struct msub *m = container_of(sub, struct msub, sub);
	const struct frame *top = M.depth ? &M.frames[M.depth - 1] : NULL;
	int d, s;

	CHECK(pthread_equal(pthread_self(), M.main), "release in a helper");
	CHECK(shim_spin_depth() == 0, "release under a spinlock");
	CHECK(m >= M.subs && m < M.subs + NSUBS, "release of a stranger");
	tr("release sub %d%s", m->idx, M.in_put_done ? " (by the put)" : "");
	CHECK(m->put && m->st == M_DYING, "release of sub %d (%s, %s)",
	      m->idx, mstate_name[m->st], m->put ? "put" : "not put");
	CHECK(RB_EMPTY_NODE(&sub->interval_tree.rb),
	      "sub %d released while in the tree", m->idx);
	if (!M.in_put_done) {
		CHECK(!fin_unrun(m), "sub %d released before its finish ran",
		      m->idx);
		for (d = 0; d + 1 < M.depth; d++)
			CHECK(M.rec[M.frames[d].slot].cursor != m->idx,
			      "sub %d released during its callback", m->idx);
		for (s = 0; s <= NRANGES; s++) {
			/*
			 * The reaping walk's own finishes are over once its
			 * first pass is and each ran, in the second passes
			 * or early (by a remove() from the pass).
			 */
			if (top && s == top->slot && fins_done(top) &&
			    (top->finish_pass || top->refused ||
			     (!model_next(top) && !top->owe)))
				continue;
			CHECK(!fin_covers(&M.rec[s], m),
			      "sub %d released while range %d may finish it",
			      m->idx, s);
		}
		M.put_releases++;
	}
	m->put = false;
	m->st = M_OUT;
}

/* The walks that hold @m: they stand on it, or may owe it a finish. */
static unsigned int holders(const struct msub *m)
{
	unsigned int mask = 0;
	int s;

	for (s = 0; s <= NRANGES; s++)
		if ((M.rec[s].live && M.rec[s].walking &&
		     M.rec[s].cursor == m->idx) || fin_covers(&M.rec[s], m))
			mask |= 1U << s;
	return mask;
}

/*
 * The walk of @slot returned: it holds no put sub any more, and each put
 * sub it was the last holder of has been released (by it, or earlier by
 * another holder that let go last).
 */
static void check_puts_released(int slot)
{
	int i;

	for (i = 0; i < NSUBS; i++) {
		struct msub *m = &M.subs[i];

		m->put_holders &= ~(1U << slot);
		CHECK(!m->put || m->put_holders,
		      "put sub %d not released after the walks that held it", i);
	}
}

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

/* ---- helper threads ------------------------------------------------ */

/* read_begin()'s sleep as the API makes it: registered with the sample. */
static int model_read_wait(struct mmu_interval_notifier *sub, long timeout,
			   bool killable, unsigned long *seq)
{
	struct mni_reader r;
	int ret = mni_itree_read_prepare(&M.it, sub, seq, &r);

	if (ret != -EAGAIN)
		return ret;
	return mni_itree_read_wait(&M.it, &r, timeout, killable, seq);
}

static void *helper_fn(void *arg)
{
	struct helper *h = arg;

	shim_fatal_signal = h->fatal;
	switch (h->kind) {
	case H_READ_WAIT:
		h->ret = model_read_wait(&h->m->sub, h->timeout, h->killable,
					 &h->seq);
		break;
	case H_REMOVE:
		h->ret = mni_itree_remove_begin(&M.it, &h->m->sub);
		__atomic_store_n(&h->ret2, 1, __ATOMIC_RELEASE);
		if (h->ret == 1)
			mni_itree_remove_wait(&M.it, &h->m->sub);
		break;
	case H_WALK:
		h->ret = mni_itree_invalidate_start(&M.it, &M.ranges[0]);
		break;
	}
	__atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool helper_done(struct helper *h)
{
	return __atomic_load_n(&h->done, __ATOMIC_ACQUIRE);
}

static void helper_start(struct helper *h)
{
	h->done = 0;
	h->ret2 = 0;
	CHECK(!pthread_create(&h->thread, NULL, helper_fn, h), "pthread_create");
}

static void helper_join(struct helper *h, const char *what)
{
	double t = now() + 5;

	while (!helper_done(h)) {
		CHECK(now() < t, "%s: helper still asleep after 5 s", what);
		usleep(50);
	}
	pthread_join(h->thread, NULL);
}

/*
 * Wait until a helper sleeps in the engine's queue, having slept @after
 * times or more in all: it did not return meanwhile.
 */
static void helper_asleep(struct helper *h, unsigned long after,
			  const char *what)
{
	double t = now() + 5;

	for (;;) {
		CHECK(!helper_done(h), "%s: helper returned %d, should sleep",
		      what, h->ret);
		if (shim_sleeps() > after && shim_swait_sleeping(&M.it.wq))
			return;
		CHECK(now() < t, "%s: helper not asleep after 5 s", what);
		usleep(50);
	}
}

/* ---- checking the engine against the model --------------------------- */

static unsigned long check_subtree(struct rb_node *rb, unsigned int *count)
{
	struct interval_tree_node *n;
	unsigned long max;

	if (!rb)
		return 0;
	n = rb_entry(rb, struct interval_tree_node, rb);
	max = n->last;
	if (rb->rb_left) {
		unsigned long l = check_subtree(rb->rb_left, count);

		CHECK(mni_node_before(rb_entry(rb->rb_left,
					       struct interval_tree_node, rb), n),
		      "tree out of order");
		max = l > max ? l : max;
	}
	(*count)++;
	if (rb->rb_right) {
		unsigned long r = check_subtree(rb->rb_right, count);

		CHECK(mni_node_before(n, rb_entry(rb->rb_right,
						  struct interval_tree_node, rb)),
		      "tree out of order");
		max = r > max ? r : max;
	}
	CHECK(n->__subtree_last == max, "augmented __subtree_last is stale");
	return max;
}

struct seen {
	int n;
	const struct mmu_interval_notifier *sub[NSUBS + 1];
	enum mni_sub_state state[NSUBS + 1];
};

static void inspect_visit(void *arg, const struct mmu_interval_notifier *sub,
			  enum mni_sub_state state)
{
	struct seen *s = arg;

	CHECK(s->n < NSUBS, "inspect() visits more than there are");
	s->sub[s->n] = sub;
	s->state[s->n++] = state;
}

static enum mni_sub_state model_state(const struct msub *m)
{
	if (m->st == M_DYING)
		return MNI_SUB_REMOVING;
	return any_overlap(m) ? MNI_SUB_INVALIDATING : MNI_SUB_IDLE;
}

static bool top_level(void)
{
	return !M.depth;
}

/* The engine's counters, read under its lock (helpers may bump them). */
static struct mni_stats engine_stats(void)
{
	struct mni_stats st = { 0 };

	mni_itree_add_stats(&M.it, &st);
	return st;
}

static void check_state(void)
{
	struct mni_itree_info info;
	struct mni_stats st;
	struct seen seen = { 0 };
	unsigned int count = 0, linked_n = 0;
	unsigned long in_flight = 0;
	struct msub *order[NSUBS];
	int i, j, s;

	raw_spin_lock_irq(&M.it.lock);
	check_subtree(M.it.root.rb_root.rb_node, &count);
	raw_spin_unlock_irq(&M.it.lock);
	mni_itree_inspect(&M.it, &info, inspect_visit, &seen);
	for (s = 0; s <= NRANGES; s++)
		in_flight += M.rec[s].live;
	CHECK(info.seq == M.seq, "seq %#lx, model %#lx", info.seq, M.seq);
	CHECK(info.in_flight == in_flight, "%lu in flight, model %lu",
	      info.in_flight, in_flight);
	CHECK(info.dead == M.dead, "dead %d, model %d", info.dead, M.dead);
	CHECK(M.it.nr_spare == M.spare, "%u spare records, model %u",
	      M.it.nr_spare, M.spare);

	for (i = 0; i < NSUBS; i++) {
		struct msub *m = &M.subs[i];

		if (!linked(m))
			continue;
		CHECK(READ_ONCE(m->sub.invalidate_seq) == m->seq,
		      "sub %d: invalidate_seq %#lx, model %#lx", i,
		      m->sub.invalidate_seq, m->seq);
		for (j = linked_n; j > 0 && before(m, order[j - 1]); j--)
			order[j] = order[j - 1];
		order[j] = m;
		linked_n++;
	}
	CHECK(count == linked_n && (unsigned int)seen.n == linked_n,
	      "tree holds %u, inspect saw %d, model %u", count, seen.n, linked_n);
	CHECK(info.subscriptions == count && !info.holds,
	      "engine counts %lu subs and %lu holds, tree holds %u",
	      info.subscriptions, info.holds, count);
	for (i = 0; i < seen.n; i++) {
		CHECK(seen.sub[i] == &order[i]->sub,
		      "inspect #%d: not the model's sub %d", i, order[i]->idx);
		CHECK(seen.state[i] == model_state(order[i]),
		      "sub %d: state %d, model %d (%s)", order[i]->idx,
		      seen.state[i], model_state(order[i]),
		      mstate_name[order[i]->st]);
	}
	for (i = 0; i < NSTRANGERS; i++)
		CHECK(!memcmp(&M.strangers[i], &M.stranger_copy[i],
			      sizeof(M.strangers[i])),
		      "stranger %d was written to", i);
	/* Callbacks are counted, and refusals logged, after they return. */
	if (!top_level())
		return;
	for (i = 0; i < NSUBS; i++)
		CHECK(!M.subs[i].put, "put sub %d not released after its walks",
		      i);
	CHECK(shim_pr_err_count() - M.pr_err_base == M.pr_errs,
	      "%lu pr_err() calls, model %lu",
	      shim_pr_err_count() - M.pr_err_base, M.pr_errs);
	st = engine_stats();
	CHECK(!memcmp(&st, &M.want, offsetof(struct mni_stats, wait_ns)),
	      "stats: invalidations %llu/%llu callbacks %llu/%llu refused %llu/%llu no_record %llu/%llu remove_waits %llu/%llu waits %llu/%llu",
	      st.invalidations, M.want.invalidations, st.callbacks,
	      M.want.callbacks, st.refused, M.want.refused,
	      st.no_record, M.want.no_record, st.remove_waits,
	      M.want.remove_waits, st.waits, M.want.waits);
	CHECK(st.wait_max_ns <= st.wait_ns, "wait_max_ns > wait_ns");
}

/* ---- operations, each checked --------------------------------------- */

static void random_range(unsigned long *start, unsigned long *last)
{
	unsigned long len = chance(4) ? 1 + rnd_below(SPACE / 2) :
					1 + rnd_below(SPACE / 16);

	*start = rnd_below(SPACE);
	*last = *start + len - 1;
}

static struct msub *msub_of_stranger(int i)
{
	return i < NSTRANGERS ? &M.strangers[i] : &M.other_subs[i - NSTRANGERS];
}

static void do_insert(struct msub *m, unsigned long start, unsigned long last)
{
	CHECK(m->st == M_OUT, "insert of a linked sub");
	m->start = start;
	m->last = last;
	m->sub.interval_tree.start = start;
	m->sub.interval_tree.last = last;
	m->two_pass = !directed && chance(3);
	m->sub.ops = m->two_pass ? &model_tp_ops.base : &model_ops;
	m->sub.mm = fake_mm;
	m->refuse = !directed && chance(12);
	tr("insert sub %d [%lu,%lu]%s%s", m->idx, start, last,
	   m->two_pass ? " two-pass" : "", m->refuse ? " refusing" : "");
	mni_itree_insert(&M.it, &m->sub);
	CHECK(m->sub.invalidate_seq == M.seq, "insert set seq %#lx, want %#lx",
	      m->sub.invalidate_seq, M.seq);
	m->st = M_IN;
	m->stamp = M.seq;
	m->seq = M.seq;
}

/* A dying or unlinked sub is called by no walk, owed or not. */
static void drop_owed(const struct msub *m)
{
	int d;

	for (d = 0; d < M.depth; d++)
		M.frames[d].owe &= ~(1ULL << m->idx);
}

/*
 * Move @m (or, @stranger, try to move a stranger): the walks in flight
 * that would otherwise miss a call they owe it owe it one (see the top).
 * A record whose finishes may include @m's (it overlaps the record's
 * finish range), or whose walk owes @m a call, widens that range to the
 * new place; a walk in its second passes owes no call, unless it refused
 * (its round stays held, so the engine queues the call and drops it).
 */
static void do_update(struct msub *m, unsigned long start, unsigned long last,
		      bool stranger)
{
	int want = !stranger && m->st == M_IN ? 0 : -ENOENT, ret, d, s;
	unsigned long long owe[MAX_DEPTH] = { 0 };
	bool widen[NRANGES + 1] = { 0 };

	for (s = 0; !want && s <= NRANGES; s++)
		widen[s] = M.rec[s].live &&
			   overlaps(m, M.rec[s].fin_start, M.rec[s].fin_last);
	for (d = 0; !want && d < M.depth; d++) {
		const struct frame *f = &M.frames[d];
		const struct mrec *r = &M.rec[f->slot];
		bool old = overlaps(m, r->start, r->last);

		if (m->stamp >= r->seq || r->cursor == m->idx ||
		    (!old && !(start <= r->last && r->start <= last)))
			continue;
		if (f->finish_pass && !f->refused)
			continue;
		widen[f->slot] = true;
		if (old && walk_passed(f, m))
			continue;
		if (!f->finish_pass)
			owe[d] = 1ULL << m->idx;
	}
	ret = mni_itree_update(&M.it, &m->sub, start, last);
	tr("update %s %d [%lu,%lu] -> [%lu,%lu] = %d, want %d",
	   stranger ? "stranger" : "sub", m->idx, m->start, m->last, start,
	   last, ret, want);
	CHECK(ret == want, "update of sub %d (%s) = %d, model %d", m->idx,
	      mstate_name[m->st], ret, want);
	if (ret) {
		M.enoent++;
		return;
	}
	M.updates++;
	for (d = 0; d < M.depth; d++)
		M.frames[d].owe |= owe[d];
	for (s = 0; s <= NRANGES; s++) {
		struct mrec *r = &M.rec[s];

		if (!widen[s])
			continue;
		r->fin_start = min(r->fin_start, start);
		r->fin_last = max(r->fin_last, last);
	}
	/* A put sub a widened range now covers waits for that walk too. */
	for (d = 0; d < NSUBS; d++)
		if (M.subs[d].put)
			M.subs[d].put_holders |= holders(&M.subs[d]);
	M.seq += 2;
	m->start = start;
	m->last = last;
	m->stamp = M.seq;
	m->seq = M.seq;
	CHECK(m->sub.interval_tree.start == start &&
	      m->sub.interval_tree.last == last, "update left the range");
}

static int do_remove(struct msub *m)
{
	int want, ret, d;

	if (m->st != M_IN)
		want = -ENOENT;
	else
		want = busy_remove(m) || own_fin_pending(m) ? 1 : 0;
	if (want == 1 && finish_pending(m))
		M.fin_waits++;
	ret = mni_itree_remove_begin(&M.it, &m->sub);
	tr("remove_begin sub %d (%s) = %d, want %d", m->idx,
	   mstate_name[m->st], ret, want);
	if (ret >= 0)
		drop_owed(m);
	CHECK(ret == want, "remove_begin of sub %d (%s) = %d, model %d",
	      m->idx, mstate_name[m->st], ret, want);
	/* From its own callback: that walk lets go of it (mni_inval_holds()). */
	for (d = 0; ret >= 0 && d < M.depth; d++) {
		if (M.rec[M.frames[d].slot].cursor != m->idx)
			continue;
		M.frames[d].cut = m;
		M.rec[M.frames[d].slot].cursor = -1;
	}
	if (ret == 0)
		m->st = M_OUT;
	if (ret == 1) {
		m->st = M_DYING;
		M.want.remove_waits++;
		M.dying++;
	}
	if (ret < 0)
		M.enoent++;
	return ret;
}

/*
 * put: -ENOENT for strangers, dying and put subs; 1 (released later by
 * the walk that lets go of it last) while busy() as for a remove; else 0,
 * and the caller releases it at once.
 */
static int do_put(struct msub *m, bool stranger)
{
	int want = !stranger && m->st == M_IN ? (busy(m) ? 1 : 0) : -ENOENT;
	int ret;

	if (want == 1 && finish_pending(m))
		M.fin_waits++;
	ret = mni_itree_put(&M.it, &m->sub, model_release);
	tr("put %s %d (%s) = %d, want %d", stranger ? "stranger" : "sub",
	   m->idx, mstate_name[m->st], ret, want);
	CHECK(ret == want, "put of sub %d (%s) = %d, model %d", m->idx,
	      mstate_name[m->st], ret, want);
	if (ret < 0) {
		M.enoent++;
		return ret;
	}
	M.puts++;
	drop_owed(m);
	m->st = M_DYING;
	m->put = true;
	if (ret == 1) {
		m->put_holders = holders(m);
		CHECK(m->put_holders, "put sub %d: busy, but no holder", m->idx);
		M.put_defers++;
		return ret;
	}
	M.in_put_done = true;
	shim_release_put(&M.it, &m->sub, model_release);
	M.in_put_done = false;
	CHECK(m->st == M_OUT, "put_done did not release sub %d", m->idx);
	return ret;
}

static void do_remove_stranger(int i)
{
	struct msub *m = msub_of_stranger(i);
	int ret = mni_itree_remove_begin(&M.it, &m->sub);

	tr("remove_begin stranger %d = %d", i, ret);
	CHECK(ret == -ENOENT, "remove_begin of a stranger = %d", ret);
}

/*
 * A dying sub no other thread's walk stands on: remove_wait() unlinks it
 * at once, after it ran the finish a walk of ours in progress still owes
 * it.
 */
static void do_remove_wait(struct msub *m)
{
	CHECK(m->st == M_DYING && !busy_remove(m), "remove_wait of a busy sub");
	tr("remove_wait sub %d", m->idx);
	shim_no_sleep = true;
	M.early_fin = m;
	mni_itree_remove_wait(&M.it, &m->sub);
	M.early_fin = NULL;
	shim_no_sleep = false;
	CHECK(!fin_unrun(m), "remove_wait of sub %d left a finish to run",
	      m->idx);
	m->st = M_OUT;
}

static int model_sample(const struct msub *m, unsigned long *seq)
{
	if (m->st == M_DYING)
		return -ESTALE;
	if (m->st != M_IN)
		return -ENOENT;
	if (M.dead) {
		*seq = (m->seq | 1) + 1;
		return 0;
	}
	if (any_overlap(m))
		return -EAGAIN;
	*seq = m->seq;
	return 0;
}

/* Nothing in flight in the mm, and the release not begun? */
static bool model_quiet(void)
{
	int s;

	if (M.nr_ov || M.dead)
		return false;
	for (s = 0; s <= NRANGES; s++)
		if (M.rec[s].live)
			return false;
	return true;
}

/*
 * read_begin()'s sample without the lock: taken exactly when the locked
 * one would give 0 and nothing is in flight, with the same sequence. Not
 * for a sub of the other engine: the kernel finds the engine by the
 * sub's mm, so a linked sub is never handed to another engine.
 */
static void check_read_unlocked(struct msub *m, int want,
				unsigned long want_seq)
{
	unsigned long seq = 0xdead;
	bool fast, other = m >= M.other_subs &&
			   m < M.other_subs + ARRAY_SIZE(M.other_subs);

	if (other)
		return;
	fast = mni_itree_read_unlocked(&M.it, &m->sub, &seq);
	CHECK(fast == (!want && model_quiet()),
	      "read_unlocked of sub %d = %d, model %d, quiet %d", m->idx,
	      fast, want, model_quiet());
	if (fast)
		CHECK(seq == want_seq, "read_unlocked seq %#lx, model %#lx",
		      seq, want_seq);
}

static int do_read_sample(struct msub *m, bool stranger)
{
	unsigned long seq = 0xdead, want_seq = 0;
	int want = stranger ? -ENOENT : model_sample(m, &want_seq);
	int ret;

	check_read_unlocked(m, want, want_seq);
	ret = mni_itree_read_sample(&M.it, &m->sub, &seq);

	tr("read_sample %s %d = %d seq %#lx, want %d seq %#lx",
	   stranger ? "stranger" : "sub", m->idx, ret, seq, want, want_seq);
	CHECK(ret == want, "read_sample of sub %d = %d, model %d", m->idx,
	      ret, want);
	if (!ret) {
		CHECK(seq == want_seq, "read_sample seq %#lx, model %#lx",
		      seq, want_seq);
		CHECK(mmu_interval_read_retry(&m->sub, seq) == M.dead,
		      "read_retry right after read_sample");
	}
	if (ret == -ENOENT || ret == -ESTALE)
		CHECK(mmu_interval_read_retry(&m->sub, seq),
		      "read_sample = %d with no collision", ret);
	if (ret == -EAGAIN)
		M.eagain++;
	return ret;
}

/* read_wait() with timeout 0: the non-blocking probe. */
static void do_read_probe(struct msub *m, bool stranger)
{
	unsigned long seq = 0xdead, want_seq = 0;
	bool killable = chance(2), fatal = chance(4);
	int want = stranger ? -ENOENT : model_sample(m, &want_seq);
	int ret;

	/* Only a read that must wait sleeps, and counts a wait. */
	if (want == -EAGAIN) {
		want = killable && fatal ? -EINTR : -ETIMEDOUT;
		M.want.waits++;
	}
	shim_no_sleep = true;
	shim_fatal_signal = fatal;
	ret = model_read_wait(&m->sub, 0, killable, &seq);
	shim_fatal_signal = false;
	shim_no_sleep = false;
	tr("read_wait(0%s%s) sub %d = %d, want %d", killable ? ", killable" : "",
	   fatal ? ", fatal signal" : "", m->idx, ret, want);
	CHECK(ret == want, "read_wait(0) of sub %d = %d, model %d", m->idx,
	      ret, want);
	if (!ret)
		CHECK(seq == want_seq, "read_wait seq %#lx, model %#lx", seq,
		      want_seq);
}

enum { GET_NONE, GET_RECORD, GET_OVERFLOW };

/*
 * What the engine records a start with, given @kfail injected allocation
 * failures (a blockable start tries GFP_NOWAIT, then GFP_ATOMIC, once):
 * a spare (blockable ones leave the reserve), an allocated record, an
 * overflow slot, or none. @take: also take it. A blockable start with
 * none would sleep until an end: callers avoid that.
 */
static int model_get(bool blockable, unsigned int kfail, bool take)
{
	if (M.spare > (blockable ? MNI_SPARE_RESERVE : 0)) {
		M.spare -= take;
		return GET_RECORD;
	}
	if (blockable && kfail < 2)
		return GET_RECORD;
	if (M.nr_ov < MNI_OVERFLOW_SLOTS) {
		M.nr_ov += take;
		return GET_OVERFLOW;
	}
	return GET_NONE;
}

static int free_slot(void)
{
	int s, n = 0, pick = -1;

	for (s = 0; s < NRANGES; s++)
		if (!M.rec[s].live && !rnd_below(++n))
			pick = s;
	return pick;
}

static int do_start(int slot, unsigned long start, unsigned long last,
		    bool blockable, unsigned int kfail)
{
	struct mmu_notifier_range *range = &M.ranges[slot];
	struct mrec *r = &M.rec[slot];
	struct frame *f;
	int want = 0, ret, got;

	CHECK(!r->live, "start on a range in flight");
	*range = (struct mmu_notifier_range){
		.mm = fake_mm, .start = start, .end = last + 1,
		.flags = blockable ? MMU_NOTIFIER_RANGE_BLOCKABLE : 0,
		.event = MMU_NOTIFY_UNMAP,
	};
	if (M.released) {
		/* After the release pass: no callback, no record. */
		tr("start range %d after release: calls no one", slot);
		shim_no_sleep = true;
		ret = mni_itree_invalidate_start(&M.it, range);
		shim_no_sleep = false;
		CHECK(!ret, "start after the release pass = %d", ret);
		return ret;
	}
	M.want.invalidations++;
	got = model_get(blockable, kfail, true);
	tr("start range %d [%lu,%lu] %s%s kfail %u", slot, start, last,
	   blockable ? "blockable" : "non-blockable",
	   got == GET_RECORD ? "" : got == GET_OVERFLOW ? " (overflow)" :
	   " (no record)", kfail);
	CHECK(got != GET_NONE || !blockable, "a blockable start would sleep");
	if (got == GET_NONE) {
		M.want.no_record++;
		M.no_record++;
		shim_no_sleep = true;
		shim_kmalloc_fail = kfail;
		ret = mni_itree_invalidate_start(&M.it, range);
		shim_kmalloc_fail = 0;
		shim_no_sleep = false;
		CHECK(ret == -EAGAIN, "start without a spare record = %d", ret);
		return ret;
	}
	M.seq += 2;
	*r = (struct mrec){
		.live = true, .walking = true, .blockable = blockable,
		.overflow = got == GET_OVERFLOW,
		.start = start, .last = last, .seq = M.seq, .cursor = -1,
		.fin_start = start, .fin_last = last,
	};
	CHECK(M.depth < MAX_DEPTH, "walks nested too deep");
	f = &M.frames[M.depth++];
	*f = (struct frame){ .slot = slot };
	shim_kmalloc_fail = kfail;
	/* The passes around this one, which lockdep would report. */
	shim_map_nest = M.depth - 1;
	ret = mni_itree_invalidate_start(&M.it, range);
	shim_map_nest = M.depth > 1 ? M.depth - 2 : 0;
	/* A start allocates at most twice, and only without a spare. */
	shim_kmalloc_fail = 0;
	M.depth--;
	r->walking = false;
	r->cursor = -1;
	fin_skip_holes(f);
	CHECK(f->fin_ran == f->nfin, "start of range %d returned with %d of %d finishes run",
	      slot, f->fin_ran, f->nfin);
	r->finishing = false;
	if (f->refused) {
		want = -EAGAIN;
		r->live = false;
		if (r->overflow)
			M.nr_ov--;
		else
			model_put(blockable);
		M.want.refused++;
		M.eagain++;
	} else {
		struct msub *missed = model_next(f);

		CHECK(!missed, "walk of range %d ended before sub %d", slot,
		      missed ? missed->idx : -1);
		CHECK(!f->owe, "walk of range %d ended owing subs %#llx", slot,
		      f->owe);
	}
	tr("start range %d = %d, want %d", slot, ret, want);
	CHECK(ret == want, "invalidate_start = %d, model %d", ret, want);
	check_puts_released(slot);
	if (M.rm_helper && M.rm_helper != (struct helper *)1 && top_level()) {
		struct helper *h = M.rm_helper;

		helper_join(h, "remove_wait during its callback");
		CHECK(h->ret == 1, "remove_begin during a callback = %d", h->ret);
		h->m->st = M_OUT;
		free(h);
		M.rm_helper = NULL;
	}
	return ret;
}

static void do_end(int slot)
{
	struct mrec *r = &M.rec[slot];

	CHECK(!r->walking, "end of a walking record");
	tr("end range %d%s", slot, r->live ? "" : " (no record: ignored)");
	if (r->live) {
		r->live = false;
		if (r->overflow)
			M.nr_ov--;
		else
			model_put(r->blockable);
	} else {
		M.ignored_ends++;
		/* The core could pass anything: the pointer is the key. */
		M.ranges[slot].flags = chance(2) ? MMU_NOTIFIER_RANGE_BLOCKABLE : 0;
	}
	mni_itree_invalidate_end(&M.it, &M.ranges[slot]);
}

static void do_release(void)
{
	struct mrec *r = &M.rec[RELEASE_SLOT];
	struct frame *f;

	tr("release");
	M.dead = true;
	M.want.invalidations++;
	CHECK(model_get(true, 0, true) == GET_RECORD, "release: no record");
	M.seq += 2;
	*r = (struct mrec){
		.live = true, .walking = true, .blockable = true,
		.start = 0, .last = ULONG_MAX - 1, .seq = M.seq, .cursor = -1,
		.fin_start = 0, .fin_last = ULONG_MAX - 1,
	};
	f = &M.frames[M.depth++];
	*f = (struct frame){ .slot = RELEASE_SLOT };
	M.no_nest = true;
	shim_map_nest = M.depth - 1;
	mni_itree_release(&M.it, fake_mm);
	shim_map_nest = M.depth > 1 ? M.depth - 2 : 0;
	M.no_nest = false;
	M.depth--;
	CHECK(!model_next(f), "release pass missed a sub");
	fin_skip_holes(f);
	CHECK(f->fin_ran == f->nfin, "release pass ran %d of %d finishes",
	      f->fin_ran, f->nfin);
	r->live = false;
	r->walking = false;
	r->finishing = false;
	model_put(true);
	M.released = true;
	M.releases++;
	check_puts_released(RELEASE_SLOT);
}

/* ---- random choices ------------------------------------------------ */

static struct msub *pick(bool (*ok)(const struct msub *))
{
	struct msub *found = NULL;
	int i, n = 0;

	for (i = 0; i < NSUBS; i++)
		if (ok(&M.subs[i]) && !rnd_below(++n))
			found = &M.subs[i];
	return found;
}

static bool is_out(const struct msub *m) { return m->st == M_OUT; }
static bool is_any(const struct msub *m) { (void)m; return true; }
static bool is_dying_idle(const struct msub *m)
{
	return m->st == M_DYING && !m->put && !busy_remove(m);
}

static bool is_waitable(const struct msub *m)
{
	return m->st == M_IN && !M.dead && any_overlap(m);
}

static int live_slot(bool walking_ok)
{
	int s, n = 0, pick = -1;

	for (s = 0; s < NRANGES; s++)
		if (M.rec[s].live && (walking_ok || !M.rec[s].walking) &&
		    !rnd_below(++n))
			pick = s;
	return pick;
}

static void random_start(void)
{
	int slot = free_slot();
	unsigned long start, last;
	bool blockable = chance(3) ? false : true;
	unsigned int kfail = 0;

	if (slot < 0)
		return;
	random_range(&start, &last);
	/* Failures the start meets (see model_get()); never a sleep. */
	if (blockable && top_level() && M.spare <= MNI_SPARE_RESERVE && chance(3))
		kfail = 1 + rnd_below(2);
	if (model_get(blockable, kfail, false) == GET_NONE && blockable)
		kfail = 0;
	if (kfail)
		M.kfails++;
	do_start(slot, start, last, blockable, kfail);
}

static void random_end(void)
{
	int slot = chance(4) ? (int)rnd_below(NRANGES) : live_slot(false);

	if (slot >= 0 && !M.rec[slot].walking)
		do_end(slot);
}

static void random_read(bool probe)
{
	if (chance(16)) {
		int i = rnd_below(NSTRANGERS + 2);

		probe ? do_read_probe(msub_of_stranger(i), true) :
			(void)do_read_sample(msub_of_stranger(i), true);
		return;
	}
	probe ? do_read_probe(pick(is_any), false) :
		(void)do_read_sample(pick(is_any), false);
}

static void random_insert(void)
{
	struct msub *m = pick(is_out);
	unsigned long start, last;

	if (!m)
		return;
	random_range(&start, &last);
	do_insert(m, start, last);
}

static void random_remove(void)
{
	if (chance(16))
		do_remove_stranger(rnd_below(NSTRANGERS + 2));
	else
		do_remove(pick(is_any));
}

static void random_put(void)
{
	if (chance(16))
		do_put(msub_of_stranger(rnd_below(NSTRANGERS + 2)), true);
	else
		do_put(pick(is_any), false);
}

static void random_update(void)
{
	unsigned long start, last;

	random_range(&start, &last);
	if (chance(16))
		do_update(msub_of_stranger(rnd_below(NSTRANGERS + 2)), start,
			  last, true);
	else
		do_update(pick(is_any), start, last, false);
}

/* From inside a callback: the walk is mid-flight. */
static void nested_ops(void)
{
	int n = 1 + rnd_below(2);

	while (n--) {
		unsigned int r = rnd_below(100);
		int slot;

		M.nested++;
		tr("nested op %u", r);
		if (r < 15) {
			random_insert();
		} else if (r < 28) {
			/* Often the sub being called: dying, not unlinked. */
			struct frame *f = &M.frames[M.depth - 1];
			struct msub *m = chance(2) && f->prev ? f->prev :
							       pick(is_any);

			/*
			 * Half the time the wait at once, as remove() does,
			 * when no other thread's walk holds it.
			 */
			if (do_remove(m) == 1 && chance(2) && !busy_remove(m))
				do_remove_wait(m);
		} else if (r < 36) {
			/* Often the sub being called: released after it. */
			struct frame *f = &M.frames[M.depth - 1];

			if (chance(2) && f->prev)
				do_put(f->prev, false);
			else
				random_put();
		} else if (r < 47) {
			/* Often the sub being called, or one the walk owes. */
			int cur = M.rec[M.frames[M.depth - 1].slot].cursor;
			unsigned long start, last;

			random_range(&start, &last);
			if (cur >= 0 && chance(3))
				do_update(&M.subs[cur], start, last, false);
			else
				random_update();
		} else if (r < 57) {
			random_read(false);
		} else if (r < 61) {
			random_read(true);
		} else if (r < 85) {
			slot = free_slot();
			if (slot >= 0) {
				unsigned long start, last;

				random_range(&start, &last);
				do_start(slot, start, last, chance(2), 0);
				if (M.rec[slot].live && chance(2))
					do_end(slot);
			}
		} else {
			random_end();
		}
		check_state();
	}
}

/* A helper sleeps in read_wait() until the last overlapping end. */
static void scenario_read_wait(struct msub *m)
{
	struct helper h = { .kind = H_READ_WAIT, .m = m,
			    .timeout = MAX_SCHEDULE_TIMEOUT,
			    .killable = chance(2) };
	int order[NRANGES], n = 0, s, i;
	unsigned long want_seq = m->seq, sleeps = shim_sleeps();

	tr("read_wait sub %d in a helper", m->idx);
	helper_start(&h);
	helper_asleep(&h, sleeps, "read_wait");
	for (s = 0; s < NRANGES; s++)
		if (M.rec[s].live)
			order[n++] = s;
	/* Random order: non-overlapping ones, and later ones, may go first. */
	for (i = n - 1; i > 0; i--) {
		int j = rnd_below(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++) {
		unsigned long sleeps = shim_sleeps();
		bool last;

		do_end(order[i]);
		last = !any_overlap(m);
		if (last)
			break;
		/* Woken (if queued), it must look and sleep again. */
		helper_asleep(&h, sleeps, "read_wait while an overlapping invalidation is in flight");
	}
	helper_join(&h, "read_wait after the last overlapping end");
	M.want.waits++;
	M.real_waits++;
	CHECK(h.ret == 0 && h.seq == want_seq,
	      "read_wait = %d seq %#lx, want 0 seq %#lx", h.ret, h.seq, want_seq);
	/* The ends not needed stay in flight. */
}

/* A helper's read_wait() with a short timeout, or a fatal signal. */
static void scenario_read_timeout(struct msub *m)
{
	struct helper h = { .kind = H_READ_WAIT, .m = m, .timeout = 2,
			    .killable = true, .fatal = chance(2) };

	tr("read_wait(2 jiffies%s) sub %d in a helper",
	   h.fatal ? ", fatal signal" : "", m->idx);
	helper_start(&h);
	helper_join(&h, "read_wait with a timeout");
	M.want.waits++;
	CHECK(h.ret == (h.fatal ? -EINTR : -ETIMEDOUT),
	      "read_wait(2 jiffies) = %d", h.ret);
}

static void random_step(void)
{
	unsigned int r = rnd_below(1000);
	struct msub *m;

	M.ops++;
	if (r < 150) {
		random_insert();
	} else if (r < 215) {
		random_remove();
	} else if (r < 240) {
		random_put();
	} else if (r < 270) {
		random_update();
	} else if (r < 320) {
		m = pick(is_dying_idle);
		if (m)
			do_remove_wait(m);
	} else if (r < 460) {
		random_read(false);
	} else if (r < 510) {
		random_read(true);
	} else if (r < 720) {
		random_start();
	} else if (r < 990) {
		random_end();
	} else if (r < 992) {
		/* Dead is for good: only late in a round; the core sends one. */
		if (late && !M.released)
			do_release();
	} else if (r < 996) {
		m = pick(is_waitable);
		if (m)
			scenario_read_wait(m);
	} else if (r < 997) {
		m = pick(is_waitable);
		if (m)
			scenario_read_timeout(m);
	} else {
		/* A walk whose callback a helper's remove() waits for. */
		random_start();
	}
}

/* ---- rounds ---------------------------------------------------------- */

static void fail_hook(void)
{
	dump_trace();
}

static void init_engine(void)
{
	int i;

	memset(&M, 0, sizeof(M));
	M.main = pthread_self();
	M.pr_err_base = shim_pr_err_count();
	CHECK(!mni_itree_init(&M.it, 1), "mni_itree_init failed");
	M.seq = MNI_SEQ_FIRST;
	M.spare = MNI_SPARE_MIN;
	for (i = 0; i < NSUBS; i++)
		M.subs[i].idx = i;
	for (i = 0; i <= NRANGES; i++)
		M.rec[i].cursor = -1;
	for (i = 0; i < NSTRANGERS; i++) {
		/* Never inserted: what a driver might pass by mistake. */
		M.strangers[i].idx = 100 + i;
		M.strangers[i].sub.interval_tree.start = rnd_below(SPACE);
		M.strangers[i].sub.interval_tree.last =
			M.strangers[i].sub.interval_tree.start + 7;
		M.strangers[i].sub.ops = &model_ops;
		/*
		 * What an owner may leave in a deferred_item no engine wrote:
		 * zeroes, slab poison, a small odd integer.
		 */
		M.strangers[i].sub.deferred_item.next =
			(struct hlist_node *)(i == 1 ? 0x6b6b6b6b6b6b6b6bUL :
					      i == 2 ? 3UL : 0UL);
		M.stranger_copy[i] = M.strangers[i];
	}
	CHECK(!mni_itree_init(&M.other, 2), "init other");
	for (i = 0; i < 2; i++) {
		M.other_subs[i].idx = 200 + i;
		M.other_subs[i].sub.interval_tree.start = 16 * i;
		M.other_subs[i].sub.interval_tree.last = 16 * i + 100;
		M.other_subs[i].sub.ops = &other_ops;
		mni_itree_insert(&M.other, &M.other_subs[i].sub);
	}
	tap_fail_hook = fail_hook;
}

static void drain(void)
{
	int s, i;

	for (s = 0; s < NRANGES; s++)
		if (M.rec[s].live)
			do_end(s);
	check_state();
	for (i = 0; i < NSUBS; i++) {
		if (M.subs[i].st == M_DYING)
			do_remove_wait(&M.subs[i]);
		else if (M.subs[i].st == M_IN)
			CHECK(do_remove(&M.subs[i]) == 0, "drain: remove");
	}
	check_state();
	CHECK(RB_EMPTY_ROOT(&M.it.root.rb_root) && !M.it.nr_inflight,
	      "engine not empty after the drain");
	mni_itree_destroy(&M.it);
	for (i = 0; i < 2; i++)
		CHECK(mni_itree_remove_begin(&M.other, &M.other_subs[i].sub) == 0,
		      "other engine: remove");
	mni_itree_destroy(&M.other);
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

static unsigned long long base_seed;

static void test_random(void)
{
	unsigned long rounds = env_ul("MNI_ROUNDS", 10);
	unsigned long ops = env_ul("MNI_MODEL_OPS", 20000);
	unsigned long tot_ops = 0, tot_calls = 0, tot_nested = 0;
	unsigned long tot_eagain = 0, tot_norec = 0, tot_dying = 0;
	unsigned long tot_waits = 0, tot_ignored = 0, tot_kfails = 0;
	unsigned long tot_rm_sleeps = 0, tot_updates = 0, tot_owed = 0;
	unsigned long tot_tp = 0, tot_asks = 0, tot_none = 0, tot_bogus = 0;
	unsigned long tot_fins = 0, tot_fin_nested = 0, tot_fin_waits = 0;
	unsigned long tot_puts = 0, tot_defers = 0, tot_put_rel = 0;
	unsigned long tot_early = 0, tot_dropped = 0;
	unsigned long r, i;

	directed = false;
	for (r = 0; r < rounds; r++) {
		round_no = r;
		seed = base_seed + r;
		rng = seed;
		init_engine();
		step_no = 0;
		trace_n = 0;
		for (i = 0; i < ops; i++) {
			step_no++;
			late = i >= ops - ops / 10;
			/* Some walks get a helper removing their callback's sub. */
			if (chance(400) && !M.rm_helper)
				M.rm_helper = (struct helper *)1;
			random_step();
			if (M.rm_helper == (struct helper *)1)
				M.rm_helper = NULL;
			check_state();
		}
		tot_ops += M.ops;
		tot_calls += M.calls;
		tot_nested += M.nested;
		tot_eagain += M.eagain;
		tot_norec += M.no_record;
		tot_dying += M.dying;
		tot_waits += M.real_waits;
		tot_ignored += M.ignored_ends;
		tot_kfails += M.kfails;
		tot_rm_sleeps += M.remove_sleeps;
		tot_updates += M.updates;
		tot_owed += M.owed_calls;
		tot_tp += M.tp_starts;
		tot_asks += M.fin_asks;
		tot_none += M.fin_none;
		tot_bogus += M.fin_bogus;
		tot_fins += M.fin_runs;
		tot_fin_nested += M.fin_nested;
		tot_fin_waits += M.fin_waits;
		tot_early += M.fin_early;
		tot_dropped += M.fin_dropped;
		tot_puts += M.puts;
		tot_defers += M.put_defers;
		tot_put_rel += M.put_releases;
		CHECK(M.put_defers == M.put_releases,
		      "%lu deferred puts, %lu released", M.put_defers,
		      M.put_releases);
		drain();
	}
	tap_diag("%lu rounds: %lu ops, %lu callbacks, %lu nested ops, %lu -EAGAIN reads/starts, %lu no-record starts",
		  rounds, tot_ops, tot_calls, tot_nested, tot_eagain, tot_norec);
	tap_diag("%lu dying removes (%lu slept in a helper), %lu real read_wait sleeps, %lu ignored ends, %lu allocation-failure starts",
		  tot_dying, tot_rm_sleeps, tot_waits, tot_ignored, tot_kfails);
	tap_diag("%lu updates, %lu calls an update made a walk owe",
		  tot_updates, tot_owed);
	tap_diag("%lu two-pass starts: %lu finishes handed back and run %lu, %lu none, %lu ignored (refused); %lu nested ops from finishes",
		  tot_tp, tot_asks, tot_fins, tot_none, tot_bogus,
		  tot_fin_nested);
	tap_diag("%lu puts, %lu deferred, %lu released later; %lu removes and puts held up by a pending finish",
		  tot_puts, tot_defers, tot_put_rel, tot_fin_waits);
	tap_diag("removes from inside a pass: %lu finishes of the pass run by them, %lu dropped (own start)",
		  tot_early, tot_dropped);
	CHECK(tot_calls && tot_nested && tot_eagain && tot_dying && tot_ignored &&
	      tot_updates && tot_owed && tot_asks && tot_none && tot_bogus &&
	      tot_fin_nested && tot_fin_waits && tot_defers && tot_early &&
	      tot_dropped,
	      "the random run missed a whole class of states");
}

/* ---- directed scenarios -------------------------------------------- */

static void directed_init(void)
{
	rng = 42;
	init_engine();
	directed = true;
}

static struct msub *S(int i)
{
	return &M.subs[i];
}

#define STEP(op) do { step_no++; op; check_state(); } while (0)

static void test_insert_during_inval(void)
{
	directed_init();
	STEP(do_insert(S(0), 0, 99));
	STEP(do_start(0, 0, 199, true, 0));
	/* Inserted while range 0 is in flight: it must not be called ... */
	STEP(do_insert(S(1), 50, 60));
	CHECK(do_read_sample(S(1), false) == -EAGAIN,
	      "read_begin of a sub inserted during an overlapping invalidation does not wait");
	/* ... and a later invalidation must call it. */
	STEP(do_start(1, 55, 55, true, 0));
	STEP(do_end(1));
	CHECK(do_read_sample(S(1), false) == -EAGAIN, "waits for range 0 still");
	STEP(do_end(0));
	CHECK(do_read_sample(S(1), false) == 0, "no overlap: 0");
	drain();
}

static void test_two_invals_later_ends_first(void)
{
	unsigned long seq;

	directed_init();
	STEP(do_insert(S(0), 100, 199));
	CHECK(do_read_sample(S(0), false) == 0, "idle sample");
	seq = S(0)->seq;
	STEP(do_start(0, 0, 150, true, 0));
	STEP(do_start(1, 120, 300, true, 0));
	CHECK(S(0)->seq != seq && (S(0)->seq & 1), "two odd seqs");
	STEP(do_end(1));
	CHECK(do_read_sample(S(0), false) == -EAGAIN,
	      "read_begin returned with the earlier invalidation in flight");
	CHECK(mmu_interval_read_retry(&S(0)->sub, seq), "no collision seen");
	STEP(do_end(0));
	CHECK(do_read_sample(S(0), false) == 0, "both ended");
	/* And the other way round. */
	STEP(do_start(2, 0, 150, true, 0));
	STEP(do_start(3, 120, 300, true, 0));
	STEP(do_end(2));
	CHECK(do_read_sample(S(0), false) == -EAGAIN,
	      "read_begin returned with the later invalidation in flight");
	STEP(do_end(3));
	drain();
}

static void test_other_ranges_do_not_block(void)
{
	directed_init();
	STEP(do_insert(S(0), 0, 99));
	STEP(do_insert(S(1), 500, 599));
	STEP(do_start(0, 0, 50, true, 0));
	STEP(do_start(1, 600, 700, false, 0));
	STEP(do_start(2, 200, 300, true, 0));
	CHECK(do_read_sample(S(1), false) == 0,
	      "read_begin waits for an invalidation of another range");
	CHECK(do_read_sample(S(0), false) == -EAGAIN, "S0 overlapped");
	/* remove is not held up by other subs' invalidations either */
	STEP(CHECK(do_remove(S(0)) == 0, "remove waited for an invalidation"));
	STEP(do_end(0));
	STEP(do_end(2));
	STEP(do_end(1));
	drain();
}

static void test_ends_without_record(void)
{
	directed_init();
	STEP(do_insert(S(0), 0, 99));
	STEP(do_start(0, 0, 99, true, 0));
	/* ends of ranges never started, twice, and of another pointer */
	STEP(do_end(1));
	STEP(do_end(2));
	CHECK(do_read_sample(S(0), false) == -EAGAIN,
	      "an end without a record ended another invalidation");
	STEP(do_end(0));
	STEP(do_end(0));
	/* a refused start: the record is gone, its end is ignored */
	S(0)->refuse = true;
	STEP(do_start(3, 0, 10, false, 0));
	STEP(do_start(4, 0, 10, true, 0));
	STEP(do_end(3));
	CHECK(do_read_sample(S(0), false) == -EAGAIN, "range 4 still in flight");
	STEP(do_end(4));
	drain();
}

static void test_refusal(void)
{
	directed_init();
	STEP(do_insert(S(0), 0, 9));
	STEP(do_insert(S(1), 10, 19));
	STEP(do_insert(S(2), 20, 29));
	S(1)->refuse = true;
	STEP(CHECK(do_start(0, 0, 29, false, 0) == -EAGAIN, "refused"));
	CHECK(S(2)->seq == S(2)->stamp, "walk went on past a refusal");
	CHECK(do_read_sample(S(0), false) == 0,
	      "the refused invalidation's record stayed in flight");
	STEP(do_end(0));
	/* Blockable: logged and ignored, the walk goes on. */
	STEP(CHECK(do_start(1, 0, 29, true, 0) == 0, "blockable refusal"));
	CHECK(S(2)->seq == M.seq, "blockable walk stopped at a refusal");
	STEP(do_end(1));
	drain();
}

static void test_no_spare(void)
{
	unsigned long calls;
	int i;

	directed_init();
	STEP(do_insert(S(0), 0, 99));
	STEP(do_start(0, 0, 9, false, 0));
	STEP(do_start(1, 20, 29, false, 0));
	CHECK(!M.spare, "spares left");
	/* No record: a slot stands for each start, every sub collides. */
	for (i = 0; i < MNI_OVERFLOW_SLOTS; i++)
		STEP(do_start(2 + i, 40, 49, false, 0));
	CHECK(M.nr_ov == MNI_OVERFLOW_SLOTS, "overflow slots not all used");
	calls = engine_stats().callbacks;
	STEP(CHECK(do_start(2 + i, 0, 99, false, 0) == -EAGAIN,
		   "no record and no slot: -EAGAIN"));
	CHECK(engine_stats().callbacks == calls && engine_stats().no_record == 1,
	      "no-record start called a callback or was not counted");
	STEP(do_end(2 + i));
	STEP(do_end(2));
	/* Blockable, GFP_NOWAIT and GFP_ATOMIC fail: a slot, no retry. */
	STEP(do_start(2, 0, 99, true, 2));
	CHECK(shim_kmalloc_failed() >= 2, "no allocation failed");
	STEP(do_end(0));
	STEP(do_end(1));
	/* A spare above the reserve again. */
	STEP(do_start(0, 30, 39, true, 2));
	CHECK(M.spare == MNI_SPARE_RESERVE, "the reserve was taken");
	/* GFP_ATOMIC succeeds. */
	STEP(do_start(2 + i, 60, 69, true, 1));
	for (i = 0; i <= MNI_OVERFLOW_SLOTS + 2; i++)
		if (M.rec[i].live)
			STEP(do_end(i));
	drain();
}

static void test_init_nomem(void)
{
	struct mni_itree it;
	unsigned int fail;

	/* Failing the first, then a later one: what was allocated is freed (LSan). */
	for (fail = 0; fail < MNI_SPARE_MIN; fail++) {
		shim_kmalloc_skip = fail;
		shim_kmalloc_fail = 1;
		CHECK(mni_itree_init(&it, 9) == -ENOMEM,
		      "init with allocation %u failing did not fail", fail);
		CHECK(!shim_kmalloc_fail, "init did not allocate");
		shim_kmalloc_skip = 0;
		shim_kmalloc_fail = 0;
	}
	CHECK(!mni_itree_init(&it, 9), "init");
	mni_itree_destroy(&it);
}

static void test_release(void)
{
	unsigned long seq, calls;

	directed_init();
	STEP(do_insert(S(0), 0, 99));
	STEP(do_insert(S(1), 200, 299));
	CHECK(do_read_sample(S(0), false) == 0, "sample");
	seq = S(0)->seq;
	STEP(do_start(0, 0, 50, true, 0));
	/* Release while range 0 is in flight; its end may never come. */
	calls = M.want.callbacks;
	STEP(do_release());
	CHECK(M.want.callbacks == calls + 2, "release did not call every sub");
	CHECK(mmu_interval_read_retry(&S(0)->sub, seq), "release: no collision");
	/* Dead: a collision at once, even with an overlapping record. */
	CHECK(do_read_sample(S(0), false) == 0, "read_sample after release");
	CHECK(do_read_sample(S(1), false) == 0, "read_sample after release");
	STEP(do_read_probe(S(0), false));
	STEP(do_insert(S(2), 0, 10));
	CHECK(do_read_sample(S(2), false) == 0, "insert after release");
	drain();
}

/*
 * remove() of the sub whose callback runs: 1, and the helper's
 * remove_wait() sleeps until that callback returns, not for the other
 * invalidation of the sub still in flight.
 */
static void test_remove_waits_for_callback(void)
{
	directed_init();
	STEP(do_insert(S(0), 0, 99));
	STEP(do_insert(S(1), 50, 150));
	STEP(do_start(0, 0, 99, true, 0));
	M.rm_helper = (struct helper *)1;
	STEP(do_start(1, 0, 99, true, 0));
	CHECK(S(0)->st == M_OUT && !M.rm_helper, "no helper ran");
	CHECK(M.rec[0].live, "range 0 still in flight");
	STEP(do_end(0));
	drain();
}

/* Called from the callback when M.rm_helper is (struct helper *)1. */
static void remove_in_helper(struct msub *m)
{
	struct helper *h = calloc(1, sizeof(*h));
	unsigned long sleeps = shim_sleeps();
	double t = now() + 5;

	CHECK(h, "calloc");
	h->kind = H_REMOVE;
	h->m = m;
	tr("remove sub %d in a helper during its callback", m->idx);
	helper_start(h);
	while (!__atomic_load_n(&h->ret2, __ATOMIC_ACQUIRE)) {
		CHECK(now() < t, "remove_begin did not return");
		usleep(50);
	}
	CHECK(h->ret == 1, "remove_begin during the callback = %d", h->ret);
	if (h->ret == 1)
		helper_asleep(h, sleeps, "remove_wait while its callback runs");
	m->st = M_DYING;
	M.want.remove_waits++;
	M.remove_sleeps++;
	M.rm_helper = h;
}

static void test_read_wait_sleeps(void)
{
	directed_init();
	STEP(do_insert(S(0), 100, 199));
	STEP(do_start(0, 0, 120, true, 0));
	STEP(do_start(1, 150, 300, false, 0));
	STEP(do_start(2, 500, 600, true, 0));
	STEP(scenario_read_wait(S(0)));
	STEP(do_start(3, 100, 100, true, 0));
	STEP(scenario_read_timeout(S(0)));
	STEP(do_end(3));
	drain();
}

/*
 * A helper thread walks range 0 over @nsubs subs and stops in the callback
 * of sub 1: while it stands there, the main thread sees the walk
 * mid-flight. Its first round holds subs 0 .. MNI_WALK_BATCH - 1 (sub 0 is
 * done, 1 runs). A remove of sub 3 sleeps until that round is over: with
 * one round the walk wakes it after its last callback, with two between
 * the rounds; range 0 never ends meanwhile.
 */
static void concurrent_walk(int nsubs)
{
	const unsigned long last = 10UL * nsubs - 1;
	const int held = nsubs < MNI_WALK_BATCH ? nsubs : MNI_WALK_BATCH;
	struct helper h = { .kind = H_WALK };
	struct helper rm = { .kind = H_REMOVE };
	unsigned long seq, sleeps;
	double t = now() + 5;
	int i, n;

	directed_init();
	CHECK(nsubs > 3 && nsubs < NSUBS, "concurrent_walk(%d)", nsubs);
	for (i = 0; i < nsubs; i++)
		STEP(do_insert(S(i), 10 * i, 10 * i + 9));
	memset(&W, 0, sizeof(W));
	W.stop_at = S(1);
	M.ranges[0] = (struct mmu_notifier_range){
		.mm = fake_mm, .start = 0, .end = last + 1,
		.flags = MMU_NOTIFIER_RANGE_BLOCKABLE,
	};
	helper_start(&h);
	while (!__atomic_load_n(&W.arrived, __ATOMIC_ACQUIRE)) {
		CHECK(now() < t, "helper walk did not reach sub 1");
		usleep(50);
	}
	M.seq += 2;
	seq = M.seq;
	M.rec[0] = (struct mrec){ .live = true, .walking = true,
				  .blockable = true, .start = 0,
				  .last = last, .seq = seq, .cursor = 1,
				  .held = ((1ULL << held) - 1) & ~1ULL };
	M.want.invalidations++;
	/* Counted as each callback returns: sub 0's has, sub 1's has not. */
	M.want.callbacks++;
	M.spare--;
	S(0)->seq = seq;
	S(1)->seq = seq;
	M.quiet = true;
	check_state();
	CHECK(do_read_sample(S(3), false) == -EAGAIN, "mid-walk: not waiting");
	/* The walk stands on sub 1: dying. */
	CHECK(do_remove(S(1)) == 1, "remove of the sub being called");
	/* Sub 3 is in its round, not reached: dying, skipped, waited for. */
	sleeps = shim_sleeps();
	rm.m = S(3);
	helper_start(&rm);
	helper_asleep(&rm, sleeps, "remove of a sub in another walk's round");
	CHECK(rm.ret == 1, "remove_begin of a held sub = %d", rm.ret);
	S(3)->st = M_DYING;
	M.want.remove_waits++;
	/* Past the round: gone at once, never called. */
	if (nsubs > MNI_WALK_BATCH)
		CHECK(do_remove(S(nsubs - 1)) == 0,
		      "remove of a sub beyond the walk's round");
	/* Inserted behind the walk's back, ahead of it: not called. */
	do_insert(S(nsubs), last - 15, last - 14);
	check_state();
	__atomic_store_n(&W.go, 1, __ATOMIC_RELEASE);
	helper_join(&h, "helper walk");
	/* Woken by the walk itself: range 0 has not ended. */
	helper_join(&rm, "remove of a sub in another walk's round");
	S(3)->st = M_OUT;
	M.want.callbacks += W.nlog - 1;
	M.rec[0].walking = false;
	M.rec[0].cursor = -1;
	M.rec[0].held = 0;
	M.quiet = false;
	CHECK(h.ret == 0, "helper walk = %d", h.ret);
	for (i = 0, n = 0; i < nsubs; i++) {
		if (i == 3 || (i == nsubs - 1 && nsubs > MNI_WALK_BATCH))
			continue;
		S(i)->seq = seq;
		CHECK(n < W.nlog && W.log[n] == S(i),
		      "helper walk's call %d is not sub %d", n, i);
		n++;
	}
	CHECK(W.nlog == n, "helper walk made %d calls, not %d", W.nlog, n);
	for (i = 0; i < W.nlog; i++)
		CHECK(W.log_seq[i] == seq, "helper walk cur_seq");
	STEP(do_remove_wait(S(1)));
	STEP(do_end(0));
	drain();
}

static void test_concurrent_walk(void)
{
	concurrent_walk(5);
}

static void test_concurrent_walk_rounds(void)
{
	concurrent_walk(MNI_WALK_BATCH + 2);
}

/*
 * A second pass still pending for a subscription an update moved away:
 * a helper's walk over [0, 99] calls A (two-pass, [0, 9]), which hands
 * back a finish, then blocks in B ([50, 59]). Meanwhile A moves to
 * [200, 209], outside the walk's range, and is removed: the remove must
 * wait for A's finish (it returns 1), which runs once the walk goes on.
 */
static struct {
	struct mni_interval_notifier_finish fin;
	int arrived, go, finished;	/* atomic */
} TP;

static bool tp_start(struct mmu_interval_notifier *sub,
		     const struct mmu_notifier_range *range,
		     unsigned long cur_seq,
		     struct mni_interval_notifier_finish **finish)
{
	(void)range;
	mmu_interval_set_seq(sub, cur_seq);
	*finish = &TP.fin;
	return true;
}

static void tp_finish(struct mni_interval_notifier_finish *finish)
{
	(void)finish;
	__atomic_store_n(&TP.finished, 1, __ATOMIC_RELEASE);
}

static const struct mni_interval_notifier_ops tp_ops = {
	.invalidate_start = tp_start,
	.invalidate_finish = tp_finish,
};

static bool tp_block(struct mmu_interval_notifier *sub,
		     const struct mmu_notifier_range *range,
		     unsigned long cur_seq)
{
	(void)range;
	__atomic_store_n(&TP.arrived, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&TP.go, __ATOMIC_ACQUIRE))
		usleep(100);
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops tp_block_ops = {
	.invalidate = tp_block,
};

struct tp_walk {
	struct mni_itree *it;
	struct mmu_notifier_range *range;
};

static void *tp_walker(void *arg)
{
	struct tp_walk *w = arg;

	mni_itree_invalidate_start(w->it, w->range);
	mni_itree_invalidate_end(w->it, w->range);
	return NULL;
}

static void test_two_pass_moved_finish(void)
{
	struct mmu_interval_notifier a = {}, b = {};
	struct mmu_notifier_range r = {
		.mm = fake_mm, .start = 0, .end = 100,
		.flags = MMU_NOTIFIER_RANGE_BLOCKABLE,
	};
	struct mni_itree it;
	struct tp_walk w = { &it, &r };
	pthread_t t;
	int ret;

	memset(&TP, 0, sizeof(TP));
	CHECK(!mni_itree_init(&it, 10), "init");
	a = (struct mmu_interval_notifier){
		.interval_tree = { .start = 0, .last = 9 },
		.ops = &tp_ops.base, .mm = fake_mm,
	};
	b = (struct mmu_interval_notifier){
		.interval_tree = { .start = 50, .last = 59 },
		.ops = &tp_block_ops, .mm = fake_mm,
	};
	mni_itree_insert(&it, &a);
	mni_itree_insert(&it, &b);
	CHECK(!pthread_create(&t, NULL, tp_walker, &w), "pthread_create");
	while (!__atomic_load_n(&TP.arrived, __ATOMIC_ACQUIRE))
		usleep(100);
	CHECK(!mni_itree_update(&it, &a, 200, 209), "update");
	ret = mni_itree_remove_begin(&it, &a);
	CHECK(ret == 1, "remove of a sub whose finish is pending = %d, want 1",
	      ret);
	CHECK(!__atomic_load_n(&TP.finished, __ATOMIC_ACQUIRE),
	      "the finish ran before the walk went on");
	__atomic_store_n(&TP.go, 1, __ATOMIC_RELEASE);
	CHECK(!pthread_join(t, NULL), "pthread_join");
	CHECK(__atomic_load_n(&TP.finished, __ATOMIC_ACQUIRE), "no finish");
	mni_itree_remove_wait(&it, &a);
	CHECK(!mni_itree_remove_begin(&it, &b), "remove b");
	mni_itree_destroy(&it);
}

/*
 * A put sub that a refused walk holds in a marked slot, and that another
 * walk may finish, is released only once the refused walk has looked at
 * the slot. Found by stress (heap-use-after-free in mni_itree_reap() from
 * mni_itree_walk_done(), the sub freed by another walk's
 * mni_itree_reap_range()): walk_done emptied its round under the lock and
 * reaped its marked slots after dropping it, so in between
 * mni_inval_holds() no longer saw the refused walk's hold. It now keeps
 * the round until the marks are looked at.
 *
 * Helper T1 walks [0, 19] non-blockable: round [Q, P], stopped in Q's
 * callback. The main thread walks [10, 29]: calls P, then F, which hands
 * back a finish. In the finish, Q and P are put: both 1 (T1 holds them;
 * P is also in the finishing range). Q then refuses; T1's walk_done
 * releases Q first, and its release stands (a preemption) while the main
 * thread's walk_done runs: it must leave P to T1, which releases it once
 * it goes on. Before the fix the main thread released and freed P there,
 * and T1 then read it.
 */
static struct {
	struct mni_itree it;
	struct mmu_interval_notifier q, f, *p;
	struct mni_interval_notifier_finish fin;
	int arrived, go, in_release, go_release;	/* atomic */
	int q_released, p_released, put_q, put_p;
} UB;

static bool ub_q_invalidate(struct mmu_interval_notifier *sub,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq)
{
	(void)range;
	mmu_interval_set_seq(sub, cur_seq);
	__atomic_store_n(&UB.arrived, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&UB.go, __ATOMIC_ACQUIRE))
		usleep(100);
	return false;			/* non-blockable: refused */
}

static bool ub_plain(struct mmu_interval_notifier *sub,
		     const struct mmu_notifier_range *range,
		     unsigned long cur_seq)
{
	(void)range;
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops ub_q_ops = {
	.invalidate = ub_q_invalidate,
};

static const struct mmu_interval_notifier_ops ub_p_ops = {
	.invalidate = ub_plain,
};

static void ub_release(struct mmu_interval_notifier *sub)
{
	if (sub == &UB.q) {
		UB.q_released++;
		/* T1, between two slots of its reap: preempted here. */
		__atomic_store_n(&UB.in_release, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&UB.go_release, __ATOMIC_ACQUIRE))
			usleep(100);
		return;
	}
	CHECK(sub == UB.p, "release of another sub");
	UB.p_released++;
	/* The owner frees it: it is the owner's again. */
	free(sub);
	UB.p = NULL;
}

static bool ub_f_start(struct mmu_interval_notifier *sub,
		       const struct mmu_notifier_range *range,
		       unsigned long cur_seq,
		       struct mni_interval_notifier_finish **finish)
{
	(void)range;
	mmu_interval_set_seq(sub, cur_seq);
	*finish = &UB.fin;
	return true;
}

static void ub_f_finish(struct mni_interval_notifier_finish *finish)
{
	double t = now() + 5;

	(void)finish;
	UB.put_q = mni_itree_put(&UB.it, &UB.q, ub_release);
	UB.put_p = mni_itree_put(&UB.it, UB.p, ub_release);
	__atomic_store_n(&UB.go, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&UB.in_release, __ATOMIC_ACQUIRE)) {
		CHECK(now() < t, "T1 did not release Q");
		usleep(100);
	}
}

static const struct mni_interval_notifier_ops ub_f_ops = {
	.invalidate_start = ub_f_start,
	.invalidate_finish = ub_f_finish,
};

static void *ub_walker(void *arg)
{
	mni_itree_invalidate_start(&UB.it, arg);
	return NULL;
}

static void test_refused_walk_reap_race(void)
{
	struct mmu_notifier_range r1 = {
		.mm = fake_mm, .start = 0, .end = 20, .flags = 0,
	};
	struct mmu_notifier_range r2 = {
		.mm = fake_mm, .start = 10, .end = 30,
		.flags = MMU_NOTIFIER_RANGE_BLOCKABLE,
	};
	double t = now() + 5;
	pthread_t t1;
	int ret;

	memset(&UB, 0, sizeof(UB));
	CHECK(!mni_itree_init(&UB.it, 11), "init");
	UB.p = calloc(1, sizeof(*UB.p));
	CHECK(UB.p, "calloc");
	UB.q = (struct mmu_interval_notifier){
		.interval_tree = { .start = 0, .last = 9 },
		.ops = &ub_q_ops, .mm = fake_mm,
	};
	*UB.p = (struct mmu_interval_notifier){
		.interval_tree = { .start = 10, .last = 19 },
		.ops = &ub_p_ops, .mm = fake_mm,
	};
	UB.f = (struct mmu_interval_notifier){
		.interval_tree = { .start = 20, .last = 29 },
		.ops = &ub_f_ops.base, .mm = fake_mm,
	};
	mni_itree_insert(&UB.it, &UB.q);
	mni_itree_insert(&UB.it, UB.p);
	mni_itree_insert(&UB.it, &UB.f);
	CHECK(!pthread_create(&t1, NULL, ub_walker, &r1), "pthread_create");
	while (!__atomic_load_n(&UB.arrived, __ATOMIC_ACQUIRE)) {
		CHECK(now() < t, "T1 did not reach Q");
		usleep(100);
	}
	ret = mni_itree_invalidate_start(&UB.it, &r2);
	CHECK(!ret, "blockable start = %d", ret);
	CHECK(UB.put_q == 1 && UB.put_p == 1,
	      "puts of subs T1 holds = %d, %d, want 1, 1", UB.put_q, UB.put_p);
	/*
	 * Right: T1 still holds P (a marked slot it has yet to look at), so
	 * P is not released yet; the engine released (and the owner freed)
	 * it here.
	 */
	CHECK(!UB.p_released,
	      "P released while the refused walk T1 still has to look at its marked slot");
	__atomic_store_n(&UB.go_release, 1, __ATOMIC_RELEASE);
	CHECK(!pthread_join(t1, NULL), "pthread_join");
	CHECK(UB.q_released == 1 && UB.p_released == 1,
	      "released Q %d, P %d times", UB.q_released, UB.p_released);
	mni_itree_invalidate_end(&UB.it, &r2);
	CHECK(!mni_itree_remove_begin(&UB.it, &UB.f), "remove F");
	mni_itree_destroy(&UB.it);
}

/* Calls of count_ops subscriptions, by address. */
static struct mmu_interval_notifier *owner_called[4];
static int owner_ncalled;

static bool count_invalidate(struct mmu_interval_notifier *sub,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq)
{
	(void)range;
	if (owner_ncalled < 4)
		owner_called[owner_ncalled++] = sub;
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops count_ops = {
	.invalidate = count_invalidate,
};

/*
 * The owner filter: a migration or exclusive access that names a
 * subscription's owner skips it (no call) and does not hold up its
 * read_begin (no collision); any other event, or another owner, does.
 */
static void test_owner_filter(void)
{
	static int dev_a, dev_b;
	struct mmu_interval_notifier s[2] = {};
	struct mmu_notifier_range r = {
		.mm = fake_mm, .start = 0, .end = 100,
		.flags = MMU_NOTIFIER_RANGE_BLOCKABLE,
	};
	static const enum mmu_notifier_event evs[] = {
		MMU_NOTIFY_MIGRATE, MMU_NOTIFY_EXCLUSIVE, MMU_NOTIFY_UNMAP,
	};
	struct mni_itree it;
	unsigned long seq0, seq;
	unsigned int e;
	int i;

	CHECK(!mni_itree_init(&it, 9), "init");
	for (i = 0; i < 2; i++) {
		s[i].interval_tree.start = 0;
		s[i].interval_tree.last = 99;
		s[i].ops = &count_ops;
		s[i].mm = fake_mm;
		mni_itree_insert(&it, &s[i]);
	}
	CHECK(!mni_itree_set_owner(&it, &s[0], &dev_a), "set_owner");
	CHECK(mni_itree_set_owner(&it, &M.strangers[0].sub, &dev_a) == -ENOENT,
	      "set_owner of a stranger");
	for (e = 0; e < ARRAY_SIZE(evs); e++) {
		for (i = 0; i < 2; i++) {
			void *owner = i ? &dev_b : &dev_a;
			bool skip = evs[e] != MMU_NOTIFY_UNMAP && !i;

			r.event = evs[e];
			r.owner = owner;
			CHECK(!mni_itree_read_sample(&it, &s[0], &seq0), "sample");
			owner_ncalled = 0;
			CHECK(!mni_itree_invalidate_start(&it, &r), "start");
			CHECK(owner_ncalled == (skip ? 1 : 2) &&
			      owner_called[0] == &s[skip ? 1 : 0],
			      "event %d, owner %s: %d calls", evs[e],
			      i ? "b" : "a", owner_ncalled);
			CHECK((mni_itree_read_sample(&it, &s[0], &seq) == -EAGAIN) == !skip,
			      "event %d: read_begin of the owner's sub %s", evs[e],
			      skip ? "waits" : "does not wait");
			CHECK(mni_itree_read_sample(&it, &s[1], &seq) == -EAGAIN,
			      "read_begin of the other sub does not wait");
			mni_itree_invalidate_end(&it, &r);
			CHECK(!mni_itree_read_sample(&it, &s[0], &seq) &&
			      (seq == seq0) == skip,
			      "event %d: the owner's sub %s", evs[e],
			      skip ? "collided" : "did not collide");
		}
	}
	for (i = 0; i < 2; i++)
		CHECK(!mni_itree_remove_begin(&it, &s[i]), "remove");
	mni_itree_destroy(&it);
}

/* ---- put: a subscription released when no walk holds it ----------- */

static struct {
	struct mni_itree it;
	struct mmu_interval_notifier s[3];
	int released[3];		/* atomic */
	int put_self;			/* callback of s[0] puts s[0] and s[2] */
	int block;			/* atomic: callback of s[0] waits for go */
	int arrived, go;		/* atomic */
	int put_ret[2];
} P;

static void put_release(struct mmu_interval_notifier *sub)
{
	__atomic_add_fetch(&P.released[sub - P.s], 1, __ATOMIC_RELAXED);
}

static int put_now(struct mmu_interval_notifier *sub)
{
	int ret = mni_itree_put(&P.it, sub, put_release);

	if (!ret)
		shim_release_put(&P.it, sub, put_release);
	return ret;
}

static bool put_invalidate(struct mmu_interval_notifier *sub,
			   const struct mmu_notifier_range *range,
			   unsigned long cur_seq)
{
	(void)range;
	CHECK(!__atomic_load_n(&P.released[sub - P.s], __ATOMIC_RELAXED),
	      "callback on a released subscription");
	mmu_interval_set_seq(sub, cur_seq);
	if (sub == &P.s[0] && P.put_self) {
		P.put_self = 0;
		/* Its own: held, released after this returns. */
		P.put_ret[0] = mni_itree_put(&P.it, sub, put_release);
		/* A later one of the same walk: dropped and released now. */
		P.put_ret[1] = put_now(&P.s[2]);
	}
	if (sub == &P.s[0] && __atomic_load_n(&P.block, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&P.arrived, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&P.go, __ATOMIC_ACQUIRE))
			usleep(100);
	}
	return true;
}

static const struct mmu_interval_notifier_ops put_ops = {
	.invalidate = put_invalidate,
};

static void *put_walk_fn(void *arg)
{
	mni_itree_invalidate_start(&P.it, arg);
	return NULL;
}

static void put_setup(void)
{
	int i;

	memset(&P, 0, sizeof(P));
	CHECK(!mni_itree_init(&P.it, 10), "init");
	for (i = 0; i < 3; i++) {
		P.s[i].interval_tree.start = 10 * i;
		P.s[i].interval_tree.last = 10 * i + 9;
		P.s[i].ops = &put_ops;
		P.s[i].mm = fake_mm;
		mni_itree_insert(&P.it, &P.s[i]);
	}
}

/*
 * put: at once when nothing holds the sub; from its own callback (held,
 * released right after the callback, within the same start); of a sub
 * another thread's walk holds (released when that walk lets go, without
 * any end); never twice, and a remove or second put of it is refused.
 */
static void test_put(void)
{
	struct mmu_notifier_range r = {
		.mm = fake_mm, .start = 0, .end = 30,
		.flags = MMU_NOTIFIER_RANGE_BLOCKABLE,
	};
	double t;
	pthread_t tid;

	put_setup();
	CHECK(put_now(&P.s[1]) == 0 && P.released[1] == 1, "put of an idle sub");
	CHECK(put_now(&P.s[1]) == -ENOENT && P.released[1] == 1, "second put");
	CHECK(mni_itree_remove_begin(&P.it, &P.s[1]) == -ENOENT,
	      "remove of a put sub");

	P.put_self = 1;
	CHECK(!mni_itree_invalidate_start(&P.it, &r), "start");
	CHECK(P.put_ret[0] == 1 && P.put_ret[1] == 0,
	      "put from its own callback = %d, of a later sub = %d",
	      P.put_ret[0], P.put_ret[1]);
	CHECK(P.released[0] == 1 && P.released[2] == 1,
	      "released %d and %d times after the walk", P.released[0],
	      P.released[2]);
	mni_itree_invalidate_end(&P.it, &r);
	CHECK(RB_EMPTY_ROOT(&P.it.root.rb_root) && !P.it.nr_put_pending,
	      "engine not empty after the puts");
	mni_itree_destroy(&P.it);

	/* Another thread's walk holds s[1] (its round, not reached yet). */
	put_setup();
	__atomic_store_n(&P.block, 1, __ATOMIC_RELEASE);
	CHECK(!pthread_create(&tid, NULL, put_walk_fn, &r), "pthread_create");
	t = now() + 5;
	while (!__atomic_load_n(&P.arrived, __ATOMIC_ACQUIRE)) {
		CHECK(now() < t, "walk did not reach sub 0");
		usleep(100);
	}
	CHECK(mni_itree_put(&P.it, &P.s[1], put_release) == 1,
	      "put of a sub another walk holds");
	CHECK(mni_itree_put(&P.it, &P.s[0], put_release) == 1,
	      "put of the sub whose callback runs");
	CHECK(!P.released[0] && !P.released[1], "released while held");
	__atomic_store_n(&P.go, 1, __ATOMIC_RELEASE);
	pthread_join(tid, NULL);
	/* No end was sent: the walk released them itself. */
	CHECK(P.released[0] == 1 && P.released[1] == 1,
	      "released %d and %d times once the walk let go",
	      P.released[0], P.released[1]);
	mni_itree_invalidate_end(&P.it, &r);
	CHECK(put_now(&P.s[2]) == 0 && P.released[2] == 1, "last put");
	CHECK(RB_EMPTY_ROOT(&P.it.root.rb_root) && !P.it.nr_put_pending,
	      "engine not empty after the puts");
	mni_itree_destroy(&P.it);
}

static void shared_release(struct mmu_interval_notifier *sub)
{
	sub->mm = NULL;
}

/*
 * Subscriptions and holds share one user reference: the first user keeps
 * the caller's, the last one says to drop it, insert_used() never takes
 * one. The engine's answers are checked here, and the count shared_ref.h
 * keeps from them at destroy.
 */
static void test_shared_ref(void)
{
	struct mmu_interval_notifier a = { .ops = &model_ops },
				     b = { .ops = &model_ops };
	struct mni_itree it;
	bool last;

	a.interval_tree.start = 0;
	a.interval_tree.last = 9;
	b.interval_tree = a.interval_tree;
	a.mm = b.mm = fake_mm;
	CHECK(!mni_itree_init(&it, 12), "init");
	CHECK(mni_itree_unhold(&it) == -ENOENT, "unhold without a hold");
	CHECK(!mni_itree_insert_used(&it, &a) && RB_EMPTY_ROOT(&it.root.rb_root),
	      "insert_used into an unused engine inserted");
	CHECK(mni_itree_hold(&it), "the first hold is not the first user");
	shim_shared_ref(&it, 1);
	CHECK(mni_itree_insert_used(&it, &a), "insert_used under a hold");
	CHECK(!(mni_itree_remove_begin)(&it, &a, &last) && !last,
	      "removing the only sub under a hold is the last user");
	CHECK(mni_itree_insert_used(&it, &a), "insert_used under a hold");
	CHECK(!(mni_itree_insert)(&it, &b), "a second sub is the first user");
	CHECK(mni_itree_unhold(&it) == 0, "unhold with subs left is the last");
	CHECK(!(mni_itree_remove_begin)(&it, &a, &last) && !last,
	      "remove with a sub left is the last user");
	CHECK(!(mni_itree_put)(&it, &b, shared_release, &last) && last,
	      "the put of the last sub is not the last user");
	shim_put_done(&it, &b, shared_release, last);
	CHECK(!b.mm && !mni_itree_insert_used(&it, &a),
	      "insert_used into an engine unused again");
	CHECK((mni_itree_insert)(&it, &a), "first user again");
	shim_shared_ref(&it, 1);
	CHECK(!(mni_itree_remove_begin)(&it, &a, &last) && last,
	      "last user again");
	shim_shared_ref(&it, -1);
	mni_itree_destroy(&it);
}

static void test_strangers(void)
{
	int i;

	directed_init();
	STEP(do_insert(S(0), 0, 99));
	for (i = 0; i < NSTRANGERS + 2; i++) {
		STEP(do_remove_stranger(i));
		STEP(do_read_sample(msub_of_stranger(i), true));
		STEP(do_read_probe(msub_of_stranger(i), true));
	}
	/* A sub removed already is a stranger too; dying ones refuse reads. */
	STEP(do_remove(S(0)));
	STEP(do_remove(S(0)));
	STEP(do_read_sample(S(0), false));
	drain();
}

static const struct tap_test tests[] = {
	/* random operations against the reference model */
	{ .name = "random", .fn = test_random, .timeout = 600 },
	/* an insert during an overlapping invalidation is not called, its read_begin waits */
	{ .name = "insert_during_inval", .fn = test_insert_during_inval, .timeout = 60 },
	/* two invalidations of one sub, either ending first: read_begin waits for both */
	{ .name = "two_invals_later_ends_first", .fn = test_two_invals_later_ends_first, .timeout = 60 },
	/* read_begin and remove are not held up by other ranges */
	{ .name = "other_ranges_do_not_block", .fn = test_other_ranges_do_not_block, .timeout = 60 },
	/* ends without a record are ignored */
	{ .name = "ends_without_record", .fn = test_ends_without_record, .timeout = 60 },
	/* non-blockable refusal stops the walk and drops the record */
	{ .name = "refusal", .fn = test_refusal, .timeout = 60 },
	/* no spare record: overflow slots, allocation failures and the reserve */
	{ .name = "no_spare", .fn = test_no_spare, .timeout = 60 },
	/* init fails cleanly without memory */
	{ .name = "init_nomem", .fn = test_init_nomem, .timeout = 60 },
	/* release makes every read collide at once */
	{ .name = "release", .fn = test_release, .timeout = 60 },
	/* remove waits only for the callback running on its sub */
	{ .name = "remove_waits_for_callback", .fn = test_remove_waits_for_callback, .timeout = 60 },
	/* read_wait sleeps until the last overlapping end; timeout; fatal signal */
	{ .name = "read_wait_sleeps", .fn = test_read_wait_sleeps, .timeout = 60 },
	/* a concurrent walk seen mid-flight */
	{ .name = "concurrent_walk", .fn = test_concurrent_walk, .timeout = 60 },
	/* a concurrent walk of two rounds; a remove waits only for its round */
	{ .name = "concurrent_walk_rounds", .fn = test_concurrent_walk_rounds, .timeout = 60 },
	/* strangers are refused and untouched */
	{ .name = "strangers", .fn = test_strangers, .timeout = 60 },
	/* the owner filter skips a migration of the sub's own owner */
	{ .name = "owner_filter", .fn = test_owner_filter, .timeout = 60 },
	/* put releases once no walk holds the sub: idle, from its own callback, held by another walk */
	{ .name = "put", .fn = test_put, .timeout = 60 },
	/* remove waits for the pending finish of a sub an update moved away */
	{ .name = "two_pass_moved_finish", .fn = test_two_pass_moved_finish, .timeout = 60 },
	/* a put sub a refused walk still holds is not released by another walk */
	{ .name = "refused_walk_reap_race", .fn = test_refused_walk_reap_race, .timeout = 60 },
	/* subscriptions and holds share one user reference */
	{ .name = "shared_ref", .fn = test_shared_ref, .timeout = 60 },
};

int main(int argc, char **argv)
{
	mni_itree_set_put_done(shim_put_done);
	base_seed = env_ul("MNI_SEED", (unsigned long)time(NULL) * 2654435761UL ^ getpid());
	printf("# model: seed %llu (replay: MNI_SEED=%llu), %lu rounds of %lu ops\n",
	       base_seed, base_seed, env_ul("MNI_ROUNDS", 10),
	       env_ul("MNI_MODEL_OPS", 20000));
	return tap_main(argc, argv, tests, ARRAY_SIZE(tests));
}
