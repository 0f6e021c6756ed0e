#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel in QEMU (TCG) with a busybox initramfs, run one guest script,
# and judge the run from the console.
#
# usage: tests/qemu/run.sh --kernel PATH --log FILE --script GUEST_SCRIPT
#            [--timeout SECS] [--mem MB] [--smp N] [--append "cmdline"]
#            [--add HOSTPATH[:GUESTPATH]]... [--allow REGEX]...
#            [--quiet | --verbose] [--arch x86_64|arm64] [--module KO]...
#            [-- ARGS for the guest script]
#
# Guest side
#   /init mounts proc, sysfs, devtmpfs (/dev), debugfs (/sys/kernel/debug) and
#   tmpfs (/tmp), sets PATH=/guest:/sbin:/usr/sbin:/bin:/usr/bin, cds to
#   /guest and runs `sh /guest/script ARGS...` with stdin from /dev/null.
#   Then it prints `MNI-GUEST-EXIT rc=<rc>` to the kernel console (through
#   /dev/kmsg, so it is ordered after every kernel message), syncs and does
#   `poweroff -f`.  QEMU runs with -no-reboot, so a panic also ends the run.
#   --add copies HOSTPATH (file or directory, top-level symlinks followed) to
#   /guest/<basename>, or to GUESTPATH (a path ending in / means "into this
#   directory"; a relative one is taken under /guest).  Userspace binaries
#   must be static: the guest has no libc.  The environment has MNI_GUEST=1.
#
# --arch arm64 boots an arm64 kernel Image with qemu-system-aarch64 -M virt
# -cpu max (TCG; pointer authentication with QEMU's cheap implementation-
# defined algorithm instead of QARMA, which the guest cannot tell apart and
# which takes TCG several times less), the console on the PL011 (ttyAMA0)
# and the guest script's port on a virtio console (hvc0); MNI_BUSYBOX must
# then be an arm64 static busybox, and the binaries added arm64 ones.
# --module KO (repeatable) is a kernel module /init loads, in the order
# given, before it opens that port: the virtio console where the kernel
# has it as a module.
#
# Output
#   The guest script's stdout+stderr travel on their own serial port (ttyS1),
#   apart from the kernel console (ttyS0), so kernel messages never split a
#   TAP line.  run.sh echoes the guest lines live on stdout (--quiet: none;
#   --verbose: the kernel console too).  --log FILE gets both streams merged
#   in arrival order (kernel lines carry [timestamps]).  run.sh's own
#   messages go to stderr.
#
# Verdict (exit 0 only for a clean run, 1 otherwise, 2 for usage errors)
#   Every kernel console line is scanned for BUG:, WARNING:, Oops, Call Trace,
#   Kernel panic, lockdep reports, KASAN, UBSAN, kmemleak leaks, general
#   protection faults, soft lockups, hung tasks, RCU stalls and
#   sleeping-in-atomic reports (see @bad below); lines matching an --allow
#   REGEX (Perl syntax, repeatable) are exempt.  The run also fails when the
#   MNI-GUEST-EXIT line is missing or its rc is not 0, when QEMU fails, or
#   when --timeout (default 600 s) expires; QEMU is then killed.
#   The guest script's own output is not scanned.
#
# Kernel command line: console=ttyS0 (ttyAMA0 on arm64) panic_on_warn=1 panic=-1 oops=panic
# softlockup_panic=1 loglevel=7 printk.devkmsg=on, then --append (later
# settings win, e.g. --append panic_on_warn=0).
#
# Environment: QEMU (default qemu-system-x86_64 or -aarch64), MNI_BUSYBOX (default
# /bin/busybox, must be static), TMPDIR.

set -eu

