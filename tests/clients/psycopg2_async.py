#!/usr/bin/python3
"""psycopg2, asynchronous connect (libpq's PQconnectStart + PQconnectPoll).

    psycopg2_async.py [CONNINFO]

psycopg2.connect(dsn, async_=True), then the documented loop: conn.poll() and a
select() on conn.fileno() until POLL_OK, for the connection and then for one
asynchronous query. Prints exactly one line:
    ok user=<current_user> db=<current_database> ssl=<t|f>
    error <message on one line>        (and exits 1)
"""
import select
import sys
import time

WHOAMI = ("SELECT current_user, current_database(), ssl "
          "FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
# libpq applies connect_timeout only in its blocking connect; bound the loop here.
TIMEOUT_S = 30


def one_line(text):
    return " ".join(str(text).split()) or "(no message)"


def flag(value):
    if isinstance(value, bool):
        return "t" if value else "f"
    return "t" if str(value).lower() in ("t", "true", "1", "on", "yes") else "f"


def wait(conn, psycopg2, extensions):
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        if state == extensions.POLL_READ:
            rlist, wlist = [conn.fileno()], []
        elif state == extensions.POLL_WRITE:
            rlist, wlist = [], [conn.fileno()]
        else:
            raise psycopg2.OperationalError(f"poll() returned {state}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise psycopg2.OperationalError(f"no answer within {TIMEOUT_S} s")
        select.select(rlist, wlist, [], left)


def main():
    dsn = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        import psycopg2
        from psycopg2 import extensions
    except ImportError as exc:
        print(f"error psycopg2 is not installed (Debian package python3-psycopg2): {one_line(exc)}")
        return 1
    conn = None
    try:
        conn = psycopg2.connect(dsn, async_=True)
        wait(conn, psycopg2, extensions)
        cur = conn.cursor()
        cur.execute(WHOAMI)
        wait(conn, psycopg2, extensions)
        row = cur.fetchone()
    except Exception as exc:  # psycopg2.Error, and anything unexpected
        print(f"error {one_line(exc)}")
        return 1
    finally:
        if conn is not None:
            conn.close()
    if row is None:
        print("error the query returned no row")
        return 1
    print(f"ok user={row[0]} db={row[1]} ssl={flag(row[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
