"""bench/results/results.md from bench.py's results: the tables and each target
of issue 6, met or not.

  python3 bench/report.py --self-test    checks the verdicts on made-up results
                                         (run by `make test`; well under a second)
"""
import doctest
import sys

OVERLAP = "not resolved: the two sides' quartiles overlap"
NOISE = "not resolved: the noise is larger than the target"


def fmt_ms(ms):
    return "n/a" if ms is None else f"{ms:.2f} ms"


def verdict(ok):
    """A target's verdict: True, False, or the reason it is not resolved.

    >>> verdict(True), verdict(False), verdict(OVERLAP)
    ('met', '**not met**', "not resolved: the two sides' quartiles overlap")
    """
    if ok is True:
        return "met"
    return "**not met**" if ok is False else ok


def overlap(a, b):
    """Whether two timed sides of one interleaved run overlap: each side's [q1, q3]
    (its "q1_ms" and "q3_ms"). Then this run cannot tell them apart, so no claim of a
    ratio or a difference between them (faster, slower, the same) is made. A side
    measured without its quartiles (an older results.json) counts as overlapping.

    >>> overlap({"q1_ms": 10, "q3_ms": 12}, {"q1_ms": 11, "q3_ms": 14})
    True
    >>> overlap({"q1_ms": 10, "q3_ms": 12}, {"q1_ms": 12.5, "q3_ms": 14})
    False
    >>> overlap({"q1_ms": 12.5, "q3_ms": 14}, {"q1_ms": 10, "q3_ms": 12})
    False
    >>> overlap({"median_ms": 10}, {"q1_ms": 20, "q3_ms": 30})
    True
    """
    if not all(k in s for s in (a, b) for k in ("q1_ms", "q3_ms")):
        return True
    return a["q1_ms"] <= b["q3_ms"] and b["q1_ms"] <= a["q3_ms"]


def within(v, limit_ms):
    """Added time ≤ limit: met if even the upper quartile is, not met if the median
    is above it, otherwise this run cannot tell.

    >>> within({"added_ms": 0.5, "added_q3_ms": 0.9}, 1.0)
    True
    >>> within({"added_ms": 2.0, "added_q3_ms": 3.0}, 1.0)
    False
    >>> within({"added_ms": 0.5, "added_q3_ms": 3.0}, 1.0) == NOISE
    True
    """
    if v["added_q3_ms"] <= limit_ms:
        return True
    return False if v["added_ms"] > limit_ms else NOISE


def compared(a, b, ok):
    """ok, the verdict of a target comparing timed sides a and b, unless they overlap.

    >>> bare, far = {"q1_ms": 10, "q3_ms": 12}, {"q1_ms": 20, "q3_ms": 22}
    >>> compared(bare, far, False), compared(bare, bare, True) == OVERLAP
    (False, True)
    """
    return OVERLAP if overlap(a, b) else ok


def quartiles(s):
    return f"{s['q1_ms']:.2f}–{s['q3_ms']:.2f} ms" if "q1_ms" in s else "n/a"


def warm_section(w):
    return ["### Warm connections", "",
            f"`PQconnectdb` + `SELECT 1` + `PQfinish`, {w['n']} of each, interleaved in lock step "
            "(two long-lived processes, one through the shim, random order in each pair).", "",
            "| | bare libpq | through the shim | ratio |", "|---|---|---|---|",
            f"| median | {fmt_ms(w['bare']['median_ms'])} | {fmt_ms(w['shim']['median_ms'])} "
            f"| {w['median_ratio']:.3f} |",
            f"| quartiles | {quartiles(w['bare'])} | {quartiles(w['shim'])} | "
            f"{'not resolved (they overlap)' if overlap(w['bare'], w['shim']) else 'apart'} |",
            f"| p99 | {fmt_ms(w['bare']['p99_ms'])} | {fmt_ms(w['shim']['p99_ms'])} "
            f"| {w['p99_ratio']:.3f} |", "",
            f"Per pair (shim ÷ bare, the two connections of one pair): median "
            f"{w['pair_ratio']['median']:.3f}, quartiles {w['pair_ratio']['q1']:.3f}–"
            f"{w['pair_ratio']['q3']:.3f}."]


def median(values):
    """
    >>> median([3, 1, 2]), median([1, 2, 3, 4])
    (2, 2.5)
    """
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def warm_instructions(ins):
    """Per warm connection, whole process: shim - bare per pair, and the noise floor
    (a second bare process - the first)."""
    pairs = ins["pairs"]
    added = [p["shim"] - p["bare"] for p in pairs]
    floor = [p["bare again"] - p["bare"] for p in pairs]
    return added, floor


