// SPDX-License-Identifier: GPL-2.0
/*
 * mni_suite.c - conformance tests for interval notifier engines
 *
 * usage: mni_suite [DEVICE] [TEST...]
 *
 * DEVICE is /dev/mni_test_mni (mmu_interval_notifier.ko) or
 * /dev/mni_test_kern (the kernel's own engine): the same driver source
 * built against each. Every test asserts on what the driver's invalidate
 * callback logged and on what the mirror holds, so an engine that calls
 * too much, too little, with the wrong range or event, or lets a mirror go
 * stale, fails here. The output is TAP. Without DEVICE the tests run on
 * both, then the two-pass ones again on the mni flavour with the kernel's
 * two-pass ops (variant kops-mni, from 7.1), and the harness compares the
 * variants test by test.
 */
#define _GNU_SOURCE
#include "mni_suite.h"


static struct mni_test_info info;

bool engine_is_kern(void)
{
	return info.engine == MNI_TEST_ENGINE_KERN;
}

void snap_free(struct snap *s)
{
	free(s->state);
	free(s->buf);
}

struct snap must_read(int fd, uint64_t id, void *addr, size_t n)
{
	struct snap s = { .n = n };
	int ret;

	s.buf = malloc(n * psz);
	s.state = malloc(n);
	CHECK(s.buf && s.state, "out of memory");
	ret = mirror_read(fd, id, addr, n, s.buf, s.state, &s.mirrored);
	CHECK(!ret, "READ %p %zu pages: %s", addr, n, strerror(-ret));
	return s;
}

/* Is every byte of page i of the snapshot equal to b? */
bool page_is(const struct snap *s, size_t i, uint8_t b)
{
	const uint8_t *p = s->buf + i * psz;
	size_t k;

	for (k = 0; k < psz; k++)
		if (p[k] != b)
			return false;
	return true;
}

/* Page i must be mirrored (any permission) and hold byte b throughout. */
void check_mirrored(const struct snap *s, size_t i, uint8_t b)
{
	CHECK(s->state[i] != MNI_TEST_PAGE_ABSENT,
	      "page %zu is not mirrored", i);
	CHECK(page_is(s, i, b),
	      "page %zu: mirror shows %#x..., the CPU wrote %#x", i,
	      s->buf[i * psz], b);
}

void check_absent(const struct snap *s, size_t i)
{
	CHECK(s->state[i] == MNI_TEST_PAGE_ABSENT,
	      "page %zu is still mirrored (state %u, first byte %#x)", i,
	      s->state[i], s->buf[i * psz]);
}

/*
 * Index of the first entry with this event whose range covers
 * [start, end) and whose flags include all of want_flags, or -1.
 */
int log_find(const struct mni_test_log *log, uint64_t event,
	     const void *start, size_t len, uint64_t want_flags)
{
	uint64_t s = (uintptr_t)start, e = s + len;
	uint64_t i;

	for (i = 0; i < log->count; i++) {
		const struct mni_test_log_entry *x = &log->entry[i];

		if (x->event == event && x->start <= s && x->end >= e &&
		    (x->flags & want_flags) == want_flags)
			return (int)i;
	}
	return -1;
}

/* The log must hold such an entry; dumps it otherwise. */
void expect_event(const struct mni_test_log *log, const char *who,
		  uint64_t event, const void *start, size_t len,
		  uint64_t want_flags)
{
	if (log_find(log, event, start, len, want_flags) >= 0)
		return;
	dump_log(who, log);
	FAIL("%s: no %s entry covering [%p, +%#zx) with flags %#llx", who,
	     mirror_event_name(event), start, len,
	     (unsigned long long)want_flags);
}

/*
 * The OOM reaper and process_mrelease(2) invalidate with UNMAP up to 6.x
 * and with CLEAR from 7.x (zap_vma_for_reaping()): either is a reap.
 */
void expect_reap_event(const struct mni_test_log *log, const char *who,
		       const void *start, size_t len,
		       uint64_t want_flags)
{
	if (log_find(log, MNI_TEST_EV_CLEAR, start, len, want_flags) >= 0)
		return;
	expect_event(log, who, MNI_TEST_EV_UNMAP, start, len, want_flags);
}

/* The engine must only call a subscription for ranges that overlap it. */
void expect_all_overlap(const struct mni_test_log *log,
			const char *who, const void *start, size_t len)
{
	uint64_t s = (uintptr_t)start, e = s + len;
	uint64_t i;

	for (i = 0; i < log->count; i++) {
		if (log->entry[i].start < e && log->entry[i].end > s)
			continue;
		dump_log(who, log);
		FAIL("%s: entry %llu does not overlap the subscription [%p, +%#zx)",
		     who, (unsigned long long)i, start, len);
	}
}

void expect_no_calls(int fd, uint64_t id, const char *who)
{
	struct mni_test_log log;

	get_log(fd, id, false, &log);
	if (log.count == 0 && log.overflow == 0)
		return;
	dump_log(who, &log);
	FAIL("%s: the subscription was called", who);
}

void skip_on_kern(const char *why)
{
	if (engine_is_kern())
		tap_skip_engine("%s", why);
}

