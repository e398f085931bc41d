<?php
// php-pgsql persistent links: pg_pconnect in one long-running process, as a
// php-fpm or mod_php worker keeps them (pgsql.auto_reset_persistent=On: PHP
// checks the link with a query and PQresets a dead one).
//
//   php -d pgsql.auto_reset_persistent=On php_pconnect.php CONNINFO GOFILE [ROUNDS]
//
// Round 1 connects and prints "first ok" (or "first error ..."); then it
// waits until GOFILE exists (the tests rotate the credentials and end the
// sessions meanwhile) and runs ROUNDS (default 4) more rounds, each
// pg_pconnect + a query on the persistent link. Prints, last, exactly one line:
//   ok user=<current_user> db=<current_database> ssl=<t|f>   every round worked
//   error <failed> of <rounds> rounds failed: <last message>  (and exits 1)

require __DIR__ . '/whoami.php';

$warnings = [];
collect_warnings($warnings);

// One round: the persistent link and a query; [row, null] or [null, why].
function round_trip($dsn, &$warnings)
{
    $conn = pg_pconnect($dsn);
    if ($conn === false) {
        return [null, $warnings ? end($warnings) : 'pg_pconnect failed'];
    }
    $res = @pg_query($conn, WHOAMI);
    if ($res === false) {
        return [null, pg_last_error($conn) ?: ($warnings ? end($warnings) : 'the query failed')];
    }
    $row = pg_fetch_row($res);
    return $row === false ? [null, 'the query returned no row'] : [$row, null];
}

if (!function_exists('pg_pconnect') || count($argv) < 3) {
    echo "error usage, or the pgsql extension is not loaded (Debian package php-pgsql)\n";
    exit(1);
}
[$dsn, $go] = [$argv[1], $argv[2]];
$rounds = (int) ($argv[3] ?? 4);
[$row, $why] = round_trip($dsn, $warnings);
echo $row ? "first ok\n" : 'first error ' . one_line($why) . "\n";
flush();
while (!file_exists($go)) {
    usleep(10000);
}
$failed = 0;
$last = $row;
for ($i = 0; $i < $rounds; $i++) {
    [$row, $why] = round_trip($dsn, $warnings);
    $failed += $row ? 0 : 1;
    $last = $row ?: $last;
    $last_why = $why ?? ($last_why ?? '');
}
if ($failed || !$last) {
    echo "error $failed of $rounds rounds failed: " . one_line($last_why) . "\n";
    exit(1);
}
echo "ok user={$last[0]} db={$last[1]} ssl=" . flag($last[2]) . "\n";
exit(0);
