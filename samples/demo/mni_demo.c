// SPDX-License-Identifier: GPL-2.0
/*
 * mni_demo.c - watch a device mirror follow a process's memory
 *
 * usage: mni_demo [DEVICE]	(default /dev/mni_test_mni)
 *
 * Mirrors a small buffer through the test device the way a GPU or RDMA
 * driver would, then changes the buffer's mappings from the CPU side and
 * tells, in plain words, which invalidations the device saw and what its
 * mirror holds afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mirror.h"

#define NPAGES	8

static size_t psz;
static char *buf;

static const char *event_words(uint64_t event)
{
	switch (event) {
	case MNI_TEST_EV_UNMAP:
		return "the range was unmapped (munmap, mremap)";
	case MNI_TEST_EV_CLEAR:
		return "page table entries were cleared (zap, COW)";
	case MNI_TEST_EV_PROTECTION_VMA:
		return "the protection of the mapping changed (mprotect)";
	case MNI_TEST_EV_PROTECTION_PAGE:
		return "pages were write-protected (fork)";
	case MNI_TEST_EV_RELEASE:
		return "the address space is going away (exit)";
	default:
		return mirror_event_name(event);
	}
}

static void die(const char *what, int err)
{
	fprintf(stderr, "mni_demo: %s: %s\n", what, strerror(err));
	exit(1);
}

/* Describe [start, end) in pages of the NPAGES-page buffer at base. */
static void page_range(uint64_t base, uint64_t start, uint64_t end, char *out,
		       size_t len)
{
	uint64_t first, last;

	if (start == 0 && end == UINT64_MAX) {
		snprintf(out, len, "the whole address space");
		return;
	}
	if (end <= base || start >= base + NPAGES * psz) {
		snprintf(out, len, "outside the buffer");
		return;
	}
	first = start > base ? (start - base) / psz : 0;
	last = end < base + NPAGES * psz ? (end - base - 1) / psz : NPAGES - 1;
	if (start <= base && end >= base + NPAGES * psz)
		snprintf(out, len, "the whole buffer (pages 0-%d)", NPAGES - 1);
	else if (first == last)
		snprintf(out, len, "page %llu", (unsigned long long)first);
	else
		snprintf(out, len, "pages %llu-%llu", (unsigned long long)first,
			 (unsigned long long)last);
}

/* Print and forget what the device's callback saw since last time. */
static void show_invalidations(int fd, uint64_t id, const void *base)
{
	struct mni_test_log log;
	uint64_t i;
	int ret = mirror_log(fd, id, true, &log);

	if (ret)
		die("LOG", -ret);
	if (!log.count) {
		printf("   device: no invalidation reached me\n");
		return;
	}
	for (i = 0; i < log.count; i++) {
		const struct mni_test_log_entry *e = &log.entry[i];
		char where[64];

		page_range((uintptr_t)base, e->start, e->end, where,
			   sizeof(where));
		printf("   device: invalidation of %s: %s%s\n", where,
		       event_words(e->event),
		       e->flags & MNI_TEST_LOG_BLOCKABLE ? "" :
		       " [could not sleep]");
	}
}

static void show_mirror(int fd, uint64_t id)
{
	static char data[NPAGES * 65536];
	uint8_t state[NPAGES];
	uint64_t mirrored;
	int ret, i;

	ret = mirror_read(fd, id, buf, NPAGES, data, state, &mirrored);
	if (ret)
		die("READ", -ret);
	printf("   mirror: ");
	for (i = 0; i < NPAGES; i++) {
		if (state[i] == MNI_TEST_PAGE_ABSENT)
			printf("[ -- ]");
		else
			printf("[%c %c ]", data[i * psz] ? data[i * psz] : '0',
			       state[i] == MNI_TEST_PAGE_WRITE ? 'w' : 'r');
	}
	printf("  %llu of %d\n", (unsigned long long)mirrored, NPAGES);
}

static void fault_all(int fd, uint64_t id, const char *why)
{
	struct mni_test_fault f = { 0 };
	int ret = mirror_fault(fd, id, buf, NPAGES, 0, &f);

	if (ret)
		die("FAULT", -ret);
	printf("   device: faulted the buffer in %s: %llu pages, %llu retries\n",
	       why, (unsigned long long)f.pages,
	       (unsigned long long)f.retries);
}

