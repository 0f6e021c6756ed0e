# SPDX-License-Identifier: GPL-2.0
#
# Included by the Kbuild files of the module and of the test driver: the
# answers to the kernel API questions of scripts/probe/, for the kernel
# being built against, in src/mni_config.h (see scripts/mni-config.sh).
# The includer sets mni_src and mni_obj (the top of this tree, source and
# build side) and mni_config_users (the objects whose sources include
# src/mni_kcompat.h).
#
# The generator runs every time (FORCE) but compiles the probes only when
# the kernel, the compiler or the probes changed; otherwise it leaves the
# header alone, so nothing rebuilds.

mni_config := $(mni_obj)/src/mni_config.h

$(mni_config): FORCE
	$(Q)MNI_QUIET=$(quiet) $(CONFIG_SHELL) $(mni_src)/scripts/mni-config.sh $@ \
		$(abspath $(objtree)) $(abspath $(srctree)) \
		CC="$(CC)" ARCH="$(ARCH)" \
		$(if $(CROSS_COMPILE),CROSS_COMPILE="$(CROSS_COMPILE)") \
		$(if $(LLVM),LLVM="$(LLVM)")

$(mni_config_users): $(mni_config)
