// SPDX-License-Identifier: GPL-2.0
/*
 * mirror.c - ioctl wrappers for the mni_test mirror device, see mirror.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "mirror.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int mirror_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int mirror_info(int fd, struct mni_test_info *info)
{
	memset(info, 0, sizeof(*info));
	return mirror_ioctl(fd, MNI_TEST_IOC_INFO, info);
}

int mirror_add(int fd, void *addr, size_t len, uint64_t flags, uint64_t *id)
{
	struct mni_test_add arg = {
		.addr = (uintptr_t)addr,
		.len = len,
		.flags = flags,
	};
	int ret = mirror_ioctl(fd, MNI_TEST_IOC_ADD, &arg);

	if (!ret)
		*id = arg.id;
	return ret;
}

int mirror_del(int fd, uint64_t id)
{
	struct mni_test_del arg = { .id = id };

	return mirror_ioctl(fd, MNI_TEST_IOC_DEL, &arg);
}

int mirror_fault(int fd, uint64_t id, void *addr, size_t npages,
		 uint64_t flags, struct mni_test_fault *out)
{
	struct mni_test_fault arg = {
		.id = id,
		.addr = (uintptr_t)addr,
		.npages = npages,
		.flags = flags,
		.delay_ms = out ? out->delay_ms : 0,
	};
	int ret = mirror_ioctl(fd, MNI_TEST_IOC_FAULT, &arg);

	if (out)
		*out = arg;
	return ret;
}

int mirror_read(int fd, uint64_t id, void *addr, size_t npages, void *buf,
		uint8_t *state, uint64_t *mirrored)
{
	struct mni_test_read arg = {
		.id = id,
		.addr = (uintptr_t)addr,
		.npages = npages,
		.buf = (uintptr_t)buf,
		.state = (uintptr_t)state,
	};
	int ret = mirror_ioctl(fd, MNI_TEST_IOC_READ, &arg);

	if (!ret && mirrored)
		*mirrored = arg.mirrored;
	return ret;
}

int mirror_log(int fd, uint64_t id, bool clear, struct mni_test_log *log)
{
	memset(log, 0, sizeof(*log));
	log->id = id;
	log->flags = clear ? MNI_TEST_LOG_CLEAR : 0;
	return mirror_ioctl(fd, MNI_TEST_IOC_LOG, log);
}

int mirror_seq_begin(int fd, uint64_t id, uint64_t *seq)
{
	struct mni_test_seq arg = { .id = id };
	int ret = mirror_ioctl(fd, MNI_TEST_IOC_SEQ_BEGIN, &arg);

	if (!ret)
		*seq = arg.seq;
	return ret;
}

int mirror_seq_wait(int fd, uint64_t id, int64_t timeout_ms, uint64_t *seq,
		    int64_t *engine_ret)
{
	struct mni_test_seq_wait arg = { .id = id, .timeout_ms = timeout_ms };
	int ret = mirror_ioctl(fd, MNI_TEST_IOC_SEQ_WAIT, &arg);

	if (!ret) {
		*seq = arg.seq;
		*engine_ret = arg.ret;
	}
	return ret;
}

int mirror_seq_retry(int fd, uint64_t id, uint64_t seq, bool *retry)
{
	struct mni_test_seq arg = { .id = id, .seq = seq };
	int ret = mirror_ioctl(fd, MNI_TEST_IOC_SEQ_RETRY, &arg);

	if (!ret)
		*retry = arg.retry;
	return ret;
}

int mirror_hold(int fd, uint64_t id, unsigned int msecs)
{
	struct mni_test_hold arg = { .id = id, .msecs = msecs };

	return mirror_ioctl(fd, MNI_TEST_IOC_HOLD, &arg);
}

int mirror_slow(int fd, uint64_t id, unsigned int msecs)
{
	struct mni_test_slow arg = { .id = id, .msecs = msecs };

	return mirror_ioctl(fd, MNI_TEST_IOC_SLOW, &arg);
}

int mirror_spin(int fd, uint64_t id, unsigned int msecs)
{
	struct mni_test_slow arg = { .id = id, .msecs = msecs };

	return mirror_ioctl(fd, MNI_TEST_IOC_SPIN, &arg);
}

int mirror_release_remove(int fd)
{
	return mirror_ioctl(fd, MNI_TEST_IOC_RELEASE_REMOVE, NULL);
}

int mirror_grab_mm(int fd)
{
	struct mni_test_grab arg = { 0 };

	return mirror_ioctl(fd, MNI_TEST_IOC_GRAB_MM, &arg);
}

int mirror_check(int fd, uint64_t kind, uint64_t addr, uint64_t len,
		 int64_t *ret)
{
	struct mni_test_check arg = { .kind = kind, .addr = addr, .len = len };
	int r = mirror_ioctl(fd, MNI_TEST_IOC_CHECK, &arg);

	if (!r)
		*ret = arg.ret;
	return r;
}

const char *mirror_event_name(uint64_t event)
{
	static const char *const names[] = {
		[MNI_TEST_EV_UNMAP] = "UNMAP",
		[MNI_TEST_EV_CLEAR] = "CLEAR",
		[MNI_TEST_EV_PROTECTION_VMA] = "PROTECTION_VMA",
		[MNI_TEST_EV_PROTECTION_PAGE] = "PROTECTION_PAGE",
		[MNI_TEST_EV_SOFT_DIRTY] = "SOFT_DIRTY",
		[MNI_TEST_EV_RELEASE] = "RELEASE",
		[MNI_TEST_EV_MIGRATE] = "MIGRATE",
		[MNI_TEST_EV_EXCLUSIVE] = "EXCLUSIVE",
	};

	if (event < ARRAY_SIZE(names))
		return names[event];
	return "?";
}
