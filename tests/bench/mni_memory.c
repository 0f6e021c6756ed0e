// SPDX-License-Identifier: GPL-2.0
/*
 * mni_memory.c - kernel memory an engine costs per mm and per subscription
 *
 * Usage: mni_memory DEV [MMS [SUBS]]
 *
 * Per mm: MMS children each open DEV and pause (the baseline), then MMS
 * children each open DEV, insert one bare subscription (BENCH_ADD: no
 * mirror table, no log) and pause. The difference of the kernel's slab,
 * per-CPU and vmalloc memory between the two rounds, over MMS, is what the
 * first subscription of an mm costs: the engine's per-mm state (ours:
 * struct mni_mm, its spare records, its debugfs file; both: the core's
 * per-mm notifier state) plus the driver's one-entry array, the same for
 * both drivers.
 *
 * Per subscription: one process inserts SUBS more bare subscriptions (one
 * BENCH_ADD) into an mm that has one already; the difference over SUBS:
 * the engine's cost plus the driver's struct, the same for both.
 *
 * Before each reading the per-CPU vmstat deltas are folded
 * (/proc/sys/vm/stat_refresh), so the counters are exact up to the
 * allocations of whatever else runs.
 *
 * Prints "csv,memory,<engine>,<possible cpus>,per_mm|per_sub,<bytes>"
 * lines for tests/qemu/memory.sh, and TAP: each figure must be above
 * -256 bytes (reading noise) and below a bound that no sane engine
 * reaches (64 KiB per mm, 8 KiB per subscription, the driver's structs
 * included), so a broken reading fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mni_test_uapi.h"
#include "util.h"

static int passed, failed;

static void result(int ok, const char *what)
{
	printf("%sok %d %s\n", ok ? "" : "not ", passed + failed + 1, what);
	if (ok)
		passed++;
	else
		failed++;
}

/* @count bare one-page subscriptions from @addr on, through @fd. */
static int add_bare(int fd, void *addr, unsigned long count)
{
	struct mni_test_bench_set set = {
		.addr = (uintptr_t)addr, .len = 4096, .stride = 4096,
		.count = count,
	};

	return ioctl(fd, MNI_TEST_IOC_BENCH_ADD, &set);
}

/* Until the frees of earlier teardowns are done (MNI_TEST_IOC_SETTLE). */
static void settle(int fd)
{
	if (ioctl(fd, MNI_TEST_IOC_SETTLE)) {
		printf("Bail out! SETTLE: %s\n", strerror(errno));
		exit(2);
	}
}

/*
 * MMS children, each with DEV open and (@sub) one subscription, all alive
 * while the parent reads the counters. Return: the reading, or -1.
 */
static long long round_of(const char *dev, int mms, int sub)
{
	int ready[2], hold[2], i, ok = 1;
	long long bytes;
	char c;

	if (pipe(ready) || pipe(hold))
		return -1;
	for (i = 0; i < mms; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (!pid) {
			char *p;
			int fd;

			/* Only the parent's end may keep hold[] open. */
			close(hold[1]);
			close(ready[0]);
			fd = open(dev, O_RDWR);
			p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			c = fd >= 0 && p != MAP_FAILED &&
			    (!sub || !add_bare(fd, p, 1)) ? 'y' : 'n';
			if (write(ready[1], &c, 1) != 1)
				_exit(1);
			/* Until the parent has read the counters. */
			if (read(hold[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
	}
	close(hold[0]);
	for (i = 0; i < mms; i++)
		if (read(ready[0], &c, 1) != 1 || c != 'y')
			ok = 0;
	bytes = kernel_bytes();
	close(hold[1]);
	while (wait(NULL) > 0)
		;
	close(ready[0]);
	close(ready[1]);
	return ok ? bytes : -1;
}

int main(int argc, char **argv)
{
	int mms = argc > 2 ? atoi(argv[2]) : 1000;
	int subs = argc > 3 ? atoi(argv[3]) : 50000;
	long long b0, b1, base, per_mm, per_sub;
	struct mni_test_info info;
	const char *engine;
	char *area;
	int fd, fd2;
	long cpus;

	if (argc < 2 || mms < 1 || subs < 1) {
		fprintf(stderr, "usage: mni_memory DEV [MMS [SUBS]]\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || ioctl(fd, MNI_TEST_IOC_INFO, &info)) {
		printf("Bail out! %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	engine = info.engine == MNI_TEST_ENGINE_MNI ? "mni" : "kern";
	cpus = sysconf(_SC_NPROCESSORS_CONF);
	printf("TAP version 13\n1..2\n");
	printf("# %s engine, %ld possible CPUs, %d mms, %d subscriptions\n",
	       engine, cpus, mms, subs);

	/*
	 * Warm up the slabs both rounds use, then take the two rounds, each
	 * after the frees of the one before are done: an engine that puts
	 * its notifiers frees them, and their mms, a grace period later.
	 */
	round_of(argv[1], mms, 1);
	settle(fd);
	b0 = round_of(argv[1], mms, 0);
	settle(fd);
	b1 = round_of(argv[1], mms, 1);
	per_mm = b0 < 0 || b1 < 0 ? -1 : (b1 - b0) / mms;
	printf("csv,memory,%s,%ld,per_mm,%lld\n", engine, cpus, per_mm);
	printf("# per mm (first subscription, the driver's included): %lld bytes\n",
	       per_mm);
	result(per_mm > -256 && per_mm < 65536,
	       "bytes per mm within (-256, 64 KiB)");

	/* Address space only: an insert needs no pages. */
	area = mmap(NULL, (size_t)(subs + 1) * 4096, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	fd2 = open(argv[1], O_RDWR);
	per_sub = -1;
	if (area != MAP_FAILED && fd2 >= 0 && !add_bare(fd2, area, 1)) {
		base = kernel_bytes();
		if (!add_bare(fd, area + 4096, subs))
			per_sub = (kernel_bytes() - base) / subs;
	}
	printf("csv,memory,%s,%ld,per_sub,%lld\n", engine, cpus, per_sub);
	printf("# per subscription (the driver's struct included): %lld bytes\n",
	       per_sub);
	result(per_sub > -256 && per_sub < 8192,
	       "bytes per subscription within (-256, 8 KiB)");
	close(fd);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
