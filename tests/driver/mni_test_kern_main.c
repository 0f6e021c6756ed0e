// SPDX-License-Identifier: GPL-2.0
/* mni_test_kern.ko: mni_test.c against the kernel's own engine. */
#include "mni_test.c"
