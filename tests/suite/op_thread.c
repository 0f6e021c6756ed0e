// SPDX-License-Identifier: GPL-2.0
/*
 * op_thread.c - one ioctl or mm operation run in a thread of its own, see
 * op_thread.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "op_thread.h"
#include "tap.h"

static void *op_thread_main(void *arg)
{
	struct op_thread *t = arg;
	char c;

	if (t->gated && read(t->gate[0], &c, 1) != 1) {
		t->ret = -EPIPE;
		return NULL;
	}
	t->ret = t->op(t);
	return NULL;
}

int op_dontneed(struct op_thread *t)
{
	return madvise(t->addr, t->len, MADV_DONTNEED) ? -errno : 0;
}

int op_munmap(struct op_thread *t)
{
	return munmap(t->addr, t->len) ? -errno : 0;
}

void op_start(struct op_thread *t)
{
	int ret;

	if (t->gated)
		CHECK(pipe(t->gate) == 0, "pipe: %s", strerror(errno));
	ret = pthread_create(&t->tid, NULL, op_thread_main, t);
	CHECK(!ret, "pthread_create: %s", strerror(ret));
}

void op_go(struct op_thread *t)
{
	CHECK(write(t->gate[1], "", 1) == 1, "write: %s", strerror(errno));
}

void op_join(struct op_thread *t)
{
	pthread_join(t->tid, NULL);
	CHECK(t->ret == 0, "operation in thread failed: %s", strerror(-t->ret));
}
