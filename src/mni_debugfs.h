/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_debugfs.h - debugfs view of the registry, generated when read: a
 * summary and one file listing every registered mm
 */
#ifndef _MNI_DEBUGFS_H
#define _MNI_DEBUGFS_H

void mni_debugfs_init(void);
void mni_debugfs_exit(void);

#endif /* _MNI_DEBUGFS_H */
