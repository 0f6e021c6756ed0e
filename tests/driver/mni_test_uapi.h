/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The ioctl interface of the mni_test mirror device.
 *
 * Shared by the test driver (tests/driver/mni_test.c) and the userspace
 * suites (tests/suite/). Every argument is a fixed-size struct of 64-bit
 * fields, so the layout is the same for 32- and 64-bit callers; every
 * command is _IOWR, and the comments mark each field in or out.
 *
 * A "mirror" is one interval subscription over [addr, addr + len) of the
 * mm of the process that created it, plus a software page table holding
 * the pfns hmm_range_fault() returned for it. The mirror keeps no page
 * references: only the invalidate callback keeps it from going stale.
 * Mirrors belong to the open file, not to a process, so a parent holding
 * the fd can inspect and remove the mirrors of a child that has exited.
 */
#ifndef _MNI_TEST_UAPI_H
#define _MNI_TEST_UAPI_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* Which engine a device is built against (struct mni_test_info.engine). */
#define MNI_TEST_ENGINE_MNI		1	/* mmu_interval_notifier.ko */
#define MNI_TEST_ENGINE_KERN		2	/* the kernel's mm/mmu_notifier.c */

/*
 * Numeric values of enum mmu_notifier_event, copied from
 * include/linux/mmu_notifier.h of Linux 6.1 (unchanged since 5.14).
 */
#define MNI_TEST_EV_UNMAP		0
#define MNI_TEST_EV_CLEAR		1
#define MNI_TEST_EV_PROTECTION_VMA	2
#define MNI_TEST_EV_PROTECTION_PAGE	3
#define MNI_TEST_EV_SOFT_DIRTY		4
#define MNI_TEST_EV_RELEASE		5
#define MNI_TEST_EV_MIGRATE		6
#define MNI_TEST_EV_EXCLUSIVE		7

/* Capacity of the per-mirror invalidation log. */
#define MNI_TEST_LOG_MAX		64

struct mni_test_info {
	__u64 engine;		/* out: MNI_TEST_ENGINE_* */
	__u64 log_max;		/* out: MNI_TEST_LOG_MAX */
	__u64 max_pages;	/* out: longest mirror with a page table */
	__u64 page_size;	/* out: PAGE_SIZE of the kernel */
};

/* Insert with insert_locked() under mmap_write_lock() instead of insert(). */
#define MNI_TEST_ADD_LOCKED		_BITULL(0)
/* Subscription and log only, no page table: any length, FAULT refuses. */
#define MNI_TEST_ADD_NOMIRROR		_BITULL(1)
/*
 * Subscribe with two-pass ops: the start sets the sequence and hands back
 * a finish (the mirror's preallocated one when free), which clears the
 * mirror. The mni flavour uses mni's struct mni_interval_notifier_ops on
 * every kernel; the kernel flavour the kernel's ->invalidate_start and
 * ->invalidate_finish (Linux 7.1+), EOPNOTSUPP on older kernels.
 */
#define MNI_TEST_ADD_TWO_PASS		_BITULL(2)
/*
 * With TWO_PASS: the start does the whole job and hands back no finish, as
 * it does when it cannot allocate one.
 */
#define MNI_TEST_ADD_NO_FINISH		_BITULL(3)
/*
 * insert() with mmap_lock held for read, as a driver's fault handler
 * would; the mm must be pre-registered (MM_GET) or the insert deadlocks.
 * The kernel's flavour refuses it (EOPNOTSUPP) under lockdep: upstream's
 * insert says might_lock(mmap_lock) even when it will not take it.
 */
#define MNI_TEST_ADD_READ_LOCKED	_BITULL(4)

struct mni_test_add {
	__u64 addr;		/* in: page aligned */
	__u64 len;		/* in: page aligned, not 0 */
	__u64 flags;		/* in: MNI_TEST_ADD_* */
	__u64 id;		/* out: handle for the other commands */
};

