/* demo.c - a small program with the three kinds of leak rcprof reports:
 *
 *   - a reference cycle: a parent and a child that refer to each other.
 *     Dropping the last outside reference (release_tree) leaves both with a
 *     count of 1, so refcounting alone never frees them;
 *   - an unreleased object: a session retained one time too many;
 *   - a plain heap leak: a malloc'd buffer nobody frees.
 *
 * Build: cc -Iinclude demo.c -Lbuild -lrc; run under the profiler with
 * `make demo`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcprof.h"

struct tree {
	struct tree *parent;    /* counted back reference: the cycle */
	struct tree *child;
	char name[16];
};

struct session {
	int id;
};

static struct tree *tree_new(const char *name)
{
	struct tree *t = rc_new(sizeof(*t), "tree", NULL);
	snprintf(t->name, sizeof(t->name), "%s", name);
	return t;
}

static struct tree *build_tree(void)
{
	struct tree *root = tree_new("root");
	struct tree *leaf = tree_new("leaf");
	rc_set(root, &root->child, leaf);
	rc_set(leaf, &leaf->parent, root);   /* the counted back pointer */
	rc_release(leaf);                    /* root->child holds it now */
	return root;
}

static void release_tree(struct tree *root)
{
	rc_release(root);                    /* leaves root at 1: garbage */
}

static struct session *open_session(int id)
{
	struct session *s = rc_new(sizeof(*s), "session", NULL);
	s->id = id;
	rc_retain(s);                        /* a reference nobody drops */
	return s;
}

static char *make_greeting(const char *who)
{
	char *buf = malloc(64);
	snprintf(buf, 64, "hello, %s", who);
	return buf;
}

int main(void)
{
	for (int i = 0; i < 3; i++)
		release_tree(build_tree());

	struct session *s = open_session(7);
	rc_release(s);

	char *greeting = make_greeting("rcprof");
	puts(greeting);
	greeting = NULL;                     /* the plain leak */
	return 0;
}
