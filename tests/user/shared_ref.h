/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shared_ref.h - the mm layer's side of the engine's shared user reference
 * (mni_itree.nr_subs), kept and checked for the tests.
 *
 * In the kernel, src/mni_mm.c keeps one user reference of an mm's entry
 * while its engine has users: the insert or hold that the engine reports as
 * the first keeps one, and the unlink or unhold reported as the last drops
 * it. Here the same calls move a count per engine (shim.c), which may never
 * go below zero nor above two (a last user's drop may still be on its way
 * when the next first user has taken a new one), and which must be one
 * exactly while the engine has users once everything is quiet
 * (shim_shared_check()).
 *
 * Included after the engine: the macros below route the tests' calls
 * through wrappers that keep the count, and keep the tests' call sites as
 * they were (remove and put without the @last the engine hands back).
 * Parenthesised names, (mni_itree_insert)(...), reach the engine directly.
 */
#ifndef _SHARED_REF_H
#define _SHARED_REF_H

#include "mni_itree.h"

void shim_shared_ref(const struct mni_itree *it, int delta);
long shim_shared_refs(const struct mni_itree *it);
void shim_shared_check(struct mni_itree *it);
/* The engine's put-done callback, set by each test's main(). */
void shim_put_done(struct mni_itree *it, struct mmu_interval_notifier *sub,
		   mni_release_t release, bool last);
/* What the calling thread's last put said, for its release. */
extern __thread bool shim_put_last;

static inline void shim_itree_insert(struct mni_itree *it,
				     struct mmu_interval_notifier *sub)
{
	if ((mni_itree_insert)(it, sub))
		shim_shared_ref(it, 1);
}

static inline int shim_itree_remove_begin(struct mni_itree *it,
					  struct mmu_interval_notifier *sub)
{
	bool last;
	int ret = (mni_itree_remove_begin)(it, sub, &last);

	if (last)
		shim_shared_ref(it, -1);
	return ret;
}

static inline void shim_itree_remove_wait(struct mni_itree *it,
					  struct mmu_interval_notifier *sub)
{
	if ((mni_itree_remove_wait)(it, sub))
		shim_shared_ref(it, -1);
}

static inline int shim_itree_put(struct mni_itree *it,
				 struct mmu_interval_notifier *sub,
				 mni_release_t release)
{
	return (mni_itree_put)(it, sub, release, &shim_put_last);
}

static inline void shim_itree_destroy(struct mni_itree *it)
{
	shim_shared_check(it);
	(mni_itree_destroy)(it);
}

#define mni_itree_insert(it, sub)	shim_itree_insert(it, sub)
#define mni_itree_remove_begin(it, sub)	shim_itree_remove_begin(it, sub)
#define mni_itree_remove_wait(it, sub)	shim_itree_remove_wait(it, sub)
#define mni_itree_put(it, sub, rel)	shim_itree_put(it, sub, rel)
/* A put that unlinked at once (0): its caller releases. */
#define shim_release_put(it, sub, rel) \
	shim_put_done(it, sub, rel, shim_put_last)
#define mni_itree_destroy(it)		shim_itree_destroy(it)

#endif /* _SHARED_REF_H */
