/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mni_test_boundary.h - MNI_TEST_IOC_BOUNDARY (mni flavour only), in
 * mni_test_boundary.c.
 */
#ifndef _MNI_TEST_BOUNDARY_H
#define _MNI_TEST_BOUNDARY_H

struct mni_test_boundary;

int mni_test_ioc_boundary(struct mni_test_boundary __user *uarg);

#endif /* _MNI_TEST_BOUNDARY_H */
