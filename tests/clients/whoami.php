<?php
// What the PHP clients of the matrix share (as whoami.py for the Python ones):
// the query, the one-line message, the ssl flag, and PHP's warnings collected
// instead of displayed (PHP reports a failed connection as a warning, not an
// exception).

const WHOAMI = "SELECT current_user, current_database(), ssl "
    . "FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

function one_line($text)
{
    $line = trim(preg_replace('/\s+/', ' ', (string) $text));
    return $line === '' ? '(no message)' : $line;
}

function flag($value)
{
    return in_array(strtolower((string) $value), ['t', 'true', '1', 'on', 'yes'], true) ? 't' : 'f';
}

// Every warning from now on goes into $warnings (nothing is displayed or logged).
function collect_warnings(array &$warnings)
{
    ini_set('display_errors', '0');
    ini_set('log_errors', '0');
    set_error_handler(function ($errno, $errstr) use (&$warnings) {
        $warnings[] = $errstr;
        return true;
    });
}
