#!/usr/bin/python3
"""herokupq's benchmarks (`make bench`; bench/run.sh starts the test environment).

Each comparison runs side by side in one run, interleaved, against the local
PostgreSQL and Heroku API double of scripts/testenv.sh (their HPQ_* variables
must be in the environment):

  warm      PQconnectdb + SELECT 1 + PQfinish in two long-lived processes, one
            through the shim, driven in lock step (random order in each pair)
  instructions  valgrind --tool=callgrind, whole processes, in separate pairs:
            per warm connection (bare, bare again: the noise floor, and through
            the shim holding a stale URL, with a warm shared cache); a new
            `psql -c 'select 1'` bare, through the shim (warm and cold shared
            cache); /bin/true bare and preloaded
  cold      a new `psql -c 'select 1'` per run: bare, through the shim with a
            cold and a warm shared cache, and the Heroku CLI recipe
            DATABASE_URL=$(heroku config:get DATABASE_URL -a APP) psql ...
  requests  M processes x T threads on a cold cache: API requests; fleet projection
  rotation  the config var 0 s and 2 s after the password: time from the var
            change to the first successful connection, failed logins, requests

Writes bench/results/results.md (the Markdown docs/performance.md quotes), results.json
and the data files of the plots. Python 3 standard library only.
"""
import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
SHIM = os.path.join(BUILD, "libherokupq.so")
WARM = os.path.join(BUILD, "bench", "warm")
CONNECT = os.path.join(BUILD, "progs", "hpq_connect")
HEROKU = os.path.join(ROOT, "bench", "node_modules", ".bin", "heroku")
STALE_CONNINFO = "postgres://stale:stale@127.0.0.1:1/none"  # only a rewrite reaches the database
BUDGET_PER_HOUR = 4500  # Heroku: 4,500 requests per account, refilled ~75/min
E = os.environ


def db_conninfo():
    """The database's current URL (a rotation changes it), as bare psql gets it."""
    return current_url() + "?sslmode=require"


def clean_env(**extra):
    """The caller's environment without libpq or herokupq settings, plus extra."""
    env = {k: v for k, v in E.items()
           if not k.startswith(("PG", "HEROKU", "DATABASE_URL")) and k != "LD_PRELOAD"}
    env.update(extra)
    return env


def shim_env(**extra):
    settings = {"LD_PRELOAD": SHIM, "HEROKU_APP": E["HPQ_APP"], "HEROKU_API_KEY": E["HPQ_TOKEN"],
                "HEROKU_HOST": E["HPQ_API_URL"], "HEROKUPQ_CAFILE": E["HPQ_CAFILE"],
                "HEROKUPQ_LOG": "warn"}
    settings.update(extra)
    return clean_env(**settings)


