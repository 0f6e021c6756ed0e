# SPDX-License-Identifier: GPL-2.0
#
# Wraps kbuild for the module and runs the project's checks.
#
#   make [KVER=<release>] [KDIR=<kernel build dir>]   build the module
#   make demo        boot the stock kernel in QEMU, show a consumer at work
#   make check       everything: lint, then the QEMU test suite
#   make check-quick the QEMU test suite only
#   make check-quick T=PATTERN  only the tests named (shell patterns,
#                    comma-separated: user tests and QEMU suite tests;
#                    tests/select.sh); fails when T matches nothing
#   make lint        W=1, sparse, checkpatch, kernel-doc, exports
#   make matrix      build and test on the other stock Debian kernels
#                    (MATRIX_KERNELS="5.10 6.12 6.12-rt 7.2 7.3 7.3-rt
#                    arm64-6.1 arm64-6.12-16k"), in QEMU, and install the
#                    amd64 ones through each suite's DKMS
#                    (tests/dkms/suite.sh); the arm64 ones are cross-built
#                    and booted with qemu-system-aarch64 (scripts/arm64.sh)
#   make bench       benchmarks against the kernel's own engine, one QEMU
#                    boot: results/bench.{csv,md,svg} (tests/bench/bench.sh)
#   make bench-smoke a short run checking only that every figure comes out
#   make memory      kernel memory per mm and per subscription, ours and the
#                    kernel's engine, at 8 and 256 possible CPUs:
#                    results/memory.csv (tests/qemu/memory.sh; a lane of
#                    make check, writing to build/memory there)
#   make scale       the engines at scale, ours and the kernel's, one QEMU
#                    boot of the stock kernel: 1000 processes x 100
#                    subscriptions exiting at once (one RELEASE each,
#                    nothing left), one mm with 1e3..1e6 subscriptions
#                    (insert, invalidation, growth within a log bound):
#                    results/scale.{csv,md} (tests/qemu/scale.sh; not in
#                    make check); MNI_SCALE_PROCS=, MNI_SCALE_MAX_K= shrink it
#   make fuzz        the random-program fuzzer (tests/suite/mni_fuzz.c) on
#                    the 6.1 debug kernel, both engines, for
#                    MNI_FUZZ_SECONDS in all (default 1800); MNI_FUZZ_SEED=
#                    replays a run (make check runs it 60 s per engine)
#   make soak        the stale-read torture and its storm mode on the 6.1
#                    debug kernel, both engines, for MNI_SOAK_SECONDS in
#                    all (default 3600), with the operation counts
#   make deb         the Debian package mmu-interval-notifier-dkms, lintian
#                    clean, in build/deb/ (scripts/build-deb.sh)
#   make dkms-check  the package and DKMS end to end in a bookworm chroot and
#                    QEMU, with the kernel upgrade to bookworm-backports and
#                    the autopkgtest (tests/dkms/run.sh; a lane of make check)
#   make fresh-check the README's `make demo` and `make check` from a source
#                    tarball in a fresh minbase bookworm chroot with a cold
#                    cache (scripts/fresh-machine.sh; not in make check:
#                    over an hour). FRESH_TARGETS="demo check-quick" for less
#
# DKMS passes KVER=${kernelver} KDIR=${kernel_source_dir}; when told a
# kernel, nothing here asks the running one.

