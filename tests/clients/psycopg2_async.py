#!/usr/bin/python3
"""psycopg2, asynchronous connect (libpq's PQconnectStart + PQconnectPoll).

    psycopg2_async.py [CONNINFO]

psycopg2.connect(dsn, async_=True), then the documented loop: conn.poll() and a
select() on conn.fileno() until POLL_OK, for the connection and then for one
asynchronous query. Prints one line (see whoami.py).
"""
import select
import sys
import time

from whoami import QUERY, run

# libpq applies connect_timeout only in its blocking connect; bound the loop here.
TIMEOUT_S = 30


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


def connect_and_query(dsn):
    import psycopg2
    from psycopg2 import extensions
    conn = psycopg2.connect(dsn, async_=True)
    try:
        wait(conn, psycopg2, extensions)
        cur = conn.cursor()
        cur.execute(QUERY)
        wait(conn, psycopg2, extensions)
        return cur.fetchone()
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(run(connect_and_query, "python3-psycopg2"))
