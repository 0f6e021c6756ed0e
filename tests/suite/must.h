/* SPDX-License-Identifier: GPL-2.0 */
/*
 * must.h - mirror device calls that must succeed, and their logs shown
 *
 * The mirror.h wrappers as a test uses them: a call that fails ends the
 * test through CHECK() with what was asked and the errno. Shared by
 * mni_suite, mni_triggers and mni_observe (mni_demo, outside the TAP
 * harness, calls mirror.h itself).
 */
#ifndef MNI_MUST_H
#define MNI_MUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mirror.h"

/* Subscribe [addr, addr + len) with MNI_TEST_ADD_* flags; its id. */
uint64_t must_add(int fd, void *addr, size_t len, uint64_t flags);
void must_del(int fd, uint64_t id);
/* Mirror n pages from addr; all n must end up mirrored. */
struct mni_test_fault must_fault(int fd, uint64_t id, void *addr, size_t n,
				 uint64_t flags);
/* The subscription's callback log, emptied afterwards when clear. */
void get_log(int fd, uint64_t id, bool clear, struct mni_test_log *log);
/* A log as TAP diagnostics, headed by what: one line per entry. */
void dump_log(const char *what, const struct mni_test_log *log);

/*
 * Poll until the mirror's log holds at least one entry (an invalidation
 * has reached the callback) and return when the callback was entered, in
 * now_ms() time (both are CLOCK_MONOTONIC).
 */
double wait_for_call(int fd, uint64_t id);

#endif /* MNI_MUST_H */
