/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_test_freeing.h - FREEING: a subscription whose release frees it at
 * once, put by its own UNMAP callback while a reader sleeps on it (mni
 * flavour only; the kernel's engine has no put).
 */
#ifndef _MNI_TEST_FREEING_H
#define _MNI_TEST_FREEING_H

struct mni_test_freeing;

long mni_test_ioc_freeing(struct mni_test_freeing __user *uarg);

#endif /* _MNI_TEST_FREEING_H */
