#!/usr/bin/env python3
"""check_links.py — every relative link of the project's documentation resolves.

  tests/check_links.py [FILE.md ...]   README.md and docs/*.md when no file is named
  tests/check_links.py --self-test     the checker's own verdicts on made-up pages

A link is `[text](target)` or a reference definition `[name]: target`, outside
code (fenced blocks and `code spans`). Links with a scheme (https:, mailto:) are
not followed. A relative target must name a file or directory of the tree; a
`#anchor` (alone: this page) must name a heading of the Markdown page it points
to, by GitHub's rules (github-slugger: lower case; every character that is not a
letter, digit, space, `-` or `_` dropped; each space a `-`; the second heading of
the same slug gets `-1`, the third `-2`), or an `<a name|id="...">` of the page.
An anchor on a file that is not Markdown must be a line anchor (`#L12`, `#L12-L20`).
Prints one line per problem and a summary; exits 1 if any link is broken.
"""
import glob
import os
import re
import sys
import tempfile
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+\s*)?$")
HTML_ANCHOR = re.compile(r"<a\s+[^>]*?(?:name|id)\s*=\s*\"([^\"]+)\"", re.I)


def prose_lines(text):
    """(line number, line) of the lines outside fenced code blocks."""
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if m and (fence is None or m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)):
            fence = None if fence else m.group(1)
            continue
        if fence is None:
            yield n, line


def heading_text(raw):
    """A heading's text as GitHub renders it: no code ticks, links as their text, no emphasis."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)
    text = CODE_SPAN.sub(lambda m: m.group(2), text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"(\*\*|__|\*|(?<!\w)_|_(?!\w))", "", text)


def slug(text):
    out = []
    for ch in text.strip().lower():
        cat = unicodedata.category(ch)
        if ch == " ":
            out.append("-")
        elif ch in "-_" or cat[0] in "LN" or cat == "Mn":
            out.append(ch)
    return "".join(out)


def anchors(path, cache={}):
    if path not in cache:
        text = open(path, encoding="utf-8").read()
        seen, found = {}, set()
        lines = list(prose_lines(text))
        for i, (_, line) in enumerate(lines):
            m = HEADING.match(line)
            title = m.group(2) if m else None
            nxt = lines[i + 1][1] if i + 1 < len(lines) else ""
            if not m and line.strip() and re.match(r"^\s{0,3}(=+|-+)\s*$", nxt) \
                    and not line.lstrip().startswith(("-", "*", "|", ">")):
                title = line.strip()  # a setext heading
            if title is not None:
                base = slug(heading_text(title))
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
            found.update(HTML_ANCHOR.findall(line))
        cache[path] = found
    return cache[path]


def links(text):
    """(line number, target) of every link outside code."""
    for n, line in prose_lines(text):
        m = REF_DEF.match(line)
        if m:
            yield n, m.group(1)
            continue
        bare = CODE_SPAN.sub(lambda c: " " * len(c.group(0)), line)
        for m in INLINE_LINK.finditer(bare):
            yield n, m.group(1)


def problems(page, root):
    text = open(page, encoding="utf-8").read()
    rel = os.path.relpath(page, root)
    for n, target in links(text):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("//"):
            continue  # https:, mailto:: not followed
        path, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        if not os.path.abspath(dest).startswith(os.path.abspath(root) + os.sep):
            yield f"{rel}:{n}: {target}: outside the tree"
        elif not os.path.exists(dest):
            yield f"{rel}:{n}: {target}: no such file"
        elif anchor and dest.endswith(".md") and os.path.isfile(dest):
            if anchor not in anchors(dest):
                yield f"{rel}:{n}: {target}: no heading with that anchor in {os.path.relpath(dest, root)}"
        elif anchor and not re.fullmatch(r"L\d+(-L\d+)?", anchor):
            yield f"{rel}:{n}: {target}: an anchor on a file that is not Markdown"


def check(pages, root):
    found, count = [], 0
    for page in pages:
        count += sum(1 for _ in links(open(page, encoding="utf-8").read()))
        found.extend(problems(page, root))
    return found, count


def self_test():
    """The checker's verdicts on made-up pages: each broken kind is found, nothing else is."""
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "docs"))
        pages = {
            "README.md": "# Top\n\n## A new process: `psql -c 'select 1'`\n\n## Top\n\n"
                         "Good: [a](docs/b.md#the-steps), [b](#a-new-process-psql--c-select-1), "
                         "[c](#top-1), [d](https://example.com/x#y), [e](docs/), `[f](nowhere.md)`,\n"
                         "[g](tool.sh#L3), [h](docs/b.md#bs-anchor).\n\n"
                         "Bad: [1](docs/missing.md), [2](#no-such-heading), [3](docs/b.md#nope),\n\n"
                         "```\n[in a fence](nowhere.md)\n```\n\n[4]: ../../outside.md\n",
            "docs/b.md": "Title\n=====\n\n## The steps\n\n<a name=\"bs-anchor\"></a>\n"
                         "[5](../tool.sh#section) [6](../README.md#top) [7](../tool.sh#L1)\n",
            "tool.sh": "#!/bin/sh\n",
        }
        for name, text in pages.items():
            with open(os.path.join(root, name), "w", encoding="utf-8") as f:
                f.write(text)
        found, _ = check([os.path.join(root, "README.md"), os.path.join(root, "docs/b.md")], root)
        want_bad = ["docs/missing.md", "#no-such-heading", "docs/b.md#nope", "../../outside.md",
                    "../tool.sh#section"]
        ok = len(found) == len(want_bad) and all(any(f": {w}:" in p for p in found) for w in want_bad)
        anchors_ok = {"top", "top-1", "a-new-process-psql--c-select-1"} <= anchors(
            os.path.join(root, "README.md")) and "title" in anchors(os.path.join(root, "docs/b.md"))
        if ok and anchors_ok:
            print(f"self-test: the {len(want_bad)} broken links found, and only those")
            return 0
        print("self-test FAILED: found", found or "nothing", "; expected exactly", want_bad)
        return 1


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    pages = argv[1:] or [os.path.join(ROOT, "README.md")] + sorted(
        glob.glob(os.path.join(ROOT, "docs", "*.md")))
    found, count = check(pages, ROOT)
    for p in found:
        print("broken: " + p)
    names = ", ".join(os.path.relpath(p, ROOT) for p in pages)
    print(f"{count} links in {names}: {len(found)} broken")
    return 1 if found else 0


sys.exit(main(sys.argv))
