# SPDX-License-Identifier: GPL-2.0
#
# mni.mk - kbuild fragment for modules that use mmu_interval_notifier.ko
# Installed as /usr/share/mmu-interval-notifier/mni.mk by the package
# mmu-interval-notifier-dkms.
#
# In the consumer's Kbuild file (or the kbuild half of its Makefile):
#
#     include /usr/share/mmu-interval-notifier/mni.mk
#     obj-m += mydriver.o
#
# in its C code:  #include <mni_compat.h>  (or <mni.h>)  and  MNI_IMPORT_NS();
# in its dkms.conf:  BUILD_DEPENDS=("mmu-interval-notifier")
#
# For the kernel being built (KERNELRELEASE) it adds
#   KBUILD_EXTRA_SYMBOLS += <dkms tree>/mmu-interval-notifier/kernel-<release>-<arch>/module/Module.symvers
#       (kept there by the module's DKMS POST_BUILD step; the
#       kernel-<release>-<arch> link exists while the module is installed
#       for that kernel)
#   ccflags-y += -I<dkms tree>/mmu-interval-notifier/<version>/source/include
#       (the headers of that same installed version, that is
#       /usr/src/mmu-interval-notifier-<version>/include)
# and stops with a message naming the missing piece when there is none.
#
# Optional variables (make command line):
#   MNI_DKMS_TREE  the DKMS tree (default /var/lib/dkms); dkms.conf: ${dkms_tree}
#   MNI_KVER       kernel release (default KERNELRELEASE); dkms.conf: ${kernelver}
#   MNI_ARCH       DKMS arch (default: the one kernel-<release>-* link found);
#                  dkms.conf: ${arch}
#   MNI_SYMVERS    use this Module.symvers instead of DKMS's, e.g. that of
#                  a build tree of the module: MNI_SYMVERS=<tree>/Module.symvers
#   MNI_INCLUDE    the header directory (default: DKMS's as above, or with
#                  MNI_SYMVERS, the include/ beside it)

MNI_DKMS_TREE ?= /var/lib/dkms
MNI_KVER ?= $(KERNELRELEASE)

# Nothing to look up when kbuild only cleans.
ifeq ($(filter %/Makefile.clean,$(MAKEFILE_LIST)),)

ifeq ($(MNI_SYMVERS),)
mni_links := $(wildcard $(MNI_DKMS_TREE)/mmu-interval-notifier/kernel-$(MNI_KVER)-$(or $(MNI_ARCH),*))
ifeq ($(mni_links),)
$(error mni.mk: mmu-interval-notifier is not installed by DKMS for kernel $(MNI_KVER) (no $(MNI_DKMS_TREE)/mmu-interval-notifier/kernel-$(MNI_KVER)-$(or $(MNI_ARCH),<arch>)); install mmu-interval-notifier-dkms and the headers of that kernel, or run: dkms autoinstall -k $(MNI_KVER))
endif
ifneq ($(words $(mni_links)),1)
$(error mni.mk: several DKMS arches for kernel $(MNI_KVER): $(mni_links); set MNI_ARCH)
endif
mni_dir := $(realpath $(mni_links))
MNI_SYMVERS := $(mni_dir)/module/Module.symvers
ifeq ($(MNI_INCLUDE),)
MNI_INCLUDE := $(realpath $(mni_dir)/../../source/include)
endif
endif
# A build tree of the module has its headers beside its Module.symvers.
ifeq ($(MNI_INCLUDE),)
MNI_INCLUDE := $(dir $(MNI_SYMVERS))include
endif

ifeq ($(wildcard $(MNI_SYMVERS)),)
$(error mni.mk: $(MNI_SYMVERS) does not exist: rebuild mmu-interval-notifier for kernel $(MNI_KVER) with its own dkms.conf, whose POST_BUILD step keeps it)
endif
ifeq ($(wildcard $(MNI_INCLUDE)/mni.h),)
$(error mni.mk: no mni.h in '$(MNI_INCLUDE)': the headers of mmu-interval-notifier are missing (set MNI_INCLUDE))
endif

KBUILD_EXTRA_SYMBOLS += $(MNI_SYMVERS)
ccflags-y += -I$(MNI_INCLUDE)

endif
