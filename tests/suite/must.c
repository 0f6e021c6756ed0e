// SPDX-License-Identifier: GPL-2.0
/*
 * must.c - mirror device calls that must succeed, see must.h.
 */
#include <string.h>
#include <unistd.h>

#include "must.h"
#include "tap.h"
#include "util.h"

uint64_t must_add(int fd, void *addr, size_t len, uint64_t flags)
{
	uint64_t id = 0;
	int ret = mirror_add(fd, addr, len, flags, &id);

	CHECK(!ret, "ADD %p+%#zx flags %#llx: %s", addr, len,
	      (unsigned long long)flags, strerror(-ret));
	return id;
}

void must_del(int fd, uint64_t id)
{
	int ret = mirror_del(fd, id);

	CHECK(!ret, "DEL %llu: %s", (unsigned long long)id, strerror(-ret));
}

struct mni_test_fault must_fault(int fd, uint64_t id, void *addr, size_t n,
				 uint64_t flags)
{
	struct mni_test_fault f = { 0 };
	int ret = mirror_fault(fd, id, addr, n, flags, &f);

	CHECK(!ret, "FAULT %p %zu pages: %s", addr, n, strerror(-ret));
	CHECK(f.pages == n, "FAULT mirrored %llu of %zu pages",
	      (unsigned long long)f.pages, n);
	return f;
}

void get_log(int fd, uint64_t id, bool clear, struct mni_test_log *log)
{
	int ret = mirror_log(fd, id, clear, log);

	CHECK(!ret, "LOG %llu: %s", (unsigned long long)id, strerror(-ret));
}

double wait_for_call(int fd, uint64_t id)
{
	struct mni_test_log log;
	double t0 = now_ms();

	for (;;) {
		get_log(fd, id, false, &log);
		if (log.count)
			return log.entry[0].time_ns / 1e6;
		CHECK(now_ms() - t0 < 10000, "no invalidation reached the callback in 10 s");
		usleep(500);
	}
}

void dump_log(const char *what, const struct mni_test_log *log)
{
	uint64_t i;

	tap_diag("%s: %llu entries, %llu lost, %llu calls", what,
		 (unsigned long long)log->count,
		 (unsigned long long)log->overflow,
		 (unsigned long long)log->calls);
	for (i = 0; i < log->count; i++) {
		static const char *const kinds[] = {
			[MNI_TEST_LOG_INVALIDATE] = "",
			[MNI_TEST_LOG_START] = "start ",
			[MNI_TEST_LOG_FINISH] = "finish ",
		};
		const struct mni_test_log_entry *e = &log->entry[i];

		tap_diag("  #%llu %s%-15s [%#llx, %#llx) %s%s%s seq %#llx",
			 (unsigned long long)e->order,
			 e->kind < ARRAY_SIZE(kinds) ? kinds[e->kind] : "? ",
			 mirror_event_name(e->event),
			 (unsigned long long)e->start,
			 (unsigned long long)e->end,
			 e->flags & MNI_TEST_LOG_BLOCKABLE ? "blockable" :
							     "non-blockable",
			 e->flags & MNI_TEST_LOG_BUSY ? " BUSY" : "",
			 e->flags & MNI_TEST_LOG_COLLIDED ? " COLLIDED" : "",
			 (unsigned long long)e->seq);
	}
}