def instructions_section(ins):
    n, pairs = ins["n"], ins["pairs"]
    added, floor = warm_instructions(ins)
    lines = ["### Instructions (callgrind, whole processes)", "",
             f"Warm connections: `valgrind --tool=callgrind --toggle-collect=measured "
             f"build/bench/warm CONNINFO 2 {n}` ({n} connections after 2, `PQconnectdb` + "
             "`SELECT 1` + `PQfinish`), in separate processes started in random order: bare "
             "libpq with the current URL and `sslmode=require`, bare again (the noise floor), "
             "and through the shim holding a stale URL (`postgres://app_user:stale@host:port/"
             "app_db`) with a warm shared cache. Instructions per connection:", "",
             "| pair | bare | bare again | through the shim | shim − bare | bare again − bare "
             "| the shim's own (informational) |", "|---|---|---|---|---|---|---|"]
    for i, p in enumerate(pairs):
        lines.append(f"| {i + 1} | {p['bare']:,.0f} | {p['bare again']:,.0f} | {p['shim']:,.0f} | "
                     f"{added[i]:+,.0f} | {floor[i]:+,.0f} | {p['shim_own']:,.0f} |")
    lines += ["", f"Shim − bare: median **{median(added):+,.0f}** instructions per connection; "
              f"the noise floor (bare against bare, process to process): at most "
              f"{max(abs(f) for f in floor):,.0f}. \"The shim's own\": the inclusive cost of "
              "its `PQ*` exports minus that of the libpq functions they wrap; it misses what the "
              "shim makes libpq and OpenSSL do differently, which the whole-process rows count.",
              "", "A new process, whole (`valgrind --tool=callgrind PROGRAM`; psql is "
              "`psql -X -qAt -d CONNINFO -c 'select 1'`, through the shim with the stale URL):",
              "", "| process | " + " | ".join(f"run {i + 1}" for i in range(len(ins["processes"])))
              + " | median | over bare |",
              "|---|" + "---|" * (len(ins["processes"]) + 2)]
    runs = ins["processes"]
    order = ["psql bare", "psql, shim, warm shared cache", "psql, shim, cold shared cache",
             "/bin/true bare", "/bin/true preloaded"]
    for name in [k for k in order if k in runs[0]] + [k for k in runs[0] if k not in order]:
        base = "psql bare" if name.startswith("psql") else "/bin/true bare"
        vals = [r[name] for r in runs]
        over = median(vals) - median([r[base] for r in runs])
        lines.append(f"| {name} | " + " | ".join(f"{v:,.0f}" for v in vals) +
                     f" | {median(vals):,.0f} | {'' if name == base else f'{over:+,.0f}'} |")
    return lines


def cold_section(c):
    lines = ["### A new process: `psql -c 'select 1'`", "",
             f"{c['rounds']} rounds, the variants in random order in each round; median wall time "
             "and peak RSS of the process (for the recipe: the larger of `heroku` and `psql`).", ""]
    if not c["shared_cache"]:
        lines += ["The shim in this build has no shared cache (`HEROKUPQ_CACHE_DIR` unknown to it):"
                  " every new process fetches, cold or \"warm\".", ""]
    lines += ["Added over bare: the median of the differences with bare psql in the same round "
              "(quartiles in brackets: this machine's noise). \"Not resolved\": the variant's wall "
              "times and bare psql's have overlapping quartiles, so this run cannot tell them "
              "apart.", "",
              "| variant | median | added over bare | peak RSS | added RSS | API requests per run "
              "| libcurl loaded | ok |", "|---|---|---|---|---|---|---|---|"]
    for name, v in c["variants"].items():
        unresolved = name != "bare psql" and overlap(v, c["variants"]["bare psql"])
        lines.append(
            f"| {name} | {fmt_ms(v['median_ms'])} | {v['added_ms']:+.1f} ms "
            f"[{v['added_q1_ms']:+.0f}, {v['added_q3_ms']:+.0f}]"
            f"{' (not resolved)' if unresolved else ''} | "
            f"{v['rss_kib'] / 1024:.1f} MiB | {v['added_rss_kib'] / 1024:+.1f} MiB | "
            f"{v['requests_per_run']:.2f} | {v['curl_loaded']}/{v['runs']} | "
            f"{v['ok']}/{v['runs']} |")
    return lines


