#!/usr/bin/env python3
"""check_structure.py — the source's structure, checked by `make test-build`.

  tests/check_structure.py [LIB]

1. Layers: every `#include "x.h"` in shim/ names a file on the includer's own
   layer or below, never above, and no two files include each other, directly
   or not. The layers are the table between the `layers:` markers in
   docs/architecture.md (its only copy); a file of shim/ that the table does not
   name is an error.
2. Loader calls: LIB (build/libherokupq.so) has no relocation against dlopen or
   dlsym: the shim exports both, so any such relocation is a call by name that
   would bind to the shim's own exports; its internals call libc's (shim/libc.h).
3. Locks: every file of shim/ that defines N global mutexes has N entries
   (hpq_<file>_..._lock) in the list of global locks in shim/fork.c, which the
   fork handlers take and release.
Prints one line per check; exits 1 if any fails.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS_DOC = "docs/architecture.md"  # the layer table's only copy
failures = 0


def report(ok, what, details=()):
    global failures
    failures += not ok
    print(("ok   " if ok else "FAIL ") + what)
    for d in details:
        print("     " + d)


def read_layers():
    """[(layer name, {module stem, ...})], top to bottom, from LAYERS_DOC."""
    text = open(os.path.join(ROOT, LAYERS_DOC), encoding="utf-8").read()
    m = re.search(r"<!-- layers: begin.*?-->(.*?)<!-- layers: end -->", text, re.S)
    if not m:
        return []
    layers = []
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[1].startswith("`"):
            continue  # the header row, its rule, prose
        files = re.findall(r"`([\w.]+)`", cells[1])
        layers.append((cells[0], {os.path.splitext(f)[0] for f in files}))
    return layers


def includes():
    """{shim file: [module stems it includes with quotes]}."""
    shim = os.path.join(ROOT, "shim")
    out = {}
    for name in sorted(os.listdir(shim)):
        if name.endswith((".c", ".h")):
            text = open(os.path.join(shim, name), encoding="utf-8").read()
            out[name] = [os.path.splitext(h)[0]
                         for h in re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, re.M)]
    return out


def reaches(graph, start, goal):
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


def check_layers():
    layers = read_layers()
    rank = {stem: i for i, (_, stems) in enumerate(layers) for stem in stems}
    names = [n for n, _ in layers]
    files = includes()
    problems = []
    graph = {}
    for name, incs in files.items():
        stem = os.path.splitext(name)[0]
        if stem not in rank:
            problems.append(f"shim/{name} is on no layer: add it to {LAYERS_DOC}'s layer table")
            continue
        for inc in incs:
            if inc == stem:
                continue
            graph.setdefault(stem, set()).add(inc)
            if inc not in rank:
                problems.append(f"shim/{name} includes {inc}.h, which is on no layer")
            elif rank[inc] < rank[stem]:
                problems.append(f"shim/{name} ({names[rank[stem]]}) includes {inc}.h "
                                f"({names[rank[inc]]}): a lower layer calls a higher one")
    for a in sorted(graph):
        for b in sorted(graph[a]):
            if a < b and reaches(graph, b, a):
                problems.append(f"{a} and {b} are on a circle of includes")
    report(bool(layers) and not problems,
           f"the #includes of shim/ follow {LAYERS_DOC}'s {len(layers)} layers, without circles",
           problems if layers else [f"{LAYERS_DOC} has no table between <!-- layers: begin --> "
                                    "and <!-- layers: end -->"])


def check_loader_relocations(lib):
    out = subprocess.run(["objdump", "-R", lib], capture_output=True, text=True)
    own = [line.split()[-1] for line in out.stdout.splitlines()
           if re.search(r"\s(dlopen|dlsym)(@@?[\w.]+)?$", line)]
    report(out.returncode == 0 and not own,
           f"{os.path.relpath(lib, ROOT)} has no relocation against dlopen or dlsym "
           "(its internals call libc's, not its own exports)",
           own or ([out.stderr.strip()] if out.returncode else []))


def check_lock_list():
    shim = os.path.join(ROOT, "shim")
    fork = open(os.path.join(shim, "fork.c"), encoding="utf-8").read()
    m = re.search(r"global_locks\[\] = \{(.*?)\n\};", fork, re.S)
    listed = re.findall(r"\{\s*(hpq_\w+),", m.group(1)) if m else []
    problems = []
    total = 0
    files = sorted(n for n in os.listdir(shim) if n.endswith(".c") and n != "fork.c")
    stems = [os.path.splitext(n)[0] for n in files]

    def owner(entry):  # the file an entry names: hpq_source_file_lock is source_file.c's, not source.c's
        return max((s for s in stems if entry.startswith(f"hpq_{s}_")), key=len, default=None)

    for name, stem in zip(files, stems):
        text = open(os.path.join(shim, name), encoding="utf-8").read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        mutexes = len(re.findall(r"\bpthread_(?:mutex|rwlock|spinlock)_t\s+\w+", text))
        mutexes += len(re.findall(r"\bstruct hpq_once\s+\w+\s*=", text))  # once.h's lock
        entries = [f for f in listed if owner(f) == stem]
        total += mutexes
        if mutexes > len(entries):
            problems.append(f"shim/{name} defines {mutexes} global lock(s); shim/fork.c's "
                            f"global_locks lists {len(entries)} (hpq_{stem}_..._lock)")
    report(bool(listed) and not problems,
           f"each of the {total} global locks of shim/ is in fork.c's list, which the fork "
           "handlers take",
           problems if listed else ["shim/fork.c has no global_locks[] list"])


def main():
    lib = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "libherokupq.so")
    check_layers()
    check_loader_relocations(lib)
    check_lock_list()
    sys.exit(1 if failures else 0)


main()
