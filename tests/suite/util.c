// SPDX-License-Identifier: GPL-2.0
/*
 * util.c - process, memory and clock helpers of the mni TAP suites, see
 * util.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mirror.h"
#include "tap.h"
#include "util.h"

const char *dev_path;
size_t psz;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

double now_ms(void)
{
	return now_ns() / 1e6;
}

int open_dev(void)
{
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);

	CHECK(fd >= 0, "open %s: %s", dev_path, strerror(errno));
	return fd;
}

/* The suites' info: what suite_enter() read, for the running test. */
static struct mni_test_info *suite_info;

enum tap_result suite_enter(const struct tap_variant *v, char *why,
			    size_t len)
{
	int fd, ret;

	dev_path = v->dev;
	fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "open %s: %s", dev_path, strerror(errno));
		return TAP_FAIL;
	}
	ret = mirror_info(fd, suite_info);
	close(fd);
	if (ret || suite_info->page_size != psz) {
		snprintf(why, len, "INFO on %s: %s", dev_path,
			 ret ? strerror(-ret) : "page size mismatch");
		return TAP_FAIL;
	}
	printf("# %s: %s engine\n", dev_path,
	       suite_info->engine == MNI_TEST_ENGINE_KERN ? "kernel" : "mni");
	return TAP_PASS;
}

bool device_ready(struct mni_test_info *info)
{
	struct tap_variant v = { .dev = dev_path };
	char why[512];

	suite_info = info;
	if (suite_enter(&v, why, sizeof(why)) == TAP_PASS)
		return true;
	printf("Bail out! %s\n", why);
	return false;
}

struct dev_pages_data dp = { .fd = -1 };

static void dev_pages_setup(void)
{
	dp.fd = open_dev();
	dp.n = tap_arg;
	dp.p = dp.n ? map_pages(dp.n) : NULL;
}

static void dev_pages_teardown(void)
{
	/* Subscriptions left on the fd are released with the mm alive. */
	CHECK(close(dp.fd) == 0, "close %s: %s", dev_path, strerror(errno));
	if (dp.p)
		munmap(dp.p, dp.n * psz);
}

const struct tap_fixture dev_pages = {
	.setup = dev_pages_setup,
	.teardown = dev_pages_teardown,
};

char *map_pages(size_t n)
{
	char *p = mmap(NULL, n * psz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED, "mmap %zu pages: %s", n, strerror(errno));
	madvise(p, n * psz, MADV_NOHUGEPAGE);
	return p;
}

uint8_t pat(unsigned int salt, size_t i)
{
	return (uint8_t)((salt * 37 + i * 11) % 251 + 1);
}

void fill(char *p, size_t n, unsigned int salt)
{
	size_t i;

	for (i = 0; i < n; i++)
		memset(p + i * psz, pat(salt, i), psz);
}

pid_t fork_child(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	return pid;
}

void wait_child_ok(pid_t pid)
{
	int status;

	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child failed (wait status 0x%x)", status);
}

void wait_task_state_d(pid_t pid)
{
	char path[64], buf[512];
	double t0 = now_ms();

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (;;) {
		int fd = open(path, O_RDONLY);
		ssize_t n;
		char *r;

		CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		r = strrchr(buf, ')');
		if (r && r[1] == ' ' && r[2] == 'D')
			return;
		CHECK(now_ms() - t0 < 10000, "child never blocked in the driver");
		usleep(1000);
	}
}