struct mni_test_del {
	__u64 id;		/* in */
};

/* Fault for write access (HMM_PFN_REQ_WRITE) rather than read. */
#define MNI_TEST_FAULT_WRITE		_BITULL(0)

struct mni_test_fault {
	__u64 id;		/* in */
	__u64 addr;		/* in: page aligned, inside the mirror */
	__u64 npages;		/* in */
	__u64 flags;		/* in: MNI_TEST_FAULT_* */
	__u64 delay_ms;		/* in: sleep after the first hmm_range_fault()
				 * before taking the mirror lock, to let a
				 * test invalidate in between
				 */
	__u64 retries;		/* out: read_retry collisions and -EBUSY */
	__u64 pages;		/* out: pages now mirrored */
	__u64 writable;		/* out: of those, mirrored writable */
};

/* Per-page state reported by READ. */
#define MNI_TEST_PAGE_ABSENT		0	/* not mirrored: zero filled */
#define MNI_TEST_PAGE_READ		1	/* mirrored read-only */
#define MNI_TEST_PAGE_WRITE		2	/* mirrored writable */

struct mni_test_read {
	__u64 id;		/* in */
	__u64 addr;		/* in: page aligned, inside the mirror */
	__u64 npages;		/* in */
	__u64 buf;		/* in: user pointer, npages * page_size bytes */
	__u64 state;		/* in: user pointer, npages bytes of
				 * MNI_TEST_PAGE_*
				 */
	__u64 mirrored;		/* out: pages not ABSENT */
};

/* struct mni_test_log_entry.flags */
#define MNI_TEST_LOG_BLOCKABLE		_BITULL(0)	/* range was blockable */
#define MNI_TEST_LOG_BUSY		_BITULL(1)	/* trylock failed,
							 * callback returned
							 * false
							 */
#define MNI_TEST_LOG_COLLIDED		_BITULL(2)	/* FINISH: read_retry()
							 * with the sequence
							 * before this
							 * invalidation's start
							 * was true
							 */
#define MNI_TEST_LOG_PREALLOC		_BITULL(3)	/* START and FINISH:
							 * the finish is the
							 * mirror's spare,
							 * allocated at ADD
							 */

/* struct mni_test_log_entry.kind: the callback that logged the entry */
#define MNI_TEST_LOG_INVALIDATE		0	/* ->invalidate() */
#define MNI_TEST_LOG_START		1	/* ->invalidate_start() */
#define MNI_TEST_LOG_FINISH		2	/* ->invalidate_finish(), with
						 * the range, flags and seq
						 * its start saw
						 */

struct mni_test_log_entry {
	__u64 event;		/* MNI_TEST_EV_* */
	__u64 start;		/* range->start */
	__u64 end;		/* range->end (exclusive) */
	__u64 flags;		/* MNI_TEST_LOG_* */
	__u64 seq;		/* cur_seq handed to the callback */
	__u64 time_ns;		/* CLOCK_MONOTONIC at callback entry */
	__u64 kind;		/* MNI_TEST_LOG_INVALIDATE, _START, _FINISH */
	__u64 order;		/* from one counter of the driver, taken
				 * by every entry: orders the entries of
				 * different mirrors
				 */
};

/* LOG: empty the log after copying it out. */
#define MNI_TEST_LOG_CLEAR		_BITULL(0)

struct mni_test_log {
	__u64 id;		/* in */
	__u64 flags;		/* in: MNI_TEST_LOG_CLEAR */
	__u64 count;		/* out: valid entries, oldest first */
	__u64 overflow;		/* out: entries lost since the last clear */
	__u64 calls;		/* out: callbacks since insert, never cleared */
	__u64 reserved;
	struct mni_test_log_entry entry[MNI_TEST_LOG_MAX];
};

struct mni_test_seq {
	__u64 id;		/* in */
	__u64 seq;		/* SEQ_BEGIN out, SEQ_RETRY in */
	__u64 retry;		/* SEQ_RETRY out: 1 on a collision */
};

