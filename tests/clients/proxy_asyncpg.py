#!/usr/bin/python3
"""Python asyncpg (pure Python and Cython, no libpq), through `herokupq proxy`.

    proxy_asyncpg.py HOST PORT USER DBNAME [CTRLDIR]

The proxy drivers' protocol (tests/integration/85-proxy-drivers.sh, the same
for every client there): HOST is the proxy's socket directory or 127.0.0.1;
the password, if any, comes from PGPASSWORD. Without CTRLDIR: connect, query,
print one line, `ok user=<current_user> db=<current_database> ssl=<t|f>` (the
server side's user, database and SSL) or `error <message>` (exit 1). With
CTRLDIR: that line from a held connection, then rounds until CTRLDIR/stop
exists, each: the held connection queries its backend's PID (reconnecting
first if it was lost), and a new connection connects, queries and closes;
every failure prints `error held|new: <message>`. While CTRLDIR/pause exists
the client waits between rounds: it creates CTRLDIR/paused, waits until pause
is gone, then removes paused (so the test knows it runs again). Last line:
`done rounds=N held_errors=N new_errors=N held_backends=N`.
"""
import asyncio
import os
import sys

WHOAMI = ("SELECT current_user, current_database(), ssl "
          "FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
ROUND_PAUSE_S = 0.05
CONNECT_TIMEOUT_S = 15


def one_line(text):
    return " ".join(str(text).split()) or "(no message)"


async def connect(args):
    import asyncpg
    host, port, user, dbname = args
    # ssl=False: the hop to the local proxy has no TLS (the proxy's hop to the
    # database has; the query shows it).
    return await asyncpg.connect(host=host, port=int(port), user=user, database=dbname,
                                 password=os.environ.get("PGPASSWORD") or None,
                                 ssl=False, timeout=CONNECT_TIMEOUT_S)


async def whoami(conn):
    row = await conn.fetchrow(WHOAMI)
    if row is None:
        raise RuntimeError("the query returned no row")
    return f"ok user={row[0]} db={row[1]} ssl={'t' if row[2] else 'f'}"


async def once(args):
    conn = await connect(args)
    try:
        return await whoami(conn)
    finally:
        await conn.close()


class Loop:
    def __init__(self, args, ctrl):
        self.args, self.ctrl = args, ctrl
        self.held, self.pid = None, None
        self.rounds = self.held_errors = self.new_errors = self.backends = 0

    def error(self, kind, exc):
        print(f"error {kind}: {one_line(exc)}", flush=True)

    async def held_round(self):
        try:
            if self.held is None:
                self.held = await connect(self.args)
            pid = await self.held.fetchval("SELECT pg_backend_pid()")
            if pid != self.pid:
                self.pid, self.backends = pid, self.backends + 1
        except Exception as exc:  # the driver's errors, and anything unexpected
            self.held_errors += 1
            self.error("held", exc)
            if self.held is not None:
                self.held.terminate()
                self.held = None

    async def new_round(self):
        try:
            line = await once(self.args)
            if not line.startswith("ok "):
                raise RuntimeError(line)
        except Exception as exc:
            self.new_errors += 1
            self.error("new", exc)

    async def pause_if_asked(self):
        pause = os.path.join(self.ctrl, "pause")
        if os.path.exists(pause):
            paused = os.path.join(self.ctrl, "paused")
            open(paused, "w").close()
            while os.path.exists(pause):
                await asyncio.sleep(0.02)
            os.remove(paused)

    async def run(self):
        self.held = await connect(self.args)
        print(await whoami(self.held), flush=True)
        while not os.path.exists(os.path.join(self.ctrl, "stop")):
            await self.pause_if_asked()
            self.rounds += 1
            await self.held_round()
            await self.new_round()
            await asyncio.sleep(ROUND_PAUSE_S)
        if self.held is not None:
            await self.held.close()
        print(f"done rounds={self.rounds} held_errors={self.held_errors} "
              f"new_errors={self.new_errors} held_backends={self.backends}", flush=True)


def main(argv):
    if len(argv) not in (5, 6):
        print("usage: proxy_asyncpg.py HOST PORT USER DBNAME [CTRLDIR]", file=sys.stderr)
        return 2
    args = argv[1:5]
    try:
        import asyncpg  # noqa: F401
    except ImportError as exc:
        print(f"error not installed (Debian package python3-asyncpg): {one_line(exc)}")
        return 1
    try:
        if len(argv) == 6:
            asyncio.run(Loop(args, argv[5]).run())
        else:
            print(asyncio.run(once(args)))
    except Exception as exc:  # the first connection or query failed
        print(f"error {one_line(exc)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
