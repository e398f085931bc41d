# shellcheck shell=bash
# Fuzzing smoke runs: each libFuzzer target (tests/fuzz/, built with ASan and UBSan) for
# FUZZ_SMOKE_SECONDS (30) from its seeds and what earlier runs found under build/fuzz/.
# A broken invariant, a sanitizer report, a leak, a hang (10 s) or a crash fails the test.
# `make fuzz` runs longer campaigns.
#
# The smoke runs use a fixed seed (FUZZ_SMOKE_SEED, 1): from a clean checkout a run
# then makes the same inputs in the same order wherever it runs, only as many as the
# machine manages in 30 s, so a result is reproducible; `make fuzz` draws a new seed
# each run to explore.

fuzz_smoke() { # TARGET WHAT
    local line
    line=$(FUZZ_SEED=${FUZZ_SMOKE_SEED:-1} "$ROOT/tests/fuzz/run.sh" "${FUZZ_SMOKE_SECONDS:-30}" "$1" 2>&1)
    if [ $? = 0 ]; then pass "fuzz $1 ($2): ${line#ok   fuzz $1: }"
    else fail "fuzz $1 ($2)" "$line"; fi
}

t_fuzz_source() { fuzz_smoke source "the config-vars answer parser"; }
t_fuzz_rewrite() { fuzz_smoke rewrite "program parameters × resolved URL, parsed back by libpq"; }
t_fuzz_redact() { fuzz_smoke redact "any line × any set of secrets: no secret, no 4-character run of one"; }
t_fuzz_config() { fuzz_smoke config "the configuration parser, a fake environment"; }

# 30 s each: in make check (make fuzz runs longer campaigns).
check_tests t_fuzz_source t_fuzz_rewrite t_fuzz_redact t_fuzz_config
