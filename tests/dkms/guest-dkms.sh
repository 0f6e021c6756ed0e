#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-dkms.sh - the load-time half of tests/dkms/run.sh, in the QEMU guest
#
# The host copies /lib/modules/<release>/ of its DKMS chroot (updates/dkms/
# with mmu_interval_notifier.ko and mni_sample_mirror.ko, modules.dep and
# friends from depmod) into the initramfs, and two broken consumers into
# /guest/neg/: mni_noimport.ko (no MNI_IMPORT_NS(), linked as if the kernel
# had MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS) and mni_badcrc.ko (built against a Module.symvers
# with altered CRCs; only for a kernel with CONFIG_MODVERSIONS). Prints
# "ok - ...", "not ok - ..." and "skip - ... # reason" lines (no numbers:
# the host numbers them) and exits non-zero when any failed.

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
loaded() { [ -d "/sys/module/$1" ]; }
# dmesg since the mark, so earlier runs cannot answer for a later one.
mark() { dmesg | wc -l >/tmp/mark; }
since() { dmesg | tail -n +"$(($(cat /tmp/mark) + 1))"; }

rel=$(uname -r)
echo "# guest: kernel $rel"
if [ ! -f "/lib/modules/$rel/modules.dep" ]; then
	nok "modules.dep for $rel present"
	exit 1
fi
echo "# modules.dep, updates/:"
grep '^updates/' "/lib/modules/$rel/modules.dep" | sed 's/^/#   /'

# --- the dependency chain -------------------------------------------------
mark
check "modprobe mni_sample_mirror loads it" modprobe mni_sample_mirror
check "mmu_interval_notifier was loaded automatically as its dependency" \
	loaded mmu_interval_notifier
check "mni_sample_mirror holds mmu_interval_notifier (holders/)" \
	test -e /sys/module/mmu_interval_notifier/holders/mni_sample_mirror
if since | grep -q 'mni_sample_mirror: self-test passed'; then
	ok "the consumer's self-test passed on load (mirror + invalidations)"
else
	nok "the consumer's self-test passed on load: $(since | grep mni_sample_mirror)"
fi
mark
check "the consumer runs its self-test again in this shell's mm" \
	sh -c 'echo 1 >/sys/module/mni_sample_mirror/parameters/run'
check "passes counts both runs" \
	test "$(cat /sys/module/mni_sample_mirror/parameters/passes 2>/dev/null)" = 2
since | grep 'mni_sample_mirror' | sed 's/^/# /'

out=$(modprobe -r mmu_interval_notifier 2>&1)
rc=$?
echo "# modprobe -r mmu_interval_notifier: rc=$rc: $out"
if [ "$rc" != 0 ] && loaded mmu_interval_notifier; then
	ok "modprobe -r mmu_interval_notifier is refused while the consumer is loaded"
else
	nok "modprobe -r mmu_interval_notifier is refused while the consumer is loaded"
fi

# --- broken consumers --------------------------------------------------------
# refused NAME PATTERN DESCRIPTION: insmod of /guest/neg/NAME.ko fails, and
# the kernel says why in a line matching PATTERN.
refused() {
	mark
	out=$(insmod "/guest/neg/$1.ko" 2>&1)
	rc=$?
	msg=$(since | grep "$1" | head -n 1)
	echo "# insmod $1.ko: rc=$rc: $out"
	echo "# kernel: $msg"
	if [ "$rc" != 0 ] && ! loaded "$1" && echo "$msg" | grep -q "$2"; then
		ok "$3"
	else
		nok "$3"
		rmmod "$1" 2>/dev/null
	fi
}

refused mni_noimport 'from namespace MNI, but does not import it' \
	"a consumer without MNI_IMPORT_NS() is refused at load (namespace)"
badcrc="a consumer built against another Module.symvers is refused (CRC mismatch)"
if [ -f /guest/neg/mni_badcrc.ko ]; then
	refused mni_badcrc 'disagrees about version of symbol mni_' "$badcrc"
else
	# The host builds it only for a kernel with CONFIG_MODVERSIONS.
	echo "skip - $badcrc # $rel has no CONFIG_MODVERSIONS: no CRCs to compare"
fi

# --- unloading ----------------------------------------------------------------
check "modprobe -r mni_sample_mirror" modprobe -r mni_sample_mirror
check "mni_sample_mirror is gone" sh -c '! test -d /sys/module/mni_sample_mirror'
if loaded mmu_interval_notifier; then
	check "mmu_interval_notifier unloads once unused" \
		modprobe -r mmu_interval_notifier
else
	ok "mmu_interval_notifier unloads once unused (modprobe -r took the stack)"
fi
check "mmu_interval_notifier is gone" sh -c '! test -d /sys/module/mmu_interval_notifier'

echo "# guest: $fails failed"
[ "$fails" = 0 ]
