#!/usr/bin/python3
"""psycopg2, blocking connect (libpq's PQconnectdb).

    psycopg2_sync.py [CONNINFO]

Connects with CONNINFO (a libpq key=value string or a postgres:// URL; empty or
absent: libpq's defaults), runs one query and prints exactly one line:
    ok user=<current_user> db=<current_database> ssl=<t|f>
    error <message on one line>        (and exits 1)
"""
import sys

WHOAMI = ("SELECT current_user, current_database(), ssl "
          "FROM pg_stat_ssl WHERE pid = pg_backend_pid()")


def one_line(text):
    return " ".join(str(text).split()) or "(no message)"


def flag(value):
    if isinstance(value, bool):
        return "t" if value else "f"
    return "t" if str(value).lower() in ("t", "true", "1", "on", "yes") else "f"


def main():
    dsn = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        import psycopg2
    except ImportError as exc:
        print(f"error psycopg2 is not installed (Debian package python3-psycopg2): {one_line(exc)}")
        return 1
    try:
        conn = psycopg2.connect(dsn)
        try:
            with conn.cursor() as cur:
                cur.execute(WHOAMI)
                row = cur.fetchone()
        finally:
            conn.close()
    except Exception as exc:  # psycopg2.Error, and anything unexpected
        print(f"error {one_line(exc)}")
        return 1
    if row is None:
        print("error the query returned no row")
        return 1
    print(f"ok user={row[0]} db={row[1]} ssl={flag(row[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