def requests_section(rows, fleet_rows):
    lines = ["### API requests on a cold cache", "",
             "M processes started together, each with T threads connecting at once "
             "(PostgreSQL allows 250 connections at once).", "",
             "The program's own conninfo leads nowhere (`postgres://stale:stale@127.0.0.1:1/none`): "
             "a connection succeeds only with the URL from the API.", "",
             "| processes × threads | API requests | connected | `herokupq: error` lines |",
             "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['processes']} × {r['threads']} | {r['requests']} | "
                     f"{r['connected']}/{r['connections']} | {r.get('error_lines', 0)} |")
    errors = [r for r in rows if r.get("first_error")]
    if errors:
        lines += ["", f"First error line ({errors[-1]['processes']} × {errors[-1]['threads']}): "
                  f"`{errors[-1]['first_error']}`"]
    lines += ["", "Fleet projection: every host starts one short process a minute; "
              "Heroku's budget is 4,500 requests per account per hour (refilled ~75/min). "
              "Per-process cache: each process's requests as measured (1 × 1 row); "
              "shared cache: one cold wave per host per `HEROKUPQ_TTL` (3600 s), "
              "as measured (64 × 16 row).", "",
              "| hosts | per-process cache: requests/hour | of the budget | shared cache: "
              "requests/hour | of the budget |", "|---|---|---|---|---|"]
    for f in fleet_rows:
        lines.append(f"| {f['hosts']:,} | {f['per_process_cache']:,.0f} | "
                     f"{f['per_process_pct']:,.0f}% | {f['shared_cache']:,.0f} | "
                     f"{f['shared_pct']:,.1f}% |")
    return lines


def rotation_section(r):
    lines = ["### Rotation", "",
             "A warm process connects as soon as a rotation has changed the password "
             "(the config var changes then, or 2 s later): time from the config var's change to "
             "its connection, failed logins in PostgreSQL's log "
             "(`FATAL:  password authentication failed`), API requests.",
             "",
             "| config var | trials | var change → connected (median / max) | failed logins (max) "
             "| API requests (max) |", "|---|---|---|---|---|"]
    for label, v in r.items():
        timing = (f"{v['after_var_ms_median']:.0f} / {v['after_var_ms_max']:.0f} ms"
                  if v["measured"] == v["trials"] else
                  f"{v['trials'] - v['measured']} of {v['trials']} connected before the var changed")
        lines.append(f"| {label} | {v['trials']} | {timing} | {v['failed_logins_max']} | "
                     f"{v['requests_max']} |")
    return lines