# Quiet: on a fresh machine there are no headers until the deps
# prerequisite has installed them (KVER is expanded again for each recipe).
KVER ?= $(shell scripts/kver.sh 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build
MNI_CACHE ?= /var/cache/mni
export MNI_CACHE KVER

QEMU_LOGS := build/logs

.PHONY: all modules clean deps lint tests check check-quick demo matrix memory \
	bench bench-smoke deb dkms-check fresh-check fuzz soak scale

all: modules

modules:
	@test -n "$(KVER)" || scripts/kver.sh >/dev/null
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tests clean
	$(MAKE) -C tests/bench clean
	$(MAKE) -C tests/user clean
	rm -rf build

deps:
	scripts/deps.sh

lint: deps
	scripts/lint.sh $(KDIR)

tests: modules
	$(MAKE) -C tests driver suite KDIR=$(KDIR) MNI_SYMVERS=$(CURDIR)/Module.symvers

GUEST_FILES = --add mmu_interval_notifier.ko \
	      --add tests/driver/mni_test_mni.ko \
	      --add tests/driver/mni_test_kern.ko \
	      --add tests/suite/mni_suite \
	      --add samples/demo/mni_demo \
	      --add tests/suite/mni_observe \
	      --add tests/suite/mni_triggers \
	      --add tests/suite/mni_faults \
	      --add tests/suite/mni_hmm \
	      --add tests/qemu/guest-lifecycle.sh \
	      --add tests/qemu/guest-tap.sh

# Six OOM kills a flavour: the debug lane makes the 20 in a row.
QEMU_STOCK = tests/qemu/run.sh --kernel $$(tests/qemu/kernel.sh $(KVER)) \
	--log $(QEMU_LOGS)/check-$(KVER).log --timeout 900 \
	--append 'numa=fake=2 mni_oom_kills=6' \
	$(GUEST_FILES) --script tests/qemu/guest-check.sh

QEMU_OBSERVE = tests/qemu/run.sh --kernel $$(tests/qemu/kernel.sh $(KVER)) \
	--log $(QEMU_LOGS)/observe-$(KVER).log --timeout 300 \
	$(GUEST_FILES) --script tests/qemu/guest-observe.sh

# Lanes of `make check`, one per line, each "name=command"; the command's
# last "N passed, N failed" line is summed by scripts/check.sh.
QUICK_LANES += "user=$(MAKE) -s -C tests/user check"
QUICK_LANES += "stock-$(KVER)=$(QEMU_STOCK)"

# The kernel matrix: each amd64 kernel built at W=1 in a chroot of its
# Debian suite and run in QEMU (scripts/matrix.sh), each arm64 one
# (arm64-KERNEL) cross-built at W=1 against its Debian headers and run in
# qemu-system-aarch64 (scripts/arm64.sh). The prepare lanes make the
# chroots, the cross toolchain and the arm64 roots and fetch the images of
# all of them at once; in make check they run in the background ("+").
MATRIX_KERNELS ?= 5.10 6.12 6.12-rt 7.2 7.3 7.3-rt arm64-6.1 arm64-6.12-16k
# make check runs one lane a kind, to keep a cold make check within the
# hour on two cores: the oldest kernel (5.10), PREEMPT_RT (6.12-rt), the
# newest (7.3) and arm64 with 16 KiB pages; make matrix runs them all.
CHECK_MATRIX_KERNELS ?= 5.10 6.12-rt 7.3 arm64-6.12-16k
# The background lanes that make chroots and fetch images yield to the
# foreground lanes, and the debug kernel builds (nice 19) yield to them:
# each foreground lane runs at full speed while they use what it leaves.
PREPARE_NICE := nice -n 10
matrix_amd64 = $(filter-out arm64-%,$(1))
matrix_arm64 = $(patsubst arm64-%,%,$(filter arm64-%,$(1)))
matrix_prepare = $(if $(call matrix_amd64,$(1)),"+matrix-prepare=$(PREPARE_NICE) scripts/matrix.sh --prepare $(call matrix_amd64,$(1))") \
	$(if $(call matrix_arm64,$(1)),"+arm64-prepare=$(PREPARE_NICE) scripts/arm64.sh --prepare $(call matrix_arm64,$(1))")
matrix_runs = $(foreach k,$(call matrix_amd64,$(1)),"matrix-$(k)=scripts/matrix.sh $(k)") \
	$(foreach k,$(call matrix_arm64,$(1)),"matrix-arm64-$(k)=scripts/arm64.sh $(k)")
MATRIX_PREPARE := $(call matrix_prepare,$(MATRIX_KERNELS))
MATRIX_RUNS := $(call matrix_runs,$(MATRIX_KERNELS))

# On a fresh machine the two debug kernels are the longest builds, and
# the chroots of the matrix and of the dkms lane wait on downloads: they
# start at once in the background ("+" lanes, scripts/check.sh: each is
# waited for at its place; the build runs at nice 19, so it takes what
# the QEMU lanes leave idle), and the lanes that need them come late.
# With a warm cache they end in seconds.
# The debug lanes run in the background too, one guest at a time, each
# once its kernel is built and the lanes that time things (stock,
# bench-smoke, memory) are over: a debug guest then takes the core the
# foreground's guest leaves idle.
CHECK_LANES += "lint=scripts/lint.sh $(KDIR)"
CHECK_LANES += $(QUICK_LANES)
# run.sh's own verdicts (tests/qemu/selftest.sh, six short boots): a
# WARNING on the console, a panic, a guest's failure and a hang each fail
# a run, and --allow exempts a line. Every QEMU lane's pass rests on them.
CHECK_LANES += "qemu-selftest=tests/qemu/selftest.sh"
# check.sh's own: sums, failures, background lanes and their waits.
CHECK_LANES += "check-selftest=tests/check-selftest.sh"
CHECK_LANES += "observe-$(KVER)=$(QEMU_OBSERVE)"
CHECK_LANES += "bench-smoke-$(KVER)=tests/bench/bench.sh --smoke"
CHECK_LANES += "memory-$(KVER)=MNI_MEMORY_OUT=build/memory tests/qemu/memory.sh"
CHECK_LANES += "+dkms-chroot=$(PREPARE_NICE) tests/dkms/chroot.sh $(KVER)"
CHECK_LANES += "dkms=tests/dkms/run.sh"
CHECK_LANES += $(call matrix_prepare,$(CHECK_MATRIX_KERNELS)) \
	$(call matrix_runs,$(CHECK_MATRIX_KERNELS))
# Compiling, so after the QEMU lanes: on a cold machine the debug kernels
# compile in the background meanwhile, and two compiling lanes slow each
# other far more than a compile slows a QEMU lane.
CHECK_LANES += "user-mutate=$(MAKE) -s -C tests/user mutate"
CHECK_LANES += "+debug-kernel-6.1=tests/qemu/debug-kernel.sh 6.1"
CHECK_LANES += "+debug-kernel-6.12-rt^debug-kernel-6.1=tests/qemu/debug-kernel.sh 6.12-rt"
CHECK_LANES += "+debug-6.1^debug-kernel-6.1,memory-$(KVER)=tests/qemu/debug-lane.sh $(QEMU_LOGS)"
CHECK_LANES += "+lockdep-6.1^debug-6.1=tests/lockdep/lockdep-lane.sh $(QEMU_LOGS)"
CHECK_LANES += "+debug-6.12-rt^debug-kernel-6.12-rt,lockdep-6.1=tests/qemu/debug-lane.sh $(QEMU_LOGS) 6.12-rt"

check-quick: deps tests
	@mkdir -p $(QEMU_LOGS)
	$(if $(T),tests/select.sh '$(T)',scripts/check.sh) $(QUICK_LANES)

check: deps tests
	@mkdir -p $(QEMU_LOGS)
	scripts/check.sh $(CHECK_LANES)

matrix: deps
	@mkdir -p $(QEMU_LOGS)
	scripts/check.sh $(MATRIX_PREPARE) $(MATRIX_RUNS)

deb:
	MNI_EXTRA_PKGS="build-essential debhelper dh-dkms lintian" scripts/deps.sh
	scripts/build-deb.sh

dkms-check: deps
	scripts/check.sh "dkms=tests/dkms/run.sh"

# Needs only debootstrap on this machine, not the rest of deps.
fresh-check:
	scripts/fresh-machine.sh

bench: deps tests
	tests/bench/bench.sh

bench-smoke: deps tests
	tests/bench/bench.sh --smoke

memory: deps tests
	tests/qemu/memory.sh

scale: deps tests
	tests/qemu/scale.sh $(or $(MNI_SCALE_PROCS),1000) \
		$(or $(MNI_SCALE_MAX_K),1000000)

# Long runs on the 6.1 debug kernel (tests/qemu/debug-lane.sh fuzz, soak).
MNI_FUZZ_SECONDS ?= 1800
MNI_SOAK_SECONDS ?= 3600

fuzz: deps tests
	@mkdir -p $(QEMU_LOGS)
	MNI_FUZZ_SECONDS=$(MNI_FUZZ_SECONDS) MNI_FUZZ_SEED=$(MNI_FUZZ_SEED) \
		scripts/check.sh "fuzz-6.1=tests/qemu/debug-lane.sh $(QEMU_LOGS) fuzz"

soak: deps tests
	@mkdir -p $(QEMU_LOGS)
	MNI_SOAK_SECONDS=$(MNI_SOAK_SECONDS) \
		scripts/check.sh "soak-6.1=tests/qemu/debug-lane.sh $(QEMU_LOGS) soak"

demo: deps tests
	@mkdir -p $(QEMU_LOGS)
	tests/qemu/run.sh --kernel $$(tests/qemu/kernel.sh $(KVER)) \
		--log $(QEMU_LOGS)/demo-$(KVER).log --timeout 600 \
		$(GUEST_FILES) --script tests/qemu/guest-demo.sh
