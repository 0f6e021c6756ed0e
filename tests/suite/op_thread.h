/* SPDX-License-Identifier: GPL-2.0 */
/*
 * op_thread.h - one ioctl or mm operation run in a thread of its own
 *
 * A test starts the operation, lets it block (in a driver callback that
 * sleeps, say) and meanwhile checks what others see, then joins it. A
 * gated thread runs its operation only once op_go() opens its gate.
 *
 * While a callback sleeps under an mm operation that holds mmap_lock,
 * nothing may take that lock for write: create the threads before (their
 * stacks are mmap()ed), and do not let malloc() grow the heap meanwhile.
 */
#ifndef MNI_OP_THREAD_H
#define MNI_OP_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct op_thread {
	pthread_t tid;
	int (*op)(struct op_thread *t);	/* 0 or -errno */
	int fd;				/* for the op */
	uint64_t id;			/* for the op */
	char *addr;			/* for the op */
	size_t len;			/* for the op */
	bool gated;			/* wait for op_go() */
	int gate[2];			/* op_go() writes, the thread reads */
	int ret;			/* what op returned */
};

/*
 * MADV_DONTNEED of [addr, addr + len). It holds mmap_lock for read only:
 * while its callback sleeps the test can still page-fault (its stack, its
 * buffers). mprotect would hold it for write and stall every fault of the
 * test until it ends.
 */
int op_dontneed(struct op_thread *t);
/* munmap of [addr, addr + len): an UNMAP invalidation, mmap_lock held. */
int op_munmap(struct op_thread *t);

void op_start(struct op_thread *t);
/* Open a gated thread's gate. */
void op_go(struct op_thread *t);
/* Wait for the thread; its operation must have returned 0. */
void op_join(struct op_thread *t);

#endif /* MNI_OP_THREAD_H */
