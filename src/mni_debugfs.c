// SPDX-License-Identifier: GPL-2.0
/*
 * mni_debugfs.c - <debugfs>/mmu_interval_notifier/
 *
 *   summary  mms, subscriptions, invalidations in flight, and the counters
 *            of struct mni_stats summed over every mm, live or gone
 *   mms      one block per registered mm, each headed by its "id:" line
 *            and ended by an empty line: its state and counters, then one
 *            line per subscription (range, owner, state)
 *
 * Both are generated when read, from the registry itself: nothing here
 * follows an entry's lifetime, and the mm layer does not know this file
 * exists. Files are root-only and print no kernel pointer: a
 * subscription's owner is the symbol of its invalidate (or, two-pass,
 * invalidate_start) callback.
 */
#include <linux/debugfs.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>

#include "mni_debugfs.h"
#include "mni_kcompat.h"
#include "mni_mm.h"
#include "mni_sub.h"

static struct dentry *mni_debugfs_root;

static const char * const mni_sub_state_names[] = {
	[MNI_SUB_IDLE] = "idle",
	[MNI_SUB_INVALIDATING] = "invalidating",
	[MNI_SUB_REMOVING] = "removing",
};

static void mni_show_stats(struct seq_file *m, const struct mni_stats *s)
{
	seq_printf(m, "invalidations: %llu\n", s->invalidations);
	seq_printf(m, "callbacks: %llu\n", s->callbacks);
	seq_printf(m, "callbacks_refused: %llu\n", s->refused);
	seq_printf(m, "no_record: %llu\n", s->no_record);
	seq_printf(m, "remove_waits: %llu\n", s->remove_waits);
	seq_printf(m, "read_begin_waits: %llu\n", s->waits);
	seq_printf(m, "read_begin_wait_ns: %llu\n", s->wait_ns);
	seq_printf(m, "read_begin_wait_max_ns: %llu\n", s->wait_max_ns);
}

static void mni_show_sub(void *arg, const struct mmu_interval_notifier *sub,
			 enum mni_sub_state state)
{
	struct seq_file *m = arg;

	seq_printf(m, "%#lx-%#lx %ps seq=%lu %s\n", sub->interval_tree.start,
		   sub->interval_tree.last, mni_sub_name(sub),
		   READ_ONCE(sub->invalidate_seq), mni_sub_state_names[state]);
}

/*
 * Where a read of mms stands: the hash bucket, and in it the lowest id not
 * shown yet. Entries are visited bucket by bucket, and in a bucket by
 * increasing id, never by count: an entry that stays registered for the
 * whole read is shown exactly once, however many others come and go
 * between two read() calls. Ids are unique and never reused while the
 * module is loaded (mni_next_id).
 */
struct mni_mms_cursor {
	unsigned int bkt;
	unsigned long id;
};

/*
 * The entry at or after @c, which is moved onto it; NULL past the last.
 * Context: rcu_read_lock() held, from mni_mms_start() to mni_mms_stop():
 * an entry found here is freed only a grace period after it left the
 * registry (call_rcu() in mni_mm_free()), so it stays readable until then
 * even if it leaves meanwhile.
 */
static struct mni_mm *mni_mms_find(struct mni_mms_cursor *c)
{
	struct mni_mm *mmm, *found;

	for (; c->bkt < HASH_SIZE(mni_registry); c->bkt++, c->id = 0) {
		found = NULL;
		hlist_for_each_entry_rcu(mmm, &mni_registry[c->bkt], node)
			if (mmm->itree.id >= c->id &&
			    (!found || mmm->itree.id < found->itree.id))
				found = mmm;
		if (found) {
			c->id = found->itree.id;
			return found;
		}
	}
	return NULL;
}

static void *mni_mms_start(struct seq_file *m, loff_t *pos)
	__acquires(RCU)
{
	struct mni_mms_cursor *c = m->private;

	/* Ended by mni_mms_stop(), which seq_file always calls. */
	rcu_read_lock();
	if (!*pos)
		*c = (struct mni_mms_cursor){};
	return mni_mms_find(c);
}