/*
 * SEQ_WAIT: mni_interval_read_begin_killable() (timeout_ms == -1) or
 * mni_interval_read_begin_timeout() (any other value; below -1 it passes
 * a negative timeout). The ioctl itself returns 0, or EOPNOTSUPP on the
 * kernel flavour, which has neither.
 */
struct mni_test_seq_wait {
	__u64 id;		/* in */
	__s64 timeout_ms;	/* in */
	__u64 seq;		/* out, when ret is 0 */
	__s64 ret;		/* out: what the engine returned */
};

struct mni_test_hold {
	__u64 id;		/* in */
	__u64 msecs;		/* in: hold the mirror lock this long,
				 * sleeping uninterruptibly (max 10000)
				 */
};

struct mni_test_slow {
	__u64 id;		/* in */
	__u64 msecs;		/* in: blockable invalidations of this mirror
				 * sleep this long in the callback, with the
				 * mirror lock held (max 10000, 0: off)
				 */
};

/*
 * GRAB_MM: keep an mmgrab() reference on the caller's mm (replacing an
 * older one) for MNI_TEST_CHECK_DEAD_MM.
 */
struct mni_test_grab {
	__u64 reserved;
};

/*
 * CHECK: call the engine with an argument of the kind given and
 * report what it returned. A subscription that was unexpectedly accepted
 * is removed again before the ioctl returns. Kinds the kernel's engine
 * cannot survive fail with EOPNOTSUPP on the kernel flavour.
 */
#define MNI_TEST_CHECK_PLAIN		0 /* valid ops over [addr, addr+len) */
#define MNI_TEST_CHECK_NULL_OPS		1 /* ops == NULL */
#define MNI_TEST_CHECK_NULL_INVALIDATE	2 /* ops->invalidate == NULL */
#define MNI_TEST_CHECK_DEAD_MM		3 /* the mm GRAB_MM kept, once its
					   * mm_users is 0; EBUSY before
					   */
#define MNI_TEST_CHECK_FOREIGN_REMOVE	4 /* insert with the kernel's engine,
					   * remove with ours, then with the
					   * kernel's
					   */
#define MNI_TEST_CHECK_DOUBLE_REMOVE	5 /* insert, remove, remove again */
#define MNI_TEST_CHECK_START_NO_FINISH	6 /* ops->invalidate_start without
					   * ->invalidate_finish (7.1+;
					   * EOPNOTSUPP before)
					   */
#define MNI_TEST_CHECK_BAD_PUT		7 /* insert; put with a NULL
					   * release (ret), then put, then
					   * put again (-ENOENT, else
					   * -EPROTO); ours only
					   */
/*
 * mni's two-pass insert with bad ops, each -EINVAL with a message naming
 * the caller; ours only (the kernel has no such insert).
 */
#define MNI_TEST_CHECK_TWO_PASS_NULL_OPS	8  /* ops == NULL */
#define MNI_TEST_CHECK_TWO_PASS_NO_START	9  /* no invalidate_start */
#define MNI_TEST_CHECK_TWO_PASS_NO_FINISH	10 /* no invalidate_finish */
#define MNI_TEST_CHECK_TWO_PASS_BASE_CALLBACK	11 /* base.invalidate set */
/*
 * Insert; update to an empty range (ret), then to a wrapping one
 * (-EOVERFLOW), a NULL one (-EINVAL), and after the remove (-ENOENT),
 * else -EPROTO; ours only.
 */
#define MNI_TEST_CHECK_BAD_UPDATE	12

struct mni_test_check {
	__u64 kind;		/* in: MNI_TEST_CHECK_* */
	__u64 addr;		/* in */
	__u64 len;		/* in */
	__s64 ret;		/* out: the insert's return value */
};

