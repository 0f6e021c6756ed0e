// SPDX-License-Identifier: GPL-2.0
/*
 * util.c - process, memory and clock helpers of the mni TAP suites, see
 * util.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
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

bool device_ready(struct mni_test_info *info)
{
	int fd = open(dev_path, O_RDWR | O_CLOEXEC), ret;

	if (fd < 0) {
		printf("Bail out! open %s: %s\n", dev_path, strerror(errno));
		return false;
	}
	ret = mirror_info(fd, info);
	close(fd);
	if (ret || info->page_size != psz) {
		printf("Bail out! INFO on %s: %s\n", dev_path,
		       ret ? strerror(-ret) : "page size mismatch");
		return false;
	}
	printf("# %s: %s engine\n", dev_path,
	       info->engine == MNI_TEST_ENGINE_KERN ? "kernel" : "mni");
	return true;
}

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
