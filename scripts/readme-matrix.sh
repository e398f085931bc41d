#!/usr/bin/env bash
# scripts/readme-matrix.sh PAGE TABLE: replace what stands between PAGE's
# client-matrix markers (docs/testing.md, "Real clients") with TABLE
# (build/client-matrix.md).
set -euo pipefail
python3 - "$1" "$2" <<'PY_EOF'
import sys
readme, table = sys.argv[1], open(sys.argv[2]).read().strip()
text = open(readme).read()
begin = "<!-- client-matrix: begin (make readme-matrix) -->"
end = "<!-- client-matrix: end -->"
if begin not in text or end not in text:
    sys.exit(f"{readme}: no client-matrix markers")
head, rest = text.split(begin, 1)
tail = rest.split(end, 1)[1]
open(readme, "w").write(head + begin + "\n" + table + "\n" + end + tail)
PY_EOF