/*
 * The subscription belongs to the open file, which the parent shares: it
 * can still read what the child's exit did, and remove the subscription.
 */
static void child_exits(int fd)
{
	uint64_t msg[2] = { 0 };
	int pfd[2], status;
	pid_t pid;

	if (pipe(pfd))
		die("pipe", errno);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (!pid) {
		char *p = mmap(NULL, NPAGES * psz, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		msg[1] = (uintptr_t)p;
		if (p == MAP_FAILED ||
		    mirror_add(fd, p, NPAGES * psz, 0, &msg[0]) ||
		    mirror_fault(fd, msg[0], p, NPAGES, MNI_TEST_FAULT_WRITE,
				 NULL) ||
		    write(pfd[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(1);
		printf("   child: my %d pages are mirrored; exiting\n", NPAGES);
		fflush(stdout);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], msg, sizeof(msg)) != sizeof(msg) ||
	    waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		die("child", ECHILD);
	close(pfd[0]);
	show_invalidations(fd, msg[0], (void *)(uintptr_t)msg[1]);
	if (mirror_del(fd, msg[0]))
		die("DEL of the child's mirror", errno);
	printf("   device: removed the dead child's subscription\n");
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/mni_test_mni";
	struct mni_test_info info;
	uint64_t id;
	int fd, ret, i;

	psz = sysconf(_SC_PAGESIZE);
	fd = open(dev, O_RDWR);
	if (fd < 0)
		die(dev, errno);
	ret = mirror_info(fd, &info);
	if (ret)
		die("INFO", -ret);
	printf("mni_demo: %s, built against %s\n", dev,
	       info.engine == MNI_TEST_ENGINE_MNI ? "mmu_interval_notifier.ko" :
	       "the kernel's own interval notifiers");
	printf("(mirror: one box per page, with its first byte and w/r for the\n"
	       " access the device was given; -- is a page it no longer maps)\n\n");

	buf = mmap(NULL, NPAGES * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap", errno);
	for (i = 0; i < NPAGES; i++)
		memset(buf + i * psz, 'A' + i, psz);

	printf("1. The CPU fills an %d-page buffer with A..H; the device subscribes to it.\n",
	       NPAGES);
	ret = mirror_add(fd, buf, NPAGES * psz, 0, &id);
	if (ret)
		die("ADD", -ret);
	fault_all(fd, id, "with hmm_range_fault()");
	show_mirror(fd, id);

	printf("\n2. The CPU makes pages 2-3 read-only (mprotect).\n");
	if (mprotect(buf + 2 * psz, 2 * psz, PROT_READ))
		die("mprotect", errno);
	show_invalidations(fd, id, buf);
	show_mirror(fd, id);
	fault_all(fd, id, "again");
	show_mirror(fd, id);

	printf("\n3. The CPU unmaps pages 5-6 (munmap).\n");
	if (munmap(buf + 5 * psz, 2 * psz))
		die("munmap", errno);
	show_invalidations(fd, id, buf);
	show_mirror(fd, id);

	printf("\n4. The CPU maps new memory there and writes X into it.\n");
	if (mmap(buf + 5 * psz, 2 * psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		die("mmap", errno);
	memset(buf + 5 * psz, 'X', 2 * psz);
	show_invalidations(fd, id, buf);
	fault_all(fd, id, "again");
	show_mirror(fd, id);

	printf("\n5. The CPU drops page 0 (madvise MADV_DONTNEED).\n");
	if (madvise(buf, psz, MADV_DONTNEED))
		die("madvise", errno);
	show_invalidations(fd, id, buf);
	show_mirror(fd, id);

	printf("\n6. A child process mirrors a buffer of its own, then exits.\n");
	child_exits(fd);

	printf("\n7. The device unsubscribes; later changes no longer reach it.\n");
	ret = mirror_del(fd, id);
	if (ret)
		die("DEL", -ret);
	if (munmap(buf, NPAGES * psz))
		die("munmap", errno);
	printf("   device: unsubscribed, buffer unmapped, nothing to tell\n");

	close(fd);
	printf("\nmni_demo: done\n");
	return 0;
}
