// SPDX-License-Identifier: GPL-2.0
/*
 * Defines MNI_HAVE_EXPORT_NS_STRING unless it compiles.
 *
 * 6.13 ("module: Convert symbol namespace to string literal"):
 *   old: EXPORT_SYMBOL_NS_GPL(sym, MNI)    stringifies a bare identifier
 *   new: EXPORT_SYMBOL_NS_GPL(sym, "MNI")  takes a string literal; a bare
 *        identifier reaches the assembler as ".ascii MNI", an error
 * The old form is the one probed: the new one compiles on old kernels too,
 * exporting into the namespace "\"MNI\"" (quotes included).
 */
#include <linux/export.h>
#include <linux/module.h>

int mni_probe_export;
EXPORT_SYMBOL_NS_GPL(mni_probe_export, MNI_PROBE);
