// SPDX-License-Identifier: GPL-2.0
/* mni_test_mni.ko: mni_test.c against mmu_interval_notifier.ko (see Kbuild). */
#include "mni_test.c"
