#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# DKMS POST_BUILD step (see dkms.conf), run from DKMS's build directory:
#   dkms-post-build.sh DKMS_TREE PACKAGE_NAME PACKAGE_VERSION KERNELVER ARCH
#
# Keeps the Module.symvers of the build beside the built module, in
#   DKMS_TREE/PACKAGE_NAME/PACKAGE_VERSION/KERNELVER/ARCH/module/
# which DKMS_TREE/PACKAGE_NAME/kernel-KERNELVER-ARCH links to once the
# module is installed (dkms >= 3.1.3 keeps it there itself). Consumers point
# KBUILD_EXTRA_SYMBOLS at it through /usr/share/mmu-interval-notifier/mni.mk.
# `dkms remove` deletes it with the rest of that directory.
set -eu

if [ $# -ne 5 ]; then
	echo "dkms-post-build.sh: usage: DKMS_TREE PACKAGE_NAME PACKAGE_VERSION KERNELVER ARCH" >&2
	exit 2
fi
dest=$1/$2/$3/$4/$5/module

if [ ! -s Module.symvers ]; then
	echo "dkms-post-build.sh: no Module.symvers in $(pwd)" >&2
	exit 1
fi
mkdir -p "$dest"
cp -f Module.symvers "$dest/Module.symvers"
echo "Kept Module.symvers in $dest"