me=${0##*/}

usage() {
	sed -n '7,10p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

die() {
	echo "$me: $*" >&2
	exit 2
}

kernel='' log='' script='' timeout=600 mem=2048 smp=2 extra='' quiet=0 verbose=0
arch=x86_64
adds=()
allows=()
mods=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || usage; kernel=$2; shift 2 ;;
	--log) [ $# -ge 2 ] || usage; log=$2; shift 2 ;;
	--script) [ $# -ge 2 ] || usage; script=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
	--mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
	--smp) [ $# -ge 2 ] || usage; smp=$2; shift 2 ;;
	--append) [ $# -ge 2 ] || usage; extra="$extra $2"; shift 2 ;;
	--add) [ $# -ge 2 ] || usage; adds+=("$2"); shift 2 ;;
	--allow) [ $# -ge 2 ] || usage; allows+=("$2"); shift 2 ;;
	--module) [ $# -ge 2 ] || usage; mods+=("$2"); shift 2 ;;
	--arch) [ $# -ge 2 ] || usage; arch=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--verbose) verbose=1; shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) echo "$me: unknown argument '$1'" >&2; usage ;;
	esac
done
if [ -z "$kernel" ] || [ -z "$log" ] || [ -z "$script" ]; then
	usage
fi
[ -r "$kernel" ] || die "kernel '$kernel' not readable"
[ -r "$script" ] || die "script '$script' not readable"
for n in "$timeout" "$mem" "$smp"; do
	case $n in '' | *[!0-9]*) die "not a number: '$n'" ;; esac
done
for re in ${allows[@]+"${allows[@]}"}; do
	perl -e 'qr/$ARGV[0]/' "$re" 2>/dev/null || die "bad --allow regex '$re'"
done

case $arch in
x86_64) qemu=${QEMU:-qemu-system-x86_64} console=ttyS0 port=/dev/ttyS1 ;;
arm64) qemu=${QEMU:-qemu-system-aarch64} console=ttyAMA0 port=/dev/hvc0 ;;
*) die "unknown --arch '$arch' (x86_64, arm64)" ;;
esac
busybox=${MNI_BUSYBOX:-/bin/busybox}
command -v "$qemu" >/dev/null || die "$qemu not found (run scripts/deps.sh)"
[ -x "$busybox" ] || die "$busybox not found (run scripts/deps.sh)"
if command -v readelf >/dev/null && readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
	die "$busybox is dynamically linked; install busybox-static"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mni-qemu.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# ---------------------------------------------------------------- initramfs
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,guest,lib/modules}
cp "$busybox" "$root/bin/busybox"
cp "$script" "$root/guest/script"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the mni test initramfs (generated by tests/qemu/run.sh).
/bin/busybox --install -s
export PATH=/guest:/sbin:/usr/sbin:/bin:/usr/bin HOME=/root MNI_GUEST=1
mount -t devtmpfs devtmpfs /dev || echo "init: mount /dev failed"
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc || echo "init: mount /proc failed"
mount -t sysfs sysfs /sys || echo "init: mount /sys failed"
mount -t debugfs debugfs /sys/kernel/debug || echo "init: mount debugfs failed"
mount -t tmpfs tmpfs /tmp || echo "init: mount /tmp failed"
read -r up _ </proc/uptime
echo "MNI-GUEST-START uptime=$up"
# The script's output gets its own port when there is one: the second
# serial port, or on arm64 the virtio console (/guest/.port), whose
# modules, if any, are in /lib/early.
for m in /lib/early/*.ko; do
	[ ! -f "$m" ] || insmod "$m" || echo "init: insmod $m failed"
done
read -r out </guest/.port
# A module's port shows up once its driver has probed the device.
i=0
while [ -d /lib/early ] && ! (: >"$out") 2>/dev/null && [ "$i" -lt 30 ]; do
	sleep 1
	i=$((i + 1))
done
if ! (: >"$out") 2>/dev/null; then
	echo "init: no $out, guest output goes to the console"
	out=/dev/console
fi
. /guest/.argv
cd /guest
sh /guest/script "$@" </dev/null >"$out" 2>&1
rc=$?
# Setting a tty attribute uses TCSADRAIN: wait until the output has left.
[ "$out" = /dev/console ] || stty -F "$out" onlcr 2>/dev/null
# Through the kernel log so that it comes after every kernel message.
echo "<2>MNI-GUEST-EXIT rc=$rc" >/dev/kmsg 2>/dev/null || echo "MNI-GUEST-EXIT rc=$rc"
sync
poweroff -f
echo "init: poweroff failed"
sleep 1000000
EOF
chmod 755 "$root/init"
echo "$port" >"$root/guest/.port"
i=10
for m in ${mods[@]+"${mods[@]}"}; do
	[ -f "$m" ] || die "--module: '$m' is no file"
	mkdir -p "$root/lib/early"
	cp "$m" "$root/lib/early/$i-${m##*/}"
	i=$((i + 1))
done

# Script arguments, quoted for sh.
{
	printf 'set --'
	for a in "$@"; do
		printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"
	done
	printf '\n'
} >"$root/guest/.argv"

