#!/usr/bin/perl
# Perl DBI with DBD::Pg: DBI->connect("dbi:Pg:...") (libpq's PQconnectdb).
#
#   perl_dbd_pg.pl [CONNINFO]
#
# Prints exactly one line:
#   ok user=<current_user> db=<current_database> ssl=<t|f>
#   error <message on one line>        (and exits 1)
#
# DBD::Pg hands the text after "dbi:Pg:" to PQconnectdb, after turning every
# ';' outside single quotes into a space (its own "k=v;k=v" syntax), and adds
# user/password only when they are given, here they are not. So a key=value
# string passes as it is, and so does a postgres:// URL, which PQconnectdb
# parses as a URI when it is the whole string. "dbname=<url>" would NOT work:
# only PQconnectdbParams with expand_dbname expands a URL given as dbname;
# PQconnectdb takes it as a database name. In a URL a ';' is sent as %3B, which
# libpq decodes, so DBD::Pg cannot split it.
use strict;
use warnings;

my $WHOAMI = 'SELECT current_user, current_database(), ssl '
    . 'FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

sub one_line {
    my $text = shift // '';
    $text =~ s/\s+/ /g;
    $text =~ s/^ | $//g;
    return length $text ? $text : '(no message)';
}

sub fail {
    print 'error ', one_line(shift), "\n";
    exit 1;
}

my $dsn = $ARGV[0] // '';
$dsn =~ s/;/%3B/g if $dsn =~ m{^postgres(?:ql)?://};

eval { require DBI; require DBD::Pg; 1 }
    or fail('DBD::Pg is not installed (Debian package libdbd-pg-perl): ' . $@);

my $dbh = DBI->connect("dbi:Pg:$dsn", '', '',
    { RaiseError => 0, PrintError => 0, AutoCommit => 1 })
    or fail(do { no warnings 'once'; $DBI::errstr } // 'DBI->connect failed');
my @row = $dbh->selectrow_array($WHOAMI);
my $err = $dbh->errstr;
$dbh->disconnect;
fail($err) if defined $err;
fail('the query returned no row') unless @row;
my $ssl = lc($row[2] // '') =~ /^(?:t|true|1|on|yes)$/ ? 't' : 'f';
print "ok user=$row[0] db=$row[1] ssl=$ssl\n";
exit 0;
