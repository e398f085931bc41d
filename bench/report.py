"""bench/results/results.md from bench.py's results: the tables and each target
of issue 6, met or not."""


def fmt_ms(ms):
    return "n/a" if ms is None else f"{ms:.2f} ms"


def verdict(ok):
    if ok is None:
        return "not resolved (the noise is larger than the target)"
    return "met" if ok else "**not met**"


def within(v, limit_ms):
    """Added time ≤ limit: met if even the upper quartile is, not met if the median
    is above it, otherwise this run cannot tell (None)."""
    if v["added_q3_ms"] <= limit_ms:
        return True
    return False if v["added_ms"] > limit_ms else None


def warm_section(w):
    cg = w.get("callgrind")
    lines = ["### Warm connections", "",
             f"`PQconnectdb` + `SELECT 1` + `PQfinish`, {w['n']} of each, interleaved in lock step "
             "(two long-lived processes, one through the shim, random order in each pair).", "",
             "| | bare libpq | through the shim | ratio |", "|---|---|---|---|",
             f"| median | {fmt_ms(w['bare']['median_ms'])} | {fmt_ms(w['shim']['median_ms'])} "
             f"| {w['median_ratio']:.3f} |",
             f"| p99 | {fmt_ms(w['bare']['p99_ms'])} | {fmt_ms(w['shim']['p99_ms'])} "
             f"| {w['p99_ratio']:.3f} |", "",
             f"Per pair (shim ÷ bare, the two connections of one pair): median "
             f"{w['pair_ratio']['median']:.3f}, quartiles {w['pair_ratio']['q1']:.3f}–"
             f"{w['pair_ratio']['q3']:.3f}."]
    if cg:
        lines += ["", f"Instructions per connection (callgrind, {cg['n']} warm connections): "
                  f"bare {cg['bare_per_conn']:,.0f}, through the shim {cg['shim_per_conn']:,.0f}: "
                  f"**{cg['added_per_conn']:+,.0f}** "
                  f"({100 * cg['added_per_conn'] / cg['bare_per_conn']:+.3f}%)."]
    return lines


def cold_section(c):
    lines = ["### A new process: `psql -c 'select 1'`", "",
             f"{c['rounds']} rounds, the variants in random order in each round; median wall time "
             "and peak RSS of the process (for the recipe: the larger of `heroku` and `psql`).", ""]
    if not c["shared_cache"]:
        lines += ["The shim in this build has no shared cache (`HEROKUPQ_CACHE_DIR` unknown to it):"
                  " every new process fetches, cold or \"warm\".", ""]
    lines += ["Added over bare: the median of the differences with bare psql in the same round "
              "(quartiles in brackets: this machine's noise).", "",
              "| variant | median | added over bare | peak RSS | added RSS | API requests per run "
              "| libcurl loaded | ok |", "|---|---|---|---|---|---|---|---|"]
    for name, v in c["variants"].items():
        lines.append(
            f"| {name} | {fmt_ms(v['median_ms'])} | {v['added_ms']:+.1f} ms "
            f"[{v['added_q1_ms']:+.0f}, {v['added_q3_ms']:+.0f}] | "
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
                     w["median_ratio"] <= 1.01))
        cg = w.get("callgrind")
        if cg:
            rows.append(("warm: added instructions ≤ 30,000 per connection",
                         f"{cg['added_per_conn']:,.0f}", cg["added_per_conn"] <= 30000))
    if c:
        v = c["variants"].get("shim, warm shared cache")
        rows.append(("new process, warm shared cache: 0 API requests",
                     f"{v['requests_per_run']:.2f}", v["requests_per_run"] == 0))
        rows.append(("new process, warm shared cache: libcurl not loaded",
                     f"{v['curl_loaded']}/{v['runs']} loaded", v["curl_loaded"] == 0))
        rows.append(("new process, warm shared cache: added ≤ 1 ms over bare psql",
                     f"{v['added_ms']:+.1f} ms, quartiles [{v['added_q1_ms']:+.0f}, "
                     f"{v['added_q3_ms']:+.0f}] ms", within(v, 1.0)))
        h = c["variants"].get("heroku config:get + psql")
        if h:
            # the shim's added time may be at most 1/500 of the recipe's
            rows.append(("recipe's added time ≥ 500× the shim's (warm shared cache)",
                         f"recipe +{h['added_ms']:.0f} ms: the shim may add ≤ "
                         f"{h['added_ms'] / 500:.1f} ms; it adds {v['added_ms']:+.1f} ms",
                         within(v, h["added_ms"] / 500)))
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
    lines = ["### Targets (issue 6)", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {verdict(ok)} |" for t, m, ok in rows]
    return lines


def markdown(res):
    from bench import fleet  # the projection lives with the measurement
    lines = [f"Measured by `make bench` on {res['when']} ({res['machine']}; load average "
             f"{res['load_before']:.1f} at the start, {res['load_after']:.1f} at the end), against "
             "the local PostgreSQL and Heroku API double of `scripts/testenv.sh` (loopback).", ""]
    if "warm" in res:
        lines += warm_section(res["warm"]) + [""]
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