/*
 * Benchmark commands, for tests/bench/. The loops run in the kernel and are
 * timed there with ktime_get_ns(), so one ioctl's cost is spread over many
 * operations.
 *
 * BENCH_ADD inserts a set of bare subscriptions owned by the file: the i-th
 * covers [addr + i * stride, + len). They have no page table and no log;
 * their callback takes the file's bench lock (trylock when not blockable)
 * and sets the sequence, the least a real driver does. One set per file:
 * BENCH_DEL removes it, and so does close.
 */
#define MNI_TEST_BENCH_MAX_SUBS		_BITULL(20)

struct mni_test_bench_set {
	__u64 addr;		/* in (ADD): page aligned */
	__u64 len;		/* in (ADD): page aligned, not 0 */
	__u64 stride;		/* in (ADD): not below len */
	__u64 count;		/* in (ADD), out (DEL): subscriptions,
				 * 1..MNI_TEST_BENCH_MAX_SUBS
				 */
	__u64 ns;		/* out: time the inserts or removes took */
	__u64 device_ns;	/* in (ADD): 0, or each subscription's
				 * simulated device: its teardown completes
				 * this long after the callback started it.
				 * Ours: mni's two-pass ops, whose finish
				 * waits for it, after every start of the
				 * pass; the kernel's: one pass, each
				 * callback waiting in turn (the upstream
				 * way before 7.1)
				 */
};

/* Leave the engine's calls out of the loop: the floor to compare with. */
#define MNI_TEST_BENCH_FLOOR		_BITULL(0)
/* BENCH_INSERT: time inserts (ns) and removes (ns2) apart. */
#define MNI_TEST_BENCH_SPLIT		_BITULL(1)
/*
 * BENCH_INSERT: insert once, then @iters times move the subscription to
 * the same range (ours: mni_interval_notifier_update(); the kernel's:
 * remove + insert, the upstream way), then remove: ns times the moves.
 */
#define MNI_TEST_BENCH_UPDATE		_BITULL(2)

/*
 * BENCH_READ: @iters times read_begin() on mirror @id, take its lock,
 * read_retry(), unlock: the engine's part of an uncontended device fault.
 * With FLOOR only the lock and unlock (of the file's bench lock; @id is
 * ignored). BENCH_INSERT: @iters times insert a bare subscription over
 * [addr, addr + len) of the caller's mm and remove it again; with FLOOR,
 * the empty loop.
 */
struct mni_test_bench_loop {
	__u64 id;		/* in: BENCH_READ: the mirror */
	__u64 addr;		/* in: BENCH_INSERT: page aligned */
	__u64 len;		/* in: BENCH_INSERT: page aligned, not 0 */
	__u64 iters;		/* in: not 0 */
	__u64 flags;		/* in: MNI_TEST_BENCH_* */
	__u64 ns;		/* out: the loop's time; with SPLIT, inserts */
	__u64 ns2;		/* out: with SPLIT, removes */
	__u64 retries;		/* out: BENCH_READ: read_retry collisions */
};

#define MNI_TEST_IOC_MAGIC	0xC7

