#!/usr/bin/python3
"""psycopg 3, psycopg.connect (libpq's PQconnectStart + PQconnectPoll).

    psycopg3.py [CONNINFO]

Prints the libpq binding psycopg uses (psycopg.pq.__impl__) on stderr, as one
line "psycopg3: pq implementation <impl> (libpq <version>)". Debian's package
has only the "python" implementation: libpq opened with ctypes and every
function looked up with dlsym on that handle. PSYCOPG_IMPL=python forces it
where other implementations are installed. Then prints one line (see whoami.py).
"""
import sys

from whoami import QUERY, run


def connect_and_query(dsn):
    import psycopg
    print(f"psycopg3: pq implementation {psycopg.pq.__impl__} (libpq {psycopg.pq.version()})",
          file=sys.stderr)
    with psycopg.connect(dsn) as conn:
        return conn.execute(QUERY).fetchone()


if __name__ == "__main__":
    sys.exit(run(connect_and_query, "python3-psycopg"))
