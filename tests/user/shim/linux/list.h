/* SPDX-License-Identifier: GPL-2.0 */
/*
 * list.h - userspace stand-in: the list and hlist subsets the engine uses,
 * with the kernel's semantics (an unhashed node has a NULL pprev; deleted
 * nodes are poisoned so a second unlinking trips the sanitizers).
 */
#ifndef _SHIM_LINUX_LIST_H
#define _SHIM_LINUX_LIST_H

#include <linux/kernel.h>

#define SHIM_LIST_POISON1 ((struct hlist_node *)0x100)
#define SHIM_LIST_POISON2 ((struct hlist_node **)0x122)

#define SHIM_LIST_POISON_NEXT ((struct list_head *)0x100)
#define SHIM_LIST_POISON_PREV ((struct list_head *)0x122)

#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *list)
{
	WRITE_ONCE(list->next, list);
	list->prev = list;
}

static inline int list_empty(const struct list_head *head)
{
	return READ_ONCE(head->next) == head;
}

static inline void __list_add(struct list_head *new, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = new;
	new->next = next;
	new->prev = prev;
	WRITE_ONCE(prev->next, new);
}

static inline void list_add(struct list_head *new, struct list_head *head)
{
	__list_add(new, head, head->next);
}

static inline void list_add_tail(struct list_head *new, struct list_head *head)
{
	__list_add(new, head->prev, head);
}

static inline void list_del(struct list_head *entry)
{
	entry->next->prev = entry->prev;
	WRITE_ONCE(entry->prev->next, entry->next);
	entry->next = SHIM_LIST_POISON_NEXT;
	entry->prev = SHIM_LIST_POISON_PREV;
}

static inline void list_splice_init(struct list_head *list,
				    struct list_head *head)
{
	if (!list_empty(list)) {
		struct list_head *first = list->next, *last = list->prev;
		struct list_head *at = head->next;

		first->prev = head;
		WRITE_ONCE(head->next, first);
		last->next = at;
		at->prev = last;
		INIT_LIST_HEAD(list);
	}
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(ptr, type, member)				\
	list_entry((ptr)->next, type, member)
#define list_next_entry(pos, member)					\
	list_entry((pos)->member.next, typeof(*(pos)), member)
#define list_entry_is_head(pos, head, member) (&(pos)->member == (head))

#define list_for_each_entry(pos, head, member)				\
	for (pos = list_first_entry(head, typeof(*pos), member);	\
	     !list_entry_is_head(pos, head, member);			\
	     pos = list_next_entry(pos, member))

#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_first_entry(head, typeof(*pos), member),	\
	     n = list_next_entry(pos, member);				\
	     !list_entry_is_head(pos, head, member);			\
	     pos = n, n = list_next_entry(n, member))

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