#define MNI_TEST_IOC_INFO	_IOWR(MNI_TEST_IOC_MAGIC, 0x00, struct mni_test_info)
#define MNI_TEST_IOC_ADD	_IOWR(MNI_TEST_IOC_MAGIC, 0x01, struct mni_test_add)
#define MNI_TEST_IOC_DEL	_IOWR(MNI_TEST_IOC_MAGIC, 0x02, struct mni_test_del)
#define MNI_TEST_IOC_FAULT	_IOWR(MNI_TEST_IOC_MAGIC, 0x03, struct mni_test_fault)
#define MNI_TEST_IOC_READ	_IOWR(MNI_TEST_IOC_MAGIC, 0x04, struct mni_test_read)
#define MNI_TEST_IOC_LOG	_IOWR(MNI_TEST_IOC_MAGIC, 0x05, struct mni_test_log)
#define MNI_TEST_IOC_SEQ_BEGIN	_IOWR(MNI_TEST_IOC_MAGIC, 0x06, struct mni_test_seq)
#define MNI_TEST_IOC_SEQ_RETRY	_IOWR(MNI_TEST_IOC_MAGIC, 0x07, struct mni_test_seq)
#define MNI_TEST_IOC_HOLD	_IOWR(MNI_TEST_IOC_MAGIC, 0x08, struct mni_test_hold)
#define MNI_TEST_IOC_SLOW	_IOWR(MNI_TEST_IOC_MAGIC, 0x09, struct mni_test_slow)
#define MNI_TEST_IOC_GRAB_MM	_IOWR(MNI_TEST_IOC_MAGIC, 0x0a, struct mni_test_grab)
#define MNI_TEST_IOC_CHECK	_IOWR(MNI_TEST_IOC_MAGIC, 0x0b, struct mni_test_check)
#define MNI_TEST_IOC_SEQ_WAIT	_IOWR(MNI_TEST_IOC_MAGIC, 0x0c, struct mni_test_seq_wait)
/* SPIN: non-blockable callbacks busy-wait msecs (max 1000), lock dropped. */
#define MNI_TEST_IOC_SPIN	_IOWR(MNI_TEST_IOC_MAGIC, 0x0d, struct mni_test_slow)
/*
 * RELEASE_REMOVE: register, on the caller's mm, a classic notifier whose
 * ->release removes every mirror of this file on that mm (no argument).
 */
#define MNI_TEST_IOC_RELEASE_REMOVE _IO(MNI_TEST_IOC_MAGIC, 0x0e)
/*
 * MM_GET: pre-register the caller's mm, held by the file until MM_PUT or
 * close. Ours: mni_mm_get(). The kernel's: the upstream workaround,
 * __mmu_notifier_register(NULL, mm), which lasts as long as the mm.
 * MM_PUT: ours: mni_mm_put() (EINVAL without a get); the kernel's: 0.
 */
#define MNI_TEST_IOC_MM_GET	_IO(MNI_TEST_IOC_MAGIC, 0x0f)
/*
 * PUT: take mirror id out of the file and hand it to the engine. Ours:
 * mni_interval_notifier_put(), at once or (PUT_IN_CALLBACK) from the
 * mirror's next invalidate callback; the release frees it. The kernel's
 * engine has no put: the upstream workaround, a remove at once or, from
 * the callback, one deferred to a work item. released: out, how many
 * mirrors this module has had released that way, all files together
 * (id 0 only reads it). IRQS_OFF (ours only, not with IN_CALLBACK): the
 * put at once is made with interrupts off, as from a hardirq handler.
 */
#define MNI_TEST_PUT_IN_CALLBACK	_BITULL(0)
#define MNI_TEST_PUT_IRQS_OFF		_BITULL(1)
struct mni_test_put {
	__u64 id;		/* in: 0 only reads released */
	__u64 flags;		/* in: MNI_TEST_PUT_* */
	__u64 released;		/* out */
};

#define MNI_TEST_IOC_PUT	_IOWR(MNI_TEST_IOC_MAGIC, 0x11, struct mni_test_put)

/*
 * SET_OWNER: mirror id's owner (any cookie; 0: none). Ours:
 * mni_interval_notifier_set_owner(). The kernel's: the upstream way, its
 * callback compares range->owner by hand and returns at once.
 * MIGRATE: migrate_vma_setup() over [addr, addr + len) (at most 32 pages,
 * system memory) naming owner as pgmap_owner, which sends an
 * MMU_NOTIFY_MIGRATE invalidation with that owner; then nothing is moved
 * and migrate_vma_finalize() puts the pages back. EOPNOTSUPP on a kernel
 * without device-private migration.
 */
struct mni_test_owner {
	__u64 id;		/* in: SET_OWNER's mirror */
	__u64 addr;		/* in: MIGRATE's range */
	__u64 len;
	__u64 owner;		/* in */
};