def control(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(E["HPQ_API_CONTROL"] + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def api_count():
    return control("GET", "/requests")["count"]


def api_reset():
    control("POST", "/reset")


def current_url():
    return control("GET", "/config-vars")["DATABASE_URL"]


def psql_bin():
    return os.path.join(E["HPQ_PGBIN"], "psql")


def pct(values, p):
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def shim_has_shared_cache():
    with open(SHIM, "rb") as f:
        return b"HEROKUPQ_CACHE_DIR" in f.read()


def new_cache_dir(parent):
    return tempfile.mkdtemp(prefix="cache.", dir=parent)  # 0700, ours


# ---------------------------------------------------------------- warm

class Driver:
    """A `warm CONNINFO` process: one connection per line written to it."""

    def __init__(self, env):
        self.proc = subprocess.Popen([WARM, db_conninfo()], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def connect(self):
        self.proc.stdin.write("c\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the warm client failed (see its stderr above)")
        return int(line) / 1e6  # ms

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def bench_warm(n, out):
    sides = {"bare": Driver(clean_env()), "shim": Driver(shim_env())}
    times = {"bare": [], "shim": []}
    try:
        for side in sides.values():  # warm up: libcurl, the API fetch, TLS caches
            for _ in range(5):
                side.connect()
        for _ in range(n):
            order = list(sides)
            random.shuffle(order)
            for name in order:
                times[name].append(sides[name].connect())
    finally:
        for side in sides.values():
            side.close()
    with open(os.path.join(out, "warm.dat"), "w") as f:
        f.write("# rank/n  bare_ms  shim_ms (each column sorted)\n")
        for i, (b, s) in enumerate(zip(sorted(times["bare"]), sorted(times["shim"]))):
            f.write(f"{(i + 1) / n:.5f} {b:.3f} {s:.3f}\n")
    res = {"n": n}
    for name in sides:
        res[name] = {"median_ms": statistics.median(times[name]), "p99_ms": pct(times[name], 99),
                     "q1_ms": pct(times[name], 25), "q3_ms": pct(times[name], 75)}
    res["median_ratio"] = res["shim"]["median_ms"] / res["bare"]["median_ms"]
    pair = [s_ / b for s_, b in zip(times["shim"], times["bare"])]
    res["pair_ratio"] = {"median": statistics.median(pair), "q1": pct(pair, 25),
                         "q3": pct(pair, 75)}
    res["p99_ratio"] = res["shim"]["p99_ms"] / res["bare"]["p99_ms"]
    return res


def callgrind_total(argv, env, path, toggle=None):
    """Instructions valgrind --tool=callgrind counts for argv (inside function toggle
    only, if given); raises if the program fails."""
    opts = [f"--toggle-collect={toggle}"] if toggle else []
    subprocess.run(["valgrind", "--tool=callgrind", *opts, f"--callgrind-out-file={path}", *argv],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


# A function's inclusive cost in `callgrind_annotate --inclusive=yes`: "Ir (pct)  file:fn [object]".
INCLUSIVE_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S*?:(\w+) \[(.+)\]$")


def shim_own_ir(path):
    """The shim's own instructions in a callgrind file: for each libpq name the shim
    exports (its PQ* functions), its inclusive cost minus that of the libpq function of
    the same name it wraps. Informational: what the shim makes libpq do differently
    is not in it; the whole-process difference is the measure."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                          capture_output=True, text=True, check=True).stdout
    shim, libpq = {}, {}
    for line in text.splitlines():
        m = INCLUSIVE_LINE.match(line)
        if m and m.group(2).startswith("PQ"):
            obj = os.path.basename(m.group(3))
            side = shim if obj == os.path.basename(SHIM) else libpq if "libpq" in obj else None
            if side is not None:
                side[m.group(2)] = int(m.group(1).replace(",", ""))
    return sum(cost - libpq.get(name, 0) for name, cost in shim.items())


def stale_conninfo():
    """The current URL's server with a password that no longer works: what a program
    holds after a rotation; only the shim's rewrite connects with it."""
    url = urllib.parse.urlsplit(current_url())
    return f"postgres://{url.username}:stale@{url.hostname}:{url.port}{url.path}"


def warm_pair(i, n, warm_dir, out):
    """One pair of separate processes (plus a second bare one, the noise floor):
    instructions per connection inside warm.c's measured(), n after 2 warm-up ones."""
    def run(name, env, conninfo):
        path = os.path.join(out, f"callgrind.warm.{name}.{i}")
        return callgrind_total([WARM, conninfo, "2", str(n)], env, path, "measured") / n
    sides = {"bare": (clean_env(), db_conninfo()), "bare again": (clean_env(), db_conninfo()),
             "shim": (shim_env(HEROKUPQ_CACHE_DIR=warm_dir), stale_conninfo())}
    order = list(sides)
    random.shuffle(order)
    res = {name: run(name.replace(" ", "_"), *sides[name]) for name in order}
    res["shim_own"] = shim_own_ir(os.path.join(out, f"callgrind.warm.shim.{i}")) / n
    return res


def process_runs(i, work, warm_dir, out):
    """Whole-process instructions of one new process of each kind."""
    def run(name, argv, env):
        return callgrind_total(argv, env, os.path.join(out, f"callgrind.proc.{name}.{i}"))
    cold_dir = new_cache_dir(work)
    kinds = {"psql bare": (psql_argv(db_conninfo()), clean_env()),
             "psql, shim, warm shared cache": (psql_argv(stale_conninfo()),
                                               shim_env(HEROKUPQ_CACHE_DIR=warm_dir)),
             "psql, shim, cold shared cache": (psql_argv(stale_conninfo()),
                                               shim_env(HEROKUPQ_CACHE_DIR=cold_dir)),
             "/bin/true bare": (["/bin/true"], clean_env()),
             "/bin/true preloaded": (["/bin/true"], shim_env())}
    order = list(kinds)
    random.shuffle(order)
    try:
        return {name: run(re.sub(r"\W+", "_", name), *kinds[name]) for name in order}
    finally:
        shutil.rmtree(cold_dir, ignore_errors=True)


def bench_instructions(pairs, n, work, out):
    if not shutil.which("valgrind"):
        return None
    warm_dir = new_cache_dir(work)
    subprocess.run([WARM, stale_conninfo(), "1", "1"], check=True,  # fills the shared cache
                   env=shim_env(HEROKUPQ_CACHE_DIR=warm_dir))
    return {"n": n, "pairs": [warm_pair(i, n, warm_dir, out) for i in range(pairs)],
            "processes": [process_runs(i, work, warm_dir, out) for i in range(pairs)]}


# ---------------------------------------------------------------- cold process

def run_rss(argv, env, cwd=None):
    """(ms, exit status, max RSS KiB, stdout, stderr), via wait4."""
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child
        os.dup2(w_out, 1)
        os.dup2(w_err, 2)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        for fd in (r_out, r_err, w_out, w_err, devnull):
            os.close(fd)
        try:
            if cwd:
                os.chdir(cwd)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    os.close(w_out)
    os.close(w_err)
    chunks = {r_out: [], r_err: []}

    def drain(fd):
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            chunks[fd].append(data)
        os.close(fd)

    t = threading.Thread(target=drain, args=(r_err,))
    t.start()
    drain(r_out)
    t.join()
    _, status, usage = os.wait4(pid, 0)
    ms = (time.perf_counter() - start) * 1000
    return (ms, os.waitstatus_to_exitcode(status), usage.ru_maxrss,
            b"".join(chunks[r_out]).decode(errors="replace"),
            b"".join(chunks[r_err]).decode(errors="replace"))


def psql_argv(conninfo):
    return [psql_bin(), "-X", "-qAt", "-d", conninfo, "-c", "select 1"]


def heroku_env(home):
    # The CLI pointed at the double; its own state in a throwaway HOME; no update
    # checks or telemetry (nothing may leave loopback).
    return clean_env(HOME=home, HEROKU_HOST=E["HPQ_API_URL"], HEROKU_API_KEY=E["HPQ_TOKEN"],
                     NODE_EXTRA_CA_CERTS=E["HPQ_CAFILE"], HEROKU_SKIP_NEW_VERSION_CHECK="true",
                     HEROKU_DISABLE_AUTOUPDATE="true", HEROKU_SKIP_ANALYTICS="1",
                     DISABLE_TELEMETRY="true", XDG_CACHE_HOME=home, XDG_DATA_HOME=home,
                     XDG_CONFIG_HOME=home)


def cold_variants(work):
    """name -> function running one process start; returns (ms, rss, ok, curl_loaded)."""
    warm_dir = new_cache_dir(work)
    home = tempfile.mkdtemp(prefix="home.", dir=work)

    def check(rc, stdout):
        return rc == 0 and stdout.strip() == "1"

    def bare():
        ms, rc, rss, out, _ = run_rss(psql_argv(db_conninfo()), clean_env())
        return ms, rss, check(rc, out), False

    def through_shim(cache_dir):
        env = shim_env(HEROKUPQ_CACHE_DIR=cache_dir, LD_DEBUG="files",
                       LD_DEBUG_OUTPUT=os.path.join(work, "ld"))
        for old in os.listdir(work):
            if old.startswith("ld."):
                os.unlink(os.path.join(work, old))
        ms, rc, rss, out, _ = run_rss(psql_argv(STALE_CONNINFO), env)
        curl = any("libcurl" in open(os.path.join(work, f), errors="replace").read()
                   for f in os.listdir(work) if f.startswith("ld."))
        return ms, rss, check(rc, out), curl

    def shim_cold():
        cache_dir = new_cache_dir(work)
        try:
            return through_shim(cache_dir)
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)

    def shim_warm():
        return through_shim(warm_dir)

    def recipe():
        ms1, rc1, rss1, url, err = run_rss(
            [HEROKU, "config:get", "DATABASE_URL", "-a", E["HPQ_APP"]], heroku_env(home), cwd=home)
        if rc1 != 0:
            sys.stderr.write(err)
        ms2, rc2, rss2, out, _ = run_rss(psql_argv(url.strip()), clean_env())
        return ms1 + ms2, max(rss1, rss2), rc1 == 0 and check(rc2, out), False

    through_shim(warm_dir)  # fills the warm directory
    variants = {"bare psql": bare, "shim, cold shared cache": shim_cold,
                "shim, warm shared cache": shim_warm}
    if os.access(HEROKU, os.X_OK):
        variants["heroku config:get + psql"] = recipe
    return variants


def bench_cold(rounds, work, out):
    variants = cold_variants(work)
    samples = {name: [] for name in variants}
    requests = {name: 0 for name in variants}
    for _ in range(rounds):
        order = list(variants)
        random.shuffle(order)
        for name in order:
            before = api_count()
            samples[name].append(variants[name]())
            requests[name] += api_count() - before
    res = {"rounds": rounds, "shared_cache": shim_has_shared_cache(), "variants": {}}
    bare = samples["bare psql"]
    bare_rss = statistics.median(s[1] for s in bare)
    for name, runs in samples.items():
        ms = statistics.median(r[0] for r in runs)
        rss = statistics.median(r[1] for r in runs)
        # added time: the median of the differences with bare psql in the same round,
        # and their quartiles (the noise of this machine)
        diffs = [r[0] - b[0] for r, b in zip(runs, bare)]
        walls = [r[0] for r in runs]
        res["variants"][name] = {
            "median_ms": ms, "q1_ms": pct(walls, 25), "q3_ms": pct(walls, 75),
            "added_ms": statistics.median(diffs),
            "added_q1_ms": pct(diffs, 25), "added_q3_ms": pct(diffs, 75), "rss_kib": rss,
            "added_rss_kib": rss - bare_rss, "ok": sum(r[2] for r in runs), "runs": len(runs),
            "requests_per_run": requests[name] / len(runs),
            "curl_loaded": sum(r[3] for r in runs)}
    with open(os.path.join(out, "cold.dat"), "w") as f:
        f.write("# variant median_ms added_ms\n")
        for name, v in res["variants"].items():
            f.write(f"\"{name}\" {v['median_ms']:.2f} {v['added_ms']:.2f}\n")
    return res


# ---------------------------------------------------------------- API requests

def bench_requests(grid, work):
    results = []
    for procs, threads in grid:
        api_reset()
        cache_dir = new_cache_dir(work)
        env = shim_env(HEROKUPQ_CACHE_DIR=cache_dir, HEROKUPQ_LOG="error")
        # The program's own conninfo leads nowhere: only the API's URL connects.
        argv = [CONNECT, "-t", str(threads), STALE_CONNINFO]
        children = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
                    for _ in range(procs)]
        ok = errors = 0
        first_error = None
        for child in children:
            stdout, stderr = child.communicate(timeout=300)
            ok += sum(1 for line in stdout.splitlines() if line.startswith("ok "))
            lines = [line for line in stderr.splitlines() if "herokupq: error:" in line]
            errors += len(lines)
            first_error = first_error or (lines[0] if lines else None)
        results.append({"processes": procs, "threads": threads, "requests": api_count(),
                        "connected": ok, "connections": procs * threads,
                        "error_lines": errors, "first_error": first_error})
        shutil.rmtree(cache_dir, ignore_errors=True)
    return results


def fleet(requests_per_cold_process, requests_per_cold_host, ttl_s=3600):
    """Requests per hour for fleets whose hosts each start a short process a minute."""
    rows = []
    for hosts in (10, 100, 1000):
        per_process = hosts * 60 * requests_per_cold_process
        shared = hosts * requests_per_cold_host * max(1.0, 3600 / ttl_s)
        rows.append({"hosts": hosts, "per_process_cache": per_process,
                     "shared_cache": shared,
                     "per_process_pct": 100 * per_process / BUDGET_PER_HOUR,
                     "shared_pct": 100 * shared / BUDGET_PER_HOUR})
    return rows


# ---------------------------------------------------------------- rotation

def failed_logins_since(offset):
    with open(os.path.join(E["HPQ_TEST_DIR"], "postgresql.log"), "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    return len(re.findall(r"FATAL:  password authentication failed", text))


def pg_log_size():
    return os.path.getsize(os.path.join(E["HPQ_TEST_DIR"], "postgresql.log"))


def wait_var_change(old_url, stop):
    """Poll the double until the config var differs from old_url: its time."""
    while not stop.is_set():
        if current_url() != old_url:
            return time.perf_counter()
        time.sleep(0.002)
    return None


def one_rotation(order, delay_ms, work):
    driver = Driver(shim_env(HEROKUPQ_CACHE_DIR=new_cache_dir(work)))
    try:
        driver.connect()  # warm: the URL is cached
        old_url, log_at, requests_at = current_url(), pg_log_size(), api_count()
        seen = {}
        stop = threading.Event()
        watcher = threading.Thread(target=lambda: seen.update(t=wait_var_change(old_url, stop)))
        watcher.start()
        control("POST", "/rotate", {"order": order, "delay_ms": delay_ms})
        while not control("GET", "/rotate/status").get("db_updated"):
            time.sleep(0.005)  # connect once the password has changed (the var may lag)
        driver.connect()
        done = time.perf_counter()
        stop.set()
        watcher.join()
        while not control("GET", "/rotate/status").get("done"):
            time.sleep(0.05)
        time.sleep(0.2)  # let PostgreSQL write its log lines
        # None: connected before the var changed (the rotation did not bite)
        return {"after_var_ms": (done - seen["t"]) * 1000 if seen.get("t") else None,
                "failed_logins": failed_logins_since(log_at),
                "requests": api_count() - requests_at}
    finally:
        driver.close()


def bench_rotation(trials, work):
    res = {}
    for label, order, delay in (("var 0 s late", "together", 0),
                                ("var 2 s late", "db-first", 2000)):
        runs = [one_rotation(order, delay, work) for _ in range(trials)]
        after = [r["after_var_ms"] for r in runs if r["after_var_ms"] is not None]
        res[label] = {"trials": trials, "runs": runs, "measured": len(after),
                      "after_var_ms_max": max(after) if after else None,
                      "after_var_ms_median": statistics.median(after) if after else None,
                      "failed_logins_max": max(r["failed_logins"] for r in runs),
                      "requests_max": max(r["requests"] for r in runs)}
    return res


# ---------------------------------------------------------------- report

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--warm-n", type=int, default=400)
    p.add_argument("--callgrind-n", type=int, default=10,
                   help="warm connections per process under callgrind")
    p.add_argument("--callgrind-pairs", type=int, default=3,
                   help="pairs of separate processes under callgrind")
    p.add_argument("--cold-rounds", type=int, default=12)
    p.add_argument("--rotation-trials", type=int, default=3)
    p.add_argument("--grid", default="1x1,1x16,8x1,8x16,64x1,64x16",
                   help="processes x threads on a cold cache, comma-separated")
    p.add_argument("--only", nargs="*",
                   default=["warm", "instructions", "cold", "requests", "rotation"])
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="herokupq-bench.")
    results = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": machine(), "load_before": os.getloadavg()[0]}
    try:
        if "warm" in args.only:
            say("warm: %d interleaved connections each" % args.warm_n)
            results["warm"] = bench_warm(args.warm_n, args.out)
        if "instructions" in args.only:
            say("instructions: %d pairs of processes under callgrind" % args.callgrind_pairs)
            results["instructions"] = bench_instructions(args.callgrind_pairs, args.callgrind_n,
                                                         work, args.out)
        if "cold" in args.only:
            say("cold process: %d interleaved rounds" % args.cold_rounds)
            results["cold"] = bench_cold(args.cold_rounds, work, args.out)
        if "requests" in args.only:
            say("API requests: M processes x T threads on a cold cache")
            grid = [tuple(int(n) for n in cell.split("x")) for cell in args.grid.split(",")]
            results["requests"] = bench_requests(grid, work)
        if "rotation" in args.only:
            say("rotation: %d trials per order" % args.rotation_trials)
            results["rotation"] = bench_rotation(args.rotation_trials, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = os.getloadavg()[0]
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    from report import markdown  # bench/report.py
    text = markdown(results)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text)
    print(text)


def machine():
    cores = os.cpu_count()
    libc = os.confstr("CS_GNU_LIBC_VERSION")
    try:
        with open("/etc/os-release") as f:
            osname = re.search(r'PRETTY_NAME="([^"]*)"', f.read()).group(1)
    except (OSError, AttributeError):
        osname = "unknown"
    return f"{osname}, {cores} cores, {libc}"


def say(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
