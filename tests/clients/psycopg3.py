#!/usr/bin/python3
"""psycopg 3, psycopg.connect (libpq's PQconnectStart + PQconnectPoll).

    psycopg3.py [CONNINFO]

Prints the libpq binding psycopg uses (psycopg.pq.__impl__) on stderr, as one
line "psycopg3: pq implementation <impl> (libpq <version>)". Debian's package
has only the "python" implementation: libpq opened with ctypes and every
function looked up with dlsym on that handle. PSYCOPG_IMPL=python forces it
where other implementations are installed. Then prints exactly one line:
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
        import psycopg
    except ImportError as exc:
        print(f"error psycopg 3 is not installed (Debian package python3-psycopg): {one_line(exc)}")
        return 1
    print(f"psycopg3: pq implementation {psycopg.pq.__impl__} (libpq {psycopg.pq.version()})",
          file=sys.stderr)
    try:
        with psycopg.connect(dsn) as conn:
            row = conn.execute(WHOAMI).fetchone()
    except Exception as exc:  # psycopg.Error, and anything unexpected
        print(f"error {one_line(exc)}")
        return 1
    if row is None:
        print("error the query returned no row")
        return 1
    print(f"ok user={row[0]} db={row[1]} ssl={flag(row[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
