#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tree-files.sh [GLOB...] - the project's source files, NUL-separated,
# relative to the top of the tree, that exist.
#
# In a git checkout (and with git installed): what git lists, tracked or new
# and not ignored. Anywhere else (a release tarball, `apt source`, a machine
# without git): every file but .git/, filtered through the tree's .gitignore
# files (the subset of gitignore(5) they use: globs, a leading or inner "/"
# anchoring to that file's directory, a trailing "/" for directories).
# GLOBs (fnmatch, "*" also crossing "/", as git pathspecs) narrow the list.
# Exits 1 when the list comes out empty: a caller then checked nothing.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

list() {
	if command -v git >/dev/null 2>&1 &&
	   git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard -- "$@"
	else
		python3 - "$@" <<'EOF'
import fnmatch, os, sys

globs = sys.argv[1:]
rules = []	# (directory of the .gitignore, pattern, anchored, dir only)
for d, dirs, files in os.walk('.'):
    dirs[:] = [x for x in dirs if x != '.git']
    if '.gitignore' in files:
        base = os.path.relpath(d, '.')
        base = '' if base == '.' else base + '/'
        for line in open(os.path.join(d, '.gitignore')):
            p = line.strip()
            if not p or p.startswith('#'):
                continue
            dironly = p.endswith('/')
            p = p.rstrip('/')
            anchored = '/' in p
            rules.append((base, p.lstrip('/'), anchored, dironly))

def ignored(path, isdir):
    name = path.rsplit('/', 1)[-1]
    for base, p, anchored, dironly in rules:
        if dironly and not isdir:
            continue
        if not path.startswith(base):
            continue
        rel = path[len(base):]
        if (fnmatch.fnmatchcase(rel, p) if anchored
                else fnmatch.fnmatchcase(name, p)):
            return True
    return False

out = []
for d, dirs, files in os.walk('.'):
    rel = os.path.relpath(d, '.')
    rel = '' if rel == '.' else rel + '/'
    dirs[:] = sorted(x for x in dirs
                     if x != '.git' and not ignored(rel + x, True))
    for f in sorted(files):
        path = rel + f
        if ignored(path, False):
            continue
        if globs and not any(fnmatch.fnmatchcase(path, g) for g in globs):
            continue
        out.append(path)
sys.stdout.write(''.join(p + '\0' for p in out))
EOF
	fi
}

n=0
while IFS= read -r -d '' f; do
	if [ -e "$f" ]; then
		printf '%s\0' "$f"
		n=$((n + 1))
	fi
done < <(list "$@")
[ "$n" -gt 0 ] || {
	echo "tree-files.sh: no files${*:+ matching $*} in $top" >&2
	exit 1
}