#define MNI_TEST_IOC_SET_OWNER	_IOWR(MNI_TEST_IOC_MAGIC, 0x12, struct mni_test_owner)
#define MNI_TEST_IOC_MIGRATE	_IOWR(MNI_TEST_IOC_MAGIC, 0x13, struct mni_test_owner)
#define MNI_TEST_IOC_MM_PUT	_IO(MNI_TEST_IOC_MAGIC, 0x10)
/*
 * MM_LEAK: forget this file's pre-registrations, as a buggy driver would:
 * its close no longer puts them, so they outlive this module and the
 * engine's module exit finds them. Ours only (EOPNOTSUPP otherwise).
 */
#define MNI_TEST_IOC_MM_LEAK	_IO(MNI_TEST_IOC_MAGIC, 0x14)

/*
 * UPDATE: move mirror id to [addr, addr + len) (a mirrored one keeps its
 * size). Ours: mni_interval_notifier_update(), called under the mirror
 * lock its callbacks take. The kernel's: the upstream workaround, remove
 * then insert, with the lock dropped (EINVAL unless the caller owns the
 * mm). Either way the mirror forgets every page, as a driver drops its
 * device mapping when it moves a range. UPDATE_RAW (ours only) hands
 * addr and len to the engine unchecked, for its bad-input answers.
 */
#define MNI_TEST_UPDATE_RAW	_BITULL(0)
struct mni_test_update {
	__u64 id;		/* in */
	__u64 addr;		/* in */
	__u64 len;		/* in */
	__u64 flags;		/* in: MNI_TEST_UPDATE_* */
};

#define MNI_TEST_IOC_UPDATE	_IOW(MNI_TEST_IOC_MAGIC, 0x18, struct mni_test_update)

/*
 * BOUNDARY (mni flavour only; the kernel's: ENOTTY): one whole case of the
 * API boundary on the caller's mm, in tests/driver/mni_test_boundary.c.
 * Subscriptions 0, 1, 2 (A, B, C) start a page apart over a fresh
 * anonymous mapping of len bytes, and one munmap of it calls them.
 *   REMOVE_SIBLING:   A two-pass; B's callback removes C
 *   REMOVE_FINISHING: A two-pass; B's callback removes A, whose finish the
 *                     walk still owes (out[0]: A's finishes by then)
 *   REMOVE_OWN:       A two-pass and B remove themselves from their own
 *                     callbacks
 *   REMOVE_PLAIN:     A's callback removes B
 *   IRQ_CALLS:        an hrtimer handler (hardirq) calls put(X), update(Y),
 *                     set_owner(Y) and put(Y): ret[0..3]; out[0], out[1]:
 *                     X's and Y's releases
 *   SOFTIRQ_CALLS:    the same calls from a timer_list handler (softirq)
 * ret[i]: 1 when subscription i's callback saw its remove() return.
 */
#define MNI_TEST_BOUNDARY_REMOVE_SIBLING	1
#define MNI_TEST_BOUNDARY_REMOVE_FINISHING	2
#define MNI_TEST_BOUNDARY_REMOVE_OWN		3
#define MNI_TEST_BOUNDARY_REMOVE_PLAIN		4
#define MNI_TEST_BOUNDARY_IRQ_CALLS		5
#define MNI_TEST_BOUNDARY_SOFTIRQ_CALLS		6

struct mni_test_boundary {
	__u64 mode;		/* in: MNI_TEST_BOUNDARY_* */
	__u64 len;		/* in: page aligned, at least 3 pages */
	__s64 ret[4];		/* out */
	__u64 calls[4];		/* out: first-pass callbacks per subscription */
	__u64 finishes[4];	/* out: second passes per subscription */
	__u64 out[4];		/* out: per mode, above */
};

