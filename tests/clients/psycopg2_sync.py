#!/usr/bin/python3
"""psycopg2, blocking connect (libpq's PQconnectdb).

    psycopg2_sync.py [CONNINFO]

Connects with CONNINFO (a libpq key=value string or a postgres:// URL; empty or
absent: libpq's defaults), runs one query and prints one line (see whoami.py).
"""
import sys

from whoami import QUERY, run


def connect_and_query(dsn):
    import psycopg2
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(QUERY)
            return cur.fetchone()
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(run(connect_and_query, "python3-psycopg2"))
