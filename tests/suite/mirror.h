/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mirror.h - userspace side of the mni_test mirror device
 *
 * Thin ioctl wrappers: each returns 0 or -errno. Shared by the TAP suites
 * and the demo (samples/demo/mni_demo.c).
 */
#ifndef MNI_MIRROR_H
#define MNI_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mni_test_uapi.h"

int mirror_info(int fd, struct mni_test_info *info);
int mirror_add(int fd, void *addr, size_t len, uint64_t flags, uint64_t *id);
int mirror_del(int fd, uint64_t id);
int mirror_fault(int fd, uint64_t id, void *addr, size_t npages,
		 uint64_t flags, struct mni_test_fault *out);
int mirror_read(int fd, uint64_t id, void *addr, size_t npages, void *buf,
		uint8_t *state, uint64_t *mirrored);
int mirror_log(int fd, uint64_t id, bool clear, struct mni_test_log *log);
int mirror_seq_begin(int fd, uint64_t id, uint64_t *seq);
int mirror_seq_retry(int fd, uint64_t id, uint64_t seq, bool *retry);
/* mni's killable (timeout_ms -1) or timed read_begin; *engine_ret its result. */
int mirror_seq_wait(int fd, uint64_t id, int64_t timeout_ms, uint64_t *seq,
		    int64_t *engine_ret);
int mirror_hold(int fd, uint64_t id, unsigned int msecs);
int mirror_slow(int fd, uint64_t id, unsigned int msecs);
int mirror_spin(int fd, uint64_t id, unsigned int msecs);
int mirror_release_remove(int fd);
int mirror_grab_mm(int fd);
int mirror_check(int fd, uint64_t kind, uint64_t addr, uint64_t len,
		 int64_t *ret);

/* "UNMAP", "CLEAR", ... for MNI_TEST_EV_* */
const char *mirror_event_name(uint64_t event);

#endif /* MNI_MIRROR_H */
