# shellcheck shell=bash
# The documentation: every relative link and #anchor of README.md and docs/*.md
# resolves (tests/check_links.py, GitHub's anchor rules).

t_docs_links() {
    # The checker's own verdicts first: on made-up pages it finds each kind of
    # broken link (a missing file, a missing anchor here and in another page, a
    # path outside the tree, an anchor on a file that is not Markdown), and only those.
    run "$PY" "$ROOT/tests/check_links.py" --self-test
    if [ "$RC" = 0 ] && [[ $OUT == "self-test: the "*" broken links found, and only those" ]]; then
        pass "docs links: the checker finds every kind of broken link in made-up pages ($OUT)"
    else fail "docs links: the checker's self-test" "rc=$RC $OUT" "$ERR"; fi
    run "$PY" "$ROOT/tests/check_links.py"
    if [ "$RC" = 0 ] && [[ $OUT == *": 0 broken" ]]; then
        pass "docs links: every relative link and anchor of README.md and docs/*.md resolves (${OUT##*$'\n'})"
    else fail "docs links: broken links in README.md or docs/" "$OUT" "$ERR"; fi
}

tests t_docs_links