static void *mni_mms_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct mni_mms_cursor *c = m->private;

	++*pos;
	c->id = ((struct mni_mm *)v)->itree.id + 1;
	return mni_mms_find(c);
}

static void mni_mms_stop(struct seq_file *m, void *v)
	__releases(RCU)
{
	/* Pairs with rcu_read_lock() in mni_mms_start(). */
	rcu_read_unlock();
}

/*
 * One mm's block. Under RCU, so nothing here sleeps: seq_printf() only
 * fills the buffer (seq_file retries with a larger one after stop), and
 * mni_itree_inspect() calls back under the engine's raw lock.
 */
static int mni_mms_show(struct seq_file *m, void *v)
{
	struct mni_mm *mmm = v;
	struct mni_stats stats = {};
	struct mni_itree_info info;

	mni_itree_inspect(&mmm->itree, &info, NULL, NULL);
	seq_printf(m, "id: %lu\npid: %d\npre_registrations: %lu\n",
		   mmm->itree.id, mmm->pid, info.holds);
	mni_itree_add_stats(&mmm->itree, &stats);
	mni_show_stats(m, &stats);
	seq_puts(m, "subscriptions (first-last owner seq state):\n");
	mni_itree_inspect(&mmm->itree, &info, mni_show_sub, m);
	seq_printf(m, "seq: %lu\nin_flight: %lu\nstate: %s\n\n", info.seq,
		   info.in_flight, info.dead ? "dead" : "live");
	return 0;
}

static const struct seq_operations mni_mms_seq_ops = {
	.start = mni_mms_start,
	.next = mni_mms_next,
	.stop = mni_mms_stop,
	.show = mni_mms_show,
};

static int mni_mms_open(struct inode *inode, struct file *file)
{
	return seq_open_private(file, &mni_mms_seq_ops,
				sizeof(struct mni_mms_cursor));
}

static const struct file_operations mni_mms_fops = {
	.owner = THIS_MODULE,
	.open = mni_mms_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

struct mni_summary {
	unsigned long mms;
	unsigned long subscriptions;
	unsigned long in_flight;
	struct mni_stats stats;
};

static void mni_summary_add(struct mni_mm *mmm, void *arg)
{
	struct mni_summary *sum = arg;
	struct mni_itree_info info;

	mni_itree_inspect(&mmm->itree, &info, NULL, NULL);
	sum->mms++;
	sum->subscriptions += info.subscriptions;
	sum->in_flight += info.in_flight;
}

static int mni_summary_show(struct seq_file *m, void *unused)
{
	struct mni_summary sum = {};

	mni_mm_for_each(mni_summary_add, &sum);
	/* Not from the walk: an entry leaves the registry before it is freed. */
	mni_mm_total_stats(&sum.stats);
	seq_printf(m, "mms: %lu\nsubscriptions: %lu\nin_flight: %lu\n",
		   sum.mms, sum.subscriptions, sum.in_flight);
	mni_show_stats(m, &sum.stats);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mni_summary);

/**
 * mni_debugfs_init - create the directory, the summary and the mms file
 *
 * debugfs failures are not errors: the module works without it.
 */
void mni_debugfs_init(void)
{
	mni_debugfs_root = debugfs_create_dir("mmu_interval_notifier", NULL);
	debugfs_create_file("summary", 0400, mni_debugfs_root, NULL,
			    &mni_summary_fops);
	debugfs_create_file("mms", 0400, mni_debugfs_root, NULL,
			    &mni_mms_fops);
}

/**
 * mni_debugfs_exit - remove everything
 *
 * debugfs_remove() waits for the reads in progress, and an open file pins
 * the module (.owner), so no read runs after this returns.
 */
void mni_debugfs_exit(void)
{
	debugfs_remove(mni_debugfs_root);
}
