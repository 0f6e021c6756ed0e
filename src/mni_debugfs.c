// SPDX-License-Identifier: GPL-2.0
/*
 * mni_debugfs.c - <debugfs>/mmu_interval_notifier/
 *
 *   summary        mms, subscriptions, invalidations in flight, and the
 *                  counters of struct mni_stats summed over every mm,
 *                  live or gone
 *   mms/<pid>-<id> one file per registered mm: its state and counters,
 *                  then one line per subscription (range, owner, state)
 *
 * Files are root-only and print no kernel pointer: a subscription's owner
 * is the symbol of its invalidate (or, two-pass, invalidate_start) callback.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "mni_debugfs.h"
#include "mni_kcompat.h"
#include "mni_mm.h"
#include "mni_sub.h"

static struct dentry *mni_debugfs_root;
static struct dentry *mni_debugfs_mms;
/*
 * Per-CPU (bound): queue_work() then wakes a worker of the inserting CPU
 * instead of sending another CPU an interrupt, which the first insert on
 * an mm would pay for. Order needs no help: an entry has one work item,
 * which never runs twice at once, and it applies the entry's state at the
 * time it runs.
 */
static struct workqueue_struct *mni_debugfs_wq;

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

static int mni_mm_show(struct seq_file *m, void *unused)
{
	struct mni_mm *mmm = m->private;
	struct mni_stats stats = {};
	struct mni_itree_info info;

	mni_itree_inspect(&mmm->itree, &info, NULL, NULL);
	seq_printf(m, "id: %lu\npid: %d\npre_registrations: %lu\n",
		   mmm->itree.id, mmm->pid, info.holds);
	mni_itree_add_stats(&mmm->itree, &stats);
	mni_show_stats(m, &stats);
	seq_puts(m, "subscriptions (first-last owner seq state):\n");
	mni_itree_inspect(&mmm->itree, &info, mni_show_sub, m);
	seq_printf(m, "seq: %lu\nin_flight: %lu\nstate: %s\n", info.seq,
		   info.in_flight, info.dead ? "dead" : "live");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mni_mm);

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
 * mni_debugfs_work - make an entry's debugfs file match its registration
 * @work: mni_mm.debugfs_work
 *
 * Creates the file while the entry is in the registry and removes it once
 * it is out; debugfs_remove() waits for readers, so the file never
 * outlives the reference this work holds.
 */
void mni_debugfs_work(struct work_struct *work)
{
	struct mni_mm *mmm = container_of(work, struct mni_mm, debugfs_work);
	char name[48];

	if (mni_mm_is_listed(mmm)) {
		if (!mmm->dentry) {
			snprintf(name, sizeof(name), "%d-%lu", mmm->pid,
				 mmm->itree.id);
			mmm->dentry = debugfs_create_file(name, 0400,
							  mni_debugfs_mms, mmm,
							  &mni_mm_fops);
		}
	} else {
		debugfs_remove(mmm->dentry);
		mmm->dentry = NULL;
	}
	/* Pairs with mni_mm_get_ref() in mni_debugfs_update(). */
	mni_mm_put_ref(mmm);
}

/**
 * mni_debugfs_update - queue an update of @mmm's debugfs file
 * @mmm: the entry, just added to or taken out of the registry
 *
 * Context: any; debugfs itself is entered later, from a workqueue, never
 * under the caller's mmap_lock.
 */
void mni_debugfs_update(struct mni_mm *mmm)
{
	mni_mm_get_ref(mmm);
	/* Already queued: that run sees the new state and drops its own ref. */
	if (!queue_work(mni_debugfs_wq, &mmm->debugfs_work))
		mni_mm_put_ref(mmm);
}

/**
 * mni_debugfs_init - create the directory and the summary
 *
 * Return: 0, or -ENOMEM when the workqueue cannot be allocated. debugfs
 * failures are not errors: the module works without it.
 */
int mni_debugfs_init(void)
{
	mni_debugfs_wq = alloc_workqueue("mni_debugfs", WQ_PERCPU, 0);
	if (!mni_debugfs_wq)
		return -ENOMEM;
	mni_debugfs_root = debugfs_create_dir("mmu_interval_notifier", NULL);
	mni_debugfs_mms = debugfs_create_dir("mms", mni_debugfs_root);
	debugfs_create_file("summary", 0400, mni_debugfs_root, NULL,
			    &mni_summary_fops);
	return 0;
}

/**
 * mni_debugfs_exit - run the queued updates, then remove everything
 */
void mni_debugfs_exit(void)
{
	destroy_workqueue(mni_debugfs_wq);
	debugfs_remove(mni_debugfs_root);
}