/*
 * The driver refuses (EOPNOTSUPP) the checks the kernel's engine cannot
 * survive; a test that gets this far has not skipped on this engine, so a
 * refusal here is a failure.
 */
void check_not_refused(int ret)
{
	CHECK(ret != -EOPNOTSUPP, "the %s flavour refused the check",
	      engine_is_kern() ? "kern" : "mni");
}

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	CHECK(fd >= 0, "open /dev/kmsg: %s", strerror(errno));
	lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Read the records logged since kmsg_open() and count those from the
 * engine: containing "mni", but not printed by our own driver (whose
 * lines start with its module name, "mni_test_..."), and, unless NULL,
 * containing @needle as well (a caller's module name, say).
 */
int kmsg_count_engine(int fd, const char *needle)
{
	char rec[2048];
	int found = 0;

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records, go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (strstr(msg, "mni") && strncmp(msg, "mni_test", 8) &&
		    (!needle || strstr(msg, needle))) {
			tap_diag("kernel log: %s", msg);
			found++;
		}
	}
	return found;
}

int kmsg_count_mni(int fd)
{
	return kmsg_count_engine(fd, NULL);
}

int mirror_update(int fd, uint64_t id, void *addr, size_t len,
		  uint64_t flags)
{
	struct mni_test_update u = {
		.id = id, .addr = (uintptr_t)addr, .len = len, .flags = flags,
	};

	return ioctl(fd, MNI_TEST_IOC_UPDATE, &u) ? -errno : 0;
}

/*
 * Two-pass ops (Linux 7.1+): the mirror's ->invalidate_start logs a START
 * entry and hands back a finish; ->invalidate_finish logs a FINISH entry
 * with the start's range, flags and sequence, and only it clears the
 * mirror (see mni_test_two_pass.c). The mni flavour has mni's own
 * two-pass ops on every kernel; the kernel's engine has them from 7.1, and
 * before that the kernel flavour refuses TWO_PASS.
 */
void require_two_pass(int fd)
{
	uint64_t id;
	int ret;

	if (engine_is_kern() && !kernel_at_least(7, 1))
		tap_skip_engine("the kernel has no two-pass interval notifier ops before Linux 7.1");
	/* Nothing is ever mapped in the first page above 0. */
	ret = mirror_add(fd, (void *)psz, psz,
			 MNI_TEST_ADD_TWO_PASS | MNI_TEST_ADD_NOMIRROR, &id);
	CHECK(!ret, "ADD TWO_PASS: %s", strerror(-ret));
	must_del(fd, id);
}

/* The topics, in the order they run. */
static const struct suite_list *const topics[] = {
	&suite_invalidate, &suite_lifecycle, &suite_retry, &suite_ext,
	&suite_two_pass, &suite_errors, &suite_boundary,
};

#define KOPS_PARAM "/sys/module/mni_test_mni/parameters/two_pass_kern_ops"

/*
 * The tests a driver built for 7.1 against mni_compat.h reaches with the
 * kernel's two-pass ops handed to this engine: each must end as with
 * mni's own.
 */
static const char *const kops_tests[] = {
	"two_pass_unmap_and_dontneed", "two_pass_order_across_subscriptions",
	"two_pass_mixed_with_classic", "two_pass_null_finish",
	"two_pass_exit_release", "two_pass_reap_refused",
	"two_pass_read_begin_waits_finish",
};

static bool kops_has(const struct tap_test *t)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kops_tests); i++)
		if (!strcmp(t->name, kops_tests[i]))
			return true;
	return false;
}

static int kops_set(const char *val)
{
	int fd = open(KOPS_PARAM, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

static enum tap_result kops_enter(const struct tap_variant *v, char *why,
				  size_t len)
{
	enum tap_result r;
	int ret;

	if (access(KOPS_PARAM, F_OK)) {
		snprintf(why, len, "the kernel has no two-pass ops before 7.1");
		return TAP_SKIP;
	}
	r = suite_enter(v, why, len);
	if (r != TAP_PASS)
		return r;
	ret = kops_set("1");
	if (ret) {
		snprintf(why, len, "%s: %s", KOPS_PARAM, strerror(-ret));
		return TAP_FAIL;
	}
	return TAP_PASS;
}

static void kops_leave(const struct tap_variant *v)
{
	int ret = kops_set("0");

	if (ret)
		printf("# %s: %s: %s\n", v->name, KOPS_PARAM, strerror(-ret));
}

static const struct tap_variant variants[] = {
	SUITE_KERN, SUITE_MNI,
	{ .name = "kops-mni", .dev = "/dev/mni_test_mni", .enter = kops_enter,
	  .leave = kops_leave, .has = kops_has },
};

int main(int argc, char **argv)
{
	static struct tap_test tests[128];
	unsigned int i, j, n = 0;

	for (i = 0; i < ARRAY_SIZE(topics); i++)
		for (j = 0; j < topics[i]->ntests; j++) {
			if (n == ARRAY_SIZE(tests)) {
				fprintf(stderr, "more than %zu tests\n",
					ARRAY_SIZE(tests));
				return 2;
			}
			tests[n++] = topics[i]->tests[j];
		}
	return suite_main_variants(argc, argv, &info, tests, n, variants,
				   ARRAY_SIZE(variants), true);
}
