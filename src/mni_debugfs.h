/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_debugfs.h - debugfs view of the registry: a summary and one file
 * per registered mm
 */
#ifndef _MNI_DEBUGFS_H
#define _MNI_DEBUGFS_H

#include <linux/workqueue.h>

struct mni_mm;

int mni_debugfs_init(void);
void mni_debugfs_exit(void);
void mni_debugfs_update(struct mni_mm *mmm);
void mni_debugfs_work(struct work_struct *work);

#endif /* _MNI_DEBUGFS_H */
