#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 6.13 ("module: Convert symbol namespace to string literal"):
#   old: EXPORT_SYMBOL_NS_GPL(sym, ns) stringifies a bare identifier
#   new: EXPORT_SYMBOL_NS_GPL(sym, "ns") takes a string literal
# $1: kernel source tree (kbuild's $(srctree)).
defs=$(grep -h 'define EXPORT_SYMBOL_NS_GPL' "$1/include/linux/export.h" 2>/dev/null)
[ -n "$defs" ] || exit 0
echo "$defs" | grep -q -e '__stringify(ns)' -e '#ns' && exit 0
echo '#define MNI_HAVE_EXPORT_NS_STRING 1'
