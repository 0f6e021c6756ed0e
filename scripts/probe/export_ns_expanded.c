// SPDX-License-Identifier: GPL-2.0
/*
 * Defines MNI_HAVE_EXPORT_NS_EXPANDED if it compiles.
 *
 * 5.18 ("export: fix string handling of namespace in EXPORT_SYMBOL_NS"):
 *   old: EXPORT_SYMBOL_NS_GPL(sym, ns) stringified #ns, unexpanded, so
 *        EXPORT_SYMBOL_NS_GPL(sym, MNI_NS) exported into namespace "MNI_NS"
 *   new: __stringify(ns), and from 6.13 ns itself: a macro is expanded
 * The probe catches the namespace string that EXPORT_SYMBOL_NS_GPL() hands
 * to __EXPORT_SYMBOL(sym, license, ns), the helper it expands to in every
 * version, and checks that it is not the macro's own name.
 */
#include <linux/build_bug.h>
#include <linux/export.h>

#define MNI_PROBE_NS "mni"

#undef __EXPORT_SYMBOL
#define __EXPORT_SYMBOL(sym, license, ns) \
	static const char mni_probe_ns[] __maybe_unused = ns

int mni_probe_sym;
EXPORT_SYMBOL_NS_GPL(mni_probe_sym, MNI_PROBE_NS);
static_assert(sizeof(mni_probe_ns) != sizeof("MNI_PROBE_NS"));
