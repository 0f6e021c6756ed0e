/* SPDX-License-Identifier: GPL-2.0 */
/*
 * module.h - userspace stand-in: include/mni.h names MODULE_INFO() for its
 * consumers' import of the namespace; nothing here is a module.
 */
#ifndef _SHIM_LINUX_MODULE_H
#define _SHIM_LINUX_MODULE_H

#define MODULE_INFO(tag, info)

#endif /* _SHIM_LINUX_MODULE_H */