for spec in ${adds[@]+"${adds[@]}"}; do
	host=$spec gpath=''
	# HOST:GUEST when the part after the last colon looks like a guest path.
	case $spec in
	*:*)
		g=${spec##*:}
		if [ -n "$g" ] && [ ! -e "$spec" ]; then
			host=${spec%:*}
			gpath=$g
		fi
		;;
	esac
	[ -e "$host" ] || die "--add: '$host' does not exist"
	base=$(basename "$host")
	case $gpath in
	'') gpath=/guest/$base ;;
	*/) gpath=$gpath$base ;;
	esac
	case $gpath in /*) ;; *) gpath=/guest/$gpath ;; esac
	dest=$root$gpath
	mkdir -p "$(dirname "$dest")"
	if [ -d "$host" ]; then
		mkdir -p "$dest"
		cp -a -H "$host/." "$dest/"
	else
		cp -a -H "$host" "$dest"
	fi
done

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) >"$tmp/initramfs.cpio"

# --------------------------------------------------------------------- boot
mkfifo "$tmp/guest.in" "$tmp/guest.out"
mkdir -p "$(dirname "$log")"
cmdline="console=$console panic_on_warn=1 panic=-1 oops=panic softlockup_panic=1"
cmdline="$cmdline loglevel=7 printk.devkmsg=on$extra"

mode=normal
[ "$quiet" = 0 ] || mode=quiet
[ "$verbose" = 0 ] || mode=verbose

# Reads the console (stdin) and the guest port (fifo) as they come, writes
# the merged log plus a tagged copy (K = kernel console, G = guest script)
# and echoes according to mode.
# shellcheck disable=SC2016 # Perl code, not shell
follow='
use strict; use warnings; use IO::Select; use Fcntl; use Time::HiRes qw(time);
my ($log, $tag, $fifo, $mode) = @ARGV;
my $t0 = time;
open(my $L, ">", $log) or die "$log: $!";
open(my $T, ">", $tag) or die "$tag: $!";
sysopen(my $G, $fifo, O_RDWR | O_NONBLOCK) or die "$fifo: $!";
$L->autoflush(1); $T->autoflush(1); STDOUT->autoflush(1);
my %buf = (K => "", G => "");
sub emit {
	my ($k, $s) = @_;
	$s =~ s/\r//g;
	$s =~ s/\e\[[0-9;?]*[A-Za-z]|\e[c()][0-9A-Z]?//g;
	print $L "$s\n";
	print $T "$k $s\n";
	print STDOUT "$s\n" if $mode eq "verbose" || ($mode eq "normal" && $k eq "G");
	if ($k eq "K" && $s =~ /MNI-GUEST-START uptime=(\S+)/) {
		printf STDERR "run.sh: guest up after %.1f s (kernel uptime %s s)\n", time - $t0, $1;
	}
}
sub feed {
	my ($k, $d) = @_;
	$buf{$k} .= $d;
	emit($k, $1) while $buf{$k} =~ s/^([^\n]*)\n//;
}
my $sel = IO::Select->new(\*STDIN, $G);
my $done = 0;
while (!$done) {
	for my $fh ($sel->can_read) {
		my $n = sysread($fh, my $d, 65536);
		if (fileno($fh) == fileno(STDIN)) {
			if (!$n) { $done = 1; next; }
			feed("K", $d);
		} elsif ($n) {
			feed("G", $d);
		}
	}
}
while (1) { my $n = sysread($G, my $d, 65536); last unless $n; feed("G", $d); }
for my $k ("G", "K") { emit($k, $buf{$k}) if length $buf{$k}; }
printf STDERR "run.sh: qemu ran %.1f s\n", time - $t0;
'

# shellcheck disable=SC2054 # commas belong to QEMU options
case $arch in
x86_64)
	qemu_args=(
		-machine q35 -accel tcg -cpu max
		-chardev stdio,id=con,signal=off -serial chardev:con
		-chardev pipe,id=gst,path="$tmp/guest" -serial chardev:gst
	) ;;
arm64)
	qemu_args=(
		-machine virt -accel tcg -cpu max,pauth-impdef=on
		-chardev stdio,id=con,signal=off -serial chardev:con
		-chardev pipe,id=gst,path="$tmp/guest"
		-device virtio-serial-pci -device virtconsole,chardev=gst
	) ;;
esac
# shellcheck disable=SC2054
qemu_args+=(
	-m "$mem" -smp "$smp"
	-nodefaults -no-user-config -display none -monitor none -no-reboot
	-kernel "$kernel" -initrd "$tmp/initramfs.cpio" -append "$cmdline"
)
# A stock kernel under TCG now and then dies while it boots, before init
# has run a line of ours (seen: a double fault in the slab allocator's
# cmpxchg16b during apparmor_init on 6.12). Nothing of the project ran yet
# then, so such a boot is tried once more; its console stays in $log.boot1.
# A crash after MNI-GUEST-START is never retried.
for attempt in 1 2; do
	echo "$me: booting ${kernel} (timeout ${timeout} s, log $log)" >&2
	set +e
	timeout -k 10 "$timeout" "$qemu" "${qemu_args[@]}" </dev/null 2>"$tmp/qemu.err" |
		perl -e "$follow" "$log" "$tmp/tagged" "$tmp/guest.out" "$mode"
	st=("${PIPESTATUS[@]}")
	set -e
	qrc=${st[0]} frc=${st[1]}
	if [ "$attempt" = 1 ] && ! grep -q '^K .*MNI-GUEST-START' "$tmp/tagged" &&
	   grep -qE '^K .*(Kernel panic|Oops|double fault)' "$tmp/tagged"; then
		echo "$me: the kernel died before the guest started; booting it again (first console: $log.boot1)" >&2
		mv "$log" "$log.boot1"
		continue
	fi
	break
done

if [ -s "$tmp/qemu.err" ]; then
	{
		echo "---- qemu stderr ----"
		cat "$tmp/qemu.err"
	} >>"$log"
fi

# ------------------------------------------------------------------ verdict
# Prints the problems found and exits non-zero when there are any.
# shellcheck disable=SC2016 # Perl code, not shell
scan='
use strict; use warnings;
my ($tag, @allow) = @ARGV;
my @bad = (
	qr/BUG:/, qr/WARNING:/, qr/\bOops\b/, qr/Call Trace/, qr/Kernel panic/,
	qr/kernel BUG at/, qr/Unable to handle kernel/, qr/Internal error:/,
	qr/possible circular locking/, qr/possible recursive locking/,
	qr/inconsistent lock state/, qr/lockdep/, qr/DEBUG_LOCKS_WARN_ON/,
	qr/turning off the locking correctness validator/,
	qr/KASAN/, qr/UBSAN/, qr/kmemleak:.*suspected memory leak/,
	qr/unreferenced object/, qr/kmemleak: Kernel memory leak detector disabled/,
	qr/general protection fault/, qr/soft lockup/, qr/hard LOCKUP/,
	qr/hung task/, qr/hung_task/, qr/INFO: task /,
	qr/rcu.*detected stall/, qr/rcu.*self-detected stall/,
	qr/sleeping function called from invalid context/,
);
# Boot banners of debug kernels that name a checker without reporting.
my @benign = (
	qr/RCU lockdep checking is enabled/,
	qr/kmemleak: Automatic memory scanning thread/,
);
my @allow_re = ((map { qr/$_/ } @allow), @benign);
open(my $T, "<", $tag) or die "$tag: $!";
my @lines = <$T>;
chomp @lines;
my (@hits, $rc);
for my $i (0 .. $#lines) {
	my ($k, $s) = ($lines[$i] =~ /^(\S) (.*)$/s) or next;
	next unless $k eq "K";
	$rc = $1 if $s =~ /MNI-GUEST-EXIT rc=(\d+)/;
	next unless grep { $s =~ $_ } @bad;
	next if grep { $s =~ $_ } @allow_re;
	push @hits, $i;
}
my $fail = 0;
if (@hits) {
	$fail = 1;
	printf STDERR "run.sh: %d bad kernel console line(s):\n", scalar @hits;
	my ($shown, $last) = (0, -1);
	for my $i (@hits) {
		last if ++$shown > 10;
		my ($a, $b) = ($i - 3, $i + 5);
		$a = 0 if $a < 0;
		$b = $#lines if $b > $#lines;
		$a = $last + 1 if $a <= $last;
		print STDERR "  ----\n" if $a > $last + 1 || $last < 0;
		for my $j ($a .. $b) {
			my $s = substr($lines[$j], 2);
			print STDERR ((grep { $_ == $j } @hits) ? "  >> " : "     ", $s, "\n");
		}
		$last = $b;
	}
	print STDERR "  ---- (", scalar(@hits) - 10, " more)\n" if @hits > 10;
}
if (!defined $rc) {
	$fail = 1;
	print STDERR "run.sh: no MNI-GUEST-EXIT line on the console\n";
} elsif ($rc != 0) {
	$fail = 1;
	print STDERR "run.sh: guest script failed: MNI-GUEST-EXIT rc=$rc\n";
}
exit $fail;
'

fail=0
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "$me: TIMEOUT: killed qemu after $timeout s; last console lines:" >&2
	tail -n 20 "$log" | sed 's/^/     /' >&2
	fail=1
elif [ "$qrc" != 0 ]; then
	echo "$me: qemu exited with status $qrc:" >&2
	sed 's/^/     /' "$tmp/qemu.err" >&2
	fail=1
fi
if [ "$frc" != 0 ]; then
	echo "$me: console reader failed (status $frc)" >&2
	fail=1
fi
if [ -f "$tmp/tagged" ]; then
	perl -e "$scan" "$tmp/tagged" ${allows[@]+"${allows[@]}"} || fail=1
else
	fail=1
fi

if [ "$fail" = 0 ]; then
	echo "$me: PASS (log $log)" >&2
	exit 0
fi
echo "$me: FAIL (log $log)" >&2
exit 1
