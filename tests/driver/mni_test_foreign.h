/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_test_foreign.h - the kernel's own interval notifier engine, reached
 * from a file that does not include mni_compat.h (mni flavour only).
 */
#ifndef _MNI_TEST_FOREIGN_H
#define _MNI_TEST_FOREIGN_H

struct mm_struct;
struct mmu_interval_notifier;

int mni_test_foreign_insert(struct mmu_interval_notifier *sub,
			    struct mm_struct *mm, unsigned long start,
			    unsigned long length);
void mni_test_foreign_remove(struct mmu_interval_notifier *sub);

#endif /* _MNI_TEST_FOREIGN_H */