int pidfd_open_and_kill(pid_t pid)
{
	int pidfd = syscall(__NR_pidfd_open, pid, 0);

	if (pidfd < 0 && errno == ENOSYS) {
		kill(pid, SIGKILL);
		tap_skip("no pidfd_open(2)");
	}
	CHECK(pidfd >= 0, "pidfd_open: %s", strerror(errno));
	CHECK(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
	return pidfd;
}

long process_mrelease_or_skip(int pidfd)
{
	long ret = syscall(__NR_process_mrelease, pidfd, 0);

	if (ret < 0 && errno == ENOSYS)
		tap_skip("no process_mrelease(2)");
	return ret;
}

const struct tap_variant suite_engines[2] = { SUITE_KERN, SUITE_MNI };

int suite_main_variants(int argc, char **argv, struct mni_test_info *info,
			const struct tap_test *tests, unsigned int ntests,
			const struct tap_variant *variants,
			unsigned int nvariants, bool compare)
{
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		tap_list(tests, ntests);
		return 0;
	}
	if (argc >= 2 && argv[1][0] == '-') {
		tap_usage(argv[0], tests, ntests);
		return 2;
	}
	psz = sysconf(_SC_PAGESIZE);
	suite_info = info;
	if (argc >= 2 && argv[1][0] == '/') {
		dev_path = argv[1];
		if (!device_ready(info))
			return 2;
		return tap_run(tests, ntests, argv + 2, argc - 2) ? 1 : 0;
	}
	return tap_run_variants(tests, ntests, variants, nvariants, compare,
				argv + 1, argc - 1) ? 1 : 0;
}

int suite_main(int argc, char **argv, struct mni_test_info *info,
	       const struct tap_test *tests, unsigned int ntests)
{
	return suite_main_variants(argc, argv, info, tests, ntests,
				   suite_engines, ARRAY_SIZE(suite_engines),
				   true);
}

bool kernel_at_least(unsigned int major, unsigned int minor)
{
	unsigned int ma, mi;
	struct utsname u;

	CHECK(uname(&u) == 0, "uname: %s", strerror(errno));
	CHECK(sscanf(u.release, "%u.%u", &ma, &mi) == 2,
	      "kernel release %s", u.release);
	return ma > major || (ma == major && mi >= minor);
}

bool kernel_proves_locking(void)
{
	/* Only a CONFIG_PROVE_LOCKING kernel has lockdep's chains file. */
	return access("/proc/lockdep_chains", F_OK) == 0;
}

char *slurp(const char *path)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !buf) {
		int err = errno;

		free(buf);
		if (fd >= 0)
			close(fd);
		errno = err;
		return NULL;
	}
	for (;;) {
		if (cap - len < 2048) {
			char *nb = realloc(buf, cap *= 2);

			CHECK(nb, "out of memory");
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

char *must_slurp(const char *path)
{
	char *s = slurp(path);

	CHECK(s, "read %s: %s", path, strerror(errno));
	return s;
}

uint64_t kv(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *l;

	for (l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, key, klen) && l[klen] == ':' && l[klen + 1] == ' ')
			return strtoull(l + klen + 2, NULL, 10);
	tap_diag("%s", text);
	FAIL("no '%s:' line in the text above", key);
}

struct engine_summary read_engine_summary(void)
{
	char *t = must_slurp(MNI_DEBUGFS "/summary");
	struct engine_summary s = {
		.mms = kv(t, "mms"),
		.subs = kv(t, "subscriptions"),
		.in_flight = kv(t, "in_flight"),
		.invalidations = kv(t, "invalidations"),
		.callbacks = kv(t, "callbacks"),
		.refused = kv(t, "callbacks_refused"),
		.no_record = kv(t, "no_record"),
	};

	free(t);
	return s;
}

/*
 * Free the empty slabs each cache keeps for reuse: how many it keeps
 * depends on what was freed before, not on what is allocated now, and a
 * cache of large objects keeps tens of KiB per slab.
 */
static void shrink_slab_caches(void)
{
	char path[512];
	struct dirent *d;
	DIR *dir;
	int fd;

	dir = opendir("/sys/kernel/slab");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 d->d_name);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (write(fd, "1", 1) != 1)
			perror(path);
		close(fd);
	}
	closedir(dir);
}

long long kernel_bytes(void)
{
	long long kb, sum = 0;
	char line[128];
	FILE *f;
	int fd;

	usleep(1500 * 1000);
	shrink_slab_caches();
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			perror("stat_refresh");
		close(fd);
	}
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %lld kB", &kb) == 1 ||
		    sscanf(line, "Percpu: %lld kB", &kb) == 1 ||
		    sscanf(line, "VmallocUsed: %lld kB", &kb) == 1)
			sum += kb * 1024;
	fclose(f);
	return sum;
}
