"""What the Python clients of the matrix share: the query, and the one line they print.

    ok user=<current_user> db=<current_database> ssl=<t|f>
    error <message on one line>        (and exit status 1)
"""
import sys

QUERY = ("SELECT current_user, current_database(), ssl "
         "FROM pg_stat_ssl WHERE pid = pg_backend_pid()")


def one_line(text):
    return " ".join(str(text).split()) or "(no message)"


def flag(value):
    if isinstance(value, bool):
        return "t" if value else "f"
    return "t" if str(value).lower() in ("t", "true", "1", "on", "yes") else "f"


def run(connect_and_query, package):
    """Call connect_and_query(dsn), dsn being argv[1] or empty, which returns the
    query's row; print the line; return the exit status."""
    dsn = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        row = connect_and_query(dsn)
    except ImportError as exc:
        print(f"error not installed (Debian package {package}): {one_line(exc)}")
        return 1
    except Exception as exc:  # the driver's errors, and anything unexpected
        print(f"error {one_line(exc)}")
        return 1
    if row is None:
        print("error the query returned no row")
        return 1
    print(f"ok user={row[0]} db={row[1]} ssl={flag(row[2])}")
    return 0
