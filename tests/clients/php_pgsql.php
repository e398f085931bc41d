<?php
// php-pgsql: pg_connect (libpq's PQconnectdb).
//
//   php php_pgsql.php [CONNINFO]
//
// Prints exactly one line:
//   ok user=<current_user> db=<current_database> ssl=<t|f>
//   error <message on one line>        (and exits 1)
// PHP reports a failed connection as a warning, not an exception: warnings are
// collected by an error handler (nothing is displayed) and the last one, or
// pg_last_error() once there is a connection, makes the error line.

require __DIR__ . '/whoami.php';

function fail($message)
{
    echo 'error ' . one_line($message) . "\n";
    exit(1);
}

$warnings = [];
collect_warnings($warnings);
$last_warning = function ($default) use (&$warnings) {
    return $warnings ? end($warnings) : $default;
};

if (!function_exists('pg_connect')) {
    fail('the pgsql extension is not loaded (Debian package php-pgsql)');
}
$dsn = $argv[1] ?? '';
try {
    $conn = pg_connect($dsn, PGSQL_CONNECT_FORCE_NEW);
    if ($conn === false) {
        fail($last_warning('pg_connect failed'));
    }
    $res = pg_query($conn, WHOAMI);
    if ($res === false) {
        fail(pg_last_error($conn) ?: $last_warning('the query failed'));
    }
    $row = pg_fetch_row($res);
    pg_close($conn);
} catch (Throwable $e) {
    fail(get_class($e) . ': ' . $e->getMessage());
}
if ($row === false) {
    fail('the query returned no row');
}
echo "ok user={$row[0]} db={$row[1]} ssl=" . flag($row[2]) . "\n";
exit(0);