#define MNI_TEST_IOC_BOUNDARY	_IOWR(MNI_TEST_IOC_MAGIC, 0x38, struct mni_test_boundary)
#define MNI_TEST_IOC_BENCH_ADD	_IOWR(MNI_TEST_IOC_MAGIC, 0x20, struct mni_test_bench_set)
#define MNI_TEST_IOC_BENCH_DEL	_IOWR(MNI_TEST_IOC_MAGIC, 0x21, struct mni_test_bench_set)
#define MNI_TEST_IOC_BENCH_READ	_IOWR(MNI_TEST_IOC_MAGIC, 0x22, struct mni_test_bench_loop)
#define MNI_TEST_IOC_BENCH_INSERT _IOWR(MNI_TEST_IOC_MAGIC, 0x23, struct mni_test_bench_loop)

/*
 * SETTLE: returns once the frees queued by earlier teardowns are done (the
 * classic notifiers put, their mms, what RCU frees after them), so that a
 * reading of the kernel's memory counts only what is alive.
 */
#define MNI_TEST_IOC_SETTLE	_IO(MNI_TEST_IOC_MAGIC, 0x24)

/*
 * HMM_FAULT: hmm_range_fault_unlocked_timeout() on a mirror's range, called
 * as a driver built through mni_compat.h calls it (the mni flavour gets
 * mni's; the kernel flavour the kernel's, EOPNOTSUPP before 7.3), then the
 * usual read_retry under the mirror lock and, without a collision, the
 * pfns stored in the mirror's table. The ioctl fails only for bad input;
 * the helper's result is in ret.
 */
#define MNI_TEST_HMM_MAX_PAGES	16
/* Call the helper without holding the mm's users, as a careless driver. */
#define MNI_TEST_HMM_NO_MMGET	_BITULL(1)
struct mni_test_hmm_fault {
	__u64 id;		/* in */
	__u64 addr;		/* in: page aligned, inside the mirror */
	__u64 npages;		/* in: 1..MNI_TEST_HMM_MAX_PAGES */
	__u64 flags;		/* in: MNI_TEST_FAULT_WRITE,
				 * MNI_TEST_HMM_NO_MMGET
				 */
	__u64 timeout_ms;	/* in: the helper's budget, 0: none */
	__s64 ret;		/* out: what the helper returned */
	__u64 collided;		/* out: 1 if read_retry then saw a collision
				 * (nothing stored)
				 */
	__u64 pfn[MNI_TEST_HMM_MAX_PAGES];	/* out: the pfns the helper
						 * returned (0: none), as
						 * /proc/pid/pagemap counts
						 */
};

#define MNI_TEST_IOC_HMM_FAULT	_IOWR(MNI_TEST_IOC_MAGIC, 0x30, struct mni_test_hmm_fault)

/*
 * FREEING (ours only; mni_test_freeing.c): a subscription M over the first
 * half of [addr, addr + len) (a whole number of page pairs), whose release
 * frees it at once, put by its own UNMAP callback while READ sleeps in
 * read_begin(M). OTHER: a second subscription over the other half. The
 * unmap must wait for READY: a reader that faults on its way in would wait
 * for the unmapper's mmap_lock.
 */
#define MNI_TEST_FREEING_ARM	0
#define MNI_TEST_FREEING_READ	1
#define MNI_TEST_FREEING_DONE	2
#define MNI_TEST_FREEING_READY	3	/* wait until READ is in the kernel */
#define MNI_TEST_FREEING_OTHER	_BITULL(0)
struct mni_test_freeing {
	__u64 addr;		/* in: ARM */
	__u64 len;		/* in: ARM */
	__u64 phase;		/* in: MNI_TEST_FREEING_* phase */
	__u64 flags;		/* in: ARM: MNI_TEST_FREEING_OTHER */
	__u64 seq;		/* out: READ: what read_begin(M) returned */
	__u64 released;		/* out: DONE: releases so far */
};

#define MNI_TEST_IOC_FREEING	_IOWR(MNI_TEST_IOC_MAGIC, 0x40, struct mni_test_freeing)

#endif /* _MNI_TEST_UAPI_H */