def targets(res):
    rows = []
    w, c = res.get("warm"), res.get("cold")
    if w:
        rows.append(("warm: median ratio ≤ 1.01", f"{w['median_ratio']:.3f}",
                     compared(w["bare"], w["shim"], w["median_ratio"] <= 1.01)))
    ins = res.get("instructions")
    if ins:
        added, floor = warm_instructions(ins)
        noise = max(abs(f) for f in floor)
        rows.append(("warm connection, whole process: shim − bare ≤ 30,000 instructions",
                     f"{median(added):+,.0f} (noise floor {noise:,.0f})",
                     True if median(added) + noise <= 30000
                     else False if median(added) - noise > 30000 else NOISE))
        runs = ins["processes"]
        psql = median([r["psql, shim, warm shared cache"] for r in runs]) - median(
            [r["psql bare"] for r in runs])
        rows.append(("new psql, warm shared cache, whole process: ≤ 1,000,000 instructions "
                     "over bare", f"{psql:+,.0f}", psql <= 1000000))
    if c:
        bare = c["variants"]["bare psql"]
        v = c["variants"].get("shim, warm shared cache")
        rows.append(("new process, warm shared cache: 0 API requests",
                     f"{v['requests_per_run']:.2f}", v["requests_per_run"] == 0))
        rows.append(("new process, warm shared cache: libcurl not loaded",
                     f"{v['curl_loaded']}/{v['runs']} loaded", v["curl_loaded"] == 0))
        rows.append(("new process, warm shared cache: added ≤ 1 ms over bare psql",
                     f"{v['added_ms']:+.1f} ms, quartiles [{v['added_q1_ms']:+.0f}, "
                     f"{v['added_q3_ms']:+.0f}] ms", compared(bare, v, within(v, 1.0))))
        h = c["variants"].get("heroku config:get + psql")
        if h:
            # the shim's added time may be at most 1/500 of the recipe's
            rows.append(("recipe's added time ≥ 500× the shim's (warm shared cache)",
                         f"recipe +{h['added_ms']:.0f} ms: the shim may add ≤ "
                         f"{h['added_ms'] / 500:.1f} ms; it adds {v['added_ms']:+.1f} ms",
                         compared(bare, v, within(v, h["added_ms"] / 500))))
    big = [r for r in res.get("requests", []) if r["processes"] == 64 and r["threads"] == 16]
    if big:
        rows.append(("64 processes × 16 threads, cold cache: exactly 1 API request",
                     str(big[0]["requests"]), big[0]["requests"] == 1))
    rot = res.get("rotation")
    if rot:
        fl = max(v["failed_logins_max"] for v in rot.values())
        ms = max((v["after_var_ms_max"] or float("inf")) for v in rot.values())
        rq = max(v["requests_max"] for v in rot.values())
        rows += [("rotation: ≤ 1 failed authentication per process", str(fl), fl <= 1),
                 ("rotation: connected within 300 ms of the var change", f"{ms:.0f} ms", ms <= 300),
                 ("rotation: ≤ ~10 API requests per host", str(rq), rq <= 10)]
    lines = ["### Targets (issues 6 and 14)", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {verdict(ok)} |" for t, m, ok in rows]
    return lines


def markdown(res):
    from bench import fleet  # the projection lives with the measurement
    lines = [f"Measured by `make bench` on {res['when']} ({res['machine']}; load average "
             f"{res['load_before']:.1f} at the start, {res['load_after']:.1f} at the end), against "
             "the local PostgreSQL and Heroku API double of `scripts/testenv.sh` (loopback).", ""]
    if "warm" in res:
        lines += warm_section(res["warm"]) + [""]
    if res.get("instructions"):
        lines += instructions_section(res["instructions"]) + [""]
    if "cold" in res:
        lines += cold_section(res["cold"]) + [""]
    if "requests" in res:
        by = {(r["processes"], r["threads"]): r["requests"] for r in res["requests"]}
        rows = fleet(by.get((1, 1), 1), by.get((64, 16), 1))
        lines += requests_section(res["requests"], rows) + [""]
    if "rotation" in res:
        lines += rotation_section(res["rotation"]) + [""]
    lines += targets(res)
    return "\n".join(lines) + "\n"


# ---- --self-test: the verdicts on made-up results ---------------------------------------

def _results(bare, shim, ratio):
    """A warm and a cold result with the given [q1, q3] for the bare and shim sides.

    >>> t = targets(_results((10, 12), (11, 13), 1.005))
    >>> [v for name, _, v in _rows(t) if "ratio" in name or "1 ms" in name]
    ["not resolved: the two sides' quartiles overlap", "not resolved: the two sides' quartiles overlap"]
    >>> t = targets(_results((10, 12), (20, 22), 1.8))
    >>> [v for name, _, v in _rows(t) if "ratio" in name or "1 ms" in name]
    ['**not met**', '**not met**']
    >>> t = targets(_results((10, 10.2), (10.3, 10.4), 1.004))
    >>> [v for name, _, v in _rows(t) if "ratio" in name]
    ['met']
    """
    side = lambda q: {"median_ms": sum(q) / 2, "p99_ms": q[1], "q1_ms": q[0], "q3_ms": q[1]}
    added = (shim[0] - bare[0], (shim[0] + shim[1] - bare[0] - bare[1]) / 2, shim[1] - bare[0])
    cold = {"bare psql": dict(side(bare), added_ms=0, added_q1_ms=0, added_q3_ms=0),
            "shim, warm shared cache": dict(side(shim), added_q1_ms=added[0], added_ms=added[1],
                                            added_q3_ms=added[2], requests_per_run=0,
                                            curl_loaded=0, runs=12)}
    return {"warm": {"bare": side(bare), "shim": side(shim), "median_ratio": ratio},
            "cold": {"variants": cold}}


def _rows(lines):
    """(target, measured, verdict) of each row of the targets table."""
    return [tuple(c.strip() for c in line.strip("|").split("|")) for line in lines[4:]]


def self_test():
    failed, tried = doctest.testmod(sys.modules[__name__])
    print(f"report.py self-test: {tried - failed} of {tried} checks passed")
    return 1 if failed or not tried else 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--self-test"]:
        sys.exit("usage: python3 bench/report.py --self-test (bench/bench.py writes the report)")
    sys.exit(self_test())
