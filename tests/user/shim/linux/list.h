/* SPDX-License-Identifier: GPL-2.0 */
/*
 * list.h - userspace stand-in: the hlist subset the engine uses, with the
 * kernel's semantics (an unhashed node has a NULL pprev; deleted nodes are
 * poisoned so a second unlinking trips the sanitizers).
 */
#ifndef _SHIM_LINUX_LIST_H
#define _SHIM_LINUX_LIST_H

#include <linux/kernel.h>

#define SHIM_LIST_POISON1 ((struct hlist_node *)0x100)
#define SHIM_LIST_POISON2 ((struct hlist_node **)0x122)

#define HLIST_HEAD_INIT { .first = NULL }
#define INIT_HLIST_HEAD(ptr) ((ptr)->first = NULL)

static inline void INIT_HLIST_NODE(struct hlist_node *h)
{
	h->next = NULL;
	h->pprev = NULL;
}

static inline int hlist_unhashed(const struct hlist_node *h)
{
	return !h->pprev;
}

static inline int hlist_empty(const struct hlist_head *h)
{
	return !READ_ONCE(h->first);
}

static inline void __hlist_del(struct hlist_node *n)
{
	struct hlist_node *next = n->next;
	struct hlist_node **pprev = n->pprev;

	WRITE_ONCE(*pprev, next);
	if (next)
		next->pprev = pprev;
}

static inline void hlist_del(struct hlist_node *n)
{
	__hlist_del(n);
	n->next = SHIM_LIST_POISON1;
	n->pprev = SHIM_LIST_POISON2;
}

static inline void hlist_del_init(struct hlist_node *n)
{
	if (!hlist_unhashed(n)) {
		__hlist_del(n);
		INIT_HLIST_NODE(n);
	}
}

static inline void hlist_add_head(struct hlist_node *n, struct hlist_head *h)
{
	struct hlist_node *first = h->first;

	n->next = first;
	if (first)
		first->pprev = &n->next;
	WRITE_ONCE(h->first, n);
	n->pprev = &h->first;
}

#define hlist_entry(ptr, type, member) container_of(ptr, type, member)

/*
 * The iterators walk a hidden node cursor and derive @pos from it, so each
 * argument is named once (typeof() aside): what the kernel's versions do,
 * without their reuse of @pos.
 */
#define shim_hlist_pos(node, ptrtype, member)				\
	((ptrtype)((char *)(node) - offsetof(typeof(((ptrtype)NULL)[0]), member)))

#define hlist_for_each_entry(pos, head, member)				\
	for (struct hlist_node *__cur = (head)->first;			\
	     (pos = __cur ? shim_hlist_pos(__cur, typeof(pos), member) : NULL); \
	     __cur = __cur->next)

/* Safe against removal of @pos: @n holds the next node while @pos is used. */
#define hlist_for_each_entry_safe(pos, n, head, member)			\
	for (struct hlist_node *__cur = (head)->first, **__next = &(n);	\
	     __cur && (*__next = __cur->next,				\
		       pos = shim_hlist_pos(__cur, typeof(pos), member), 1); \
	     __cur = *__next)

#endif /* _SHIM_LINUX_LIST_H */
