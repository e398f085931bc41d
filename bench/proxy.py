#!/usr/bin/python3
"""herokupq proxy's benchmark (bench/run.sh runs it after bench.py, in the same
test environment: scripts/testenv.sh's HPQ_* variables must be set).

Interleaved, one client library (psycopg2, Debian's python3-psycopg2) on every
side, the same TLS upstream (sslmode=require, SCRAM):

  new connection   connect + SELECT 1 + close: direct, through the proxy's socket,
                   through its TCP listener (SCRAM with the local password); two
                   shapes: the client ends its transaction (autocommit), or it
                   closes inside one (psycopg2's default without commit)
  round trip       SELECT 1 on a held connection: direct and through the socket
  burst            200 clients at once (connect, a 20 ms transaction, close), the
                   role limited to 20 connections: direct, and through a proxy in
                   transaction mode with its default pool size

Writes OUT/proxy.md and OUT/proxy.json; prints the Markdown.
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CMD = os.path.join(ROOT, "build", "herokupq")
E = os.environ


def current_url():
    req = urllib.request.Request(E["HPQ_API_CONTROL"] + "/rotate/status")
    with urllib.request.urlopen(req, timeout=30) as resp:
        password = json.load(resp).get("password") or E["HPQ_DB_PASSWORD"]
    return (f"host=127.0.0.1 port={E['HPQ_PG_PORT']} dbname={E['HPQ_DB_NAME']} "
            f"user={E['HPQ_DB_USER']} password={password} sslmode=require")


class Proxy:
    """A herokupq proxy in its own directory and cache, stopped by stop()."""

    def __init__(self, work, name, *args):
        self.dir = os.path.join(work, name)
        env = {k: v for k, v in E.items() if not k.startswith(("PG", "HEROKU"))}
        env.update(HEROKU_APP=E["HPQ_APP"], HEROKU_API_KEY=E["HPQ_TOKEN"],
                   HEROKU_HOST=E["HPQ_API_URL"], HEROKUPQ_CAFILE=E["HPQ_CAFILE"],
                   HEROKUPQ_CACHE_DIR=os.path.join(work, name + ".cache"), HEROKUPQ_LOG="warn")
        self.log = open(os.path.join(work, name + ".log"), "w+")
        self.proc = subprocess.Popen([CMD, "proxy", "--dir", self.dir, *args], env=env,
                                     stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            self.log.seek(0)
            if "proxy ready:" in self.log.read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.log.seek(0)
        raise SystemExit("bench/proxy.py: the proxy did not start: " + self.log.read())

    def socket(self, user="bench"):
        return f"host={self.dir} port=6432 dbname=bench user={user}"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()


def new_connection(dsn, autocommit):
    t = time.perf_counter()
    c = psycopg2.connect(dsn)
    c.autocommit = autocommit
    cur = c.cursor()
    cur.execute("SELECT 1")
    cur.fetchone()
    c.close()  # without autocommit: inside the transaction SELECT opened
    return (time.perf_counter() - t) * 1000


def quartiles(xs):
    q = statistics.quantiles(xs, n=4)
    return {"median": statistics.median(xs), "q1": q[0], "q3": q[2], "n": len(xs)}


def interleaved(sides, runs):
    """sides: name -> callable returning ms; every run calls each once, in random order."""
    out = {name: [] for name in sides}
    for _ in range(runs):
        names = list(sides)
        random.shuffle(names)
        for name in names:
            out[name].append(sides[name]())
    return {name: quartiles(xs) for name, xs in out.items()}


def held_round_trips(dsns, runs):
    conns = {name: psycopg2.connect(dsn) for name, dsn in dsns.items()}
    for c in conns.values():
        c.autocommit = True

    def one(c):
        def run():
            cur = c.cursor()
            t = time.perf_counter()
            cur.execute("SELECT 1")
            cur.fetchone()
            return (time.perf_counter() - t) * 1000
        return run
    result = interleaved({name: one(c) for name, c in conns.items()}, runs)
    for c in conns.values():
        c.close()
    return result


def burst(dsn, clients):
    """clients threads connect at once: served, failed, wall time, first error."""
    barrier = threading.Barrier(clients)
    served, errors = [], []

    def client():
        barrier.wait()
        try:
            c = psycopg2.connect(dsn + " connect_timeout=60")
            cur = c.cursor()
            cur.execute("SELECT pg_sleep(0.02)")
            c.commit()
            c.close()
            served.append(1)
        except Exception as e:  # noqa: BLE001 - counted, the first one shown
            errors.append(str(e).strip().splitlines()[0])
    t = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return {"served": len(served), "failed": len(errors), "seconds": time.perf_counter() - t,
            "error": errors[0] if errors else ""}


def admin(sql):
    subprocess.run(["psql", "-X", "-q", "-At", E["HPQ_PG_ADMIN"], "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def fmt(q):
    return f"{q['median']:.2f} ms ({q['q1']:.2f}–{q['q3']:.2f})"


def report(r):
    nc, rt, b = r["new_connection"], r["round_trip"], r["burst"]
    lines = [
        "| measure (median, quartiles) | direct (TLS + SCRAM) | proxy, socket | proxy, TCP + local SCRAM |",
        "|---|---|---|---|",
    ]
    for shape, label in (("autocommit", "new connection + SELECT 1, transaction ended"),
                         ("in_transaction", "new connection + SELECT 1, closed inside a transaction")):
        d, s, t = nc[shape]["direct"], nc[shape]["socket"], nc[shape]["tcp"]
        lines.append(f"| {label} | {fmt(d)} | {fmt(s)} = {s['median'] / d['median']:.3f}× "
                     f"| {fmt(t)} = {t['median'] / d['median']:.3f}× |")
    d, s = rt["direct"], rt["socket"]
    lines.append(f"| SELECT 1 on a held connection | {fmt(d)} | {fmt(s)}: +{s['median'] - d['median']:.3f} ms | |")
    bd, bp = b["direct"], b["proxy"]
    lines.append(f"| {r['clients']} clients at once, role limited to 20 | {bd['served']} served, "
                 f"{bd['failed']} failed ({bd['error'][:60]}) | {bp['served']} served, {bp['failed']} "
                 f"failed, {bp['seconds']:.2f} s (transaction mode, pool 15) | |")
    target = nc["autocommit"]["socket"]["median"] / nc["autocommit"]["direct"]["median"]
    lines += ["", f"Target: a new connection through the proxy <= 1/10 of a direct one: "
              f"{target:.3f}× — {'met' if target <= 0.1 else 'NOT met'}. "
              f"{r['runs']} interleaved runs per side; {r['rtt_runs']} round trips."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--rtt-runs", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=200)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="herokupq-bench-proxy.")
    os.chmod(work, 0o755)  # as root, PgBouncer's user enters its directory
    port = free_port()
    proxy = Proxy(work, "session", "--listen", f"127.0.0.1:{port}")
    try:
        with open(os.path.join(proxy.dir, "password")) as f:
            local = f.read().strip()
        direct = current_url()
        tcp = f"host=127.0.0.1 port={port} dbname=bench user=herokupq password={local}"
        r = {"runs": a.runs, "rtt_runs": a.rtt_runs, "clients": a.clients, "new_connection": {}}
        for shape, ac in (("autocommit", True), ("in_transaction", False)):
            sides = {"direct": lambda ac=ac: new_connection(direct, ac),
                     "socket": lambda ac=ac: new_connection(proxy.socket("herokupq"), ac),
                     "tcp": lambda ac=ac: new_connection(tcp, ac)}
            r["new_connection"][shape] = interleaved(sides, a.runs)
        r["round_trip"] = held_round_trips({"direct": direct, "socket": proxy.socket("herokupq")},
                                           a.rtt_runs)
    finally:
        proxy.stop()
    admin(f"ALTER ROLE {E['HPQ_DB_USER']} CONNECTION LIMIT 20")
    try:
        r["burst"] = {"direct": burst(current_url(), a.clients)}
        time.sleep(1)  # the direct burst's backends go
        tx = Proxy(work, "transaction", "--pool-mode", "transaction")
        try:
            r["burst"]["proxy"] = burst(tx.socket(), a.clients)
        finally:
            tx.stop()
    finally:
        admin(f"ALTER ROLE {E['HPQ_DB_USER']} CONNECTION LIMIT -1")
        shutil.rmtree(work, ignore_errors=True)
    md = report(r)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "proxy.md"), "w") as f:
        f.write(md)
    with open(os.path.join(a.out, "proxy.json"), "w") as f:
        json.dump(r, f, indent=1)
    sys.stdout.write(md)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


if __name__ == "__main__":
    main()
