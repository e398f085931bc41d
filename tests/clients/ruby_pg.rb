#!/usr/bin/ruby
# ruby-pg: PG.connect (pg >= 1.3, as in Debian 12: libpq's PQconnectStart + PQconnectPoll).
#
#   ruby_pg.rb [CONNINFO]
#
# Prints exactly one line:
#   ok user=<current_user> db=<current_database> ssl=<t|f>
#   error <message on one line>        (and exits 1)

require_relative "whoami"

require_pg

dsn = ARGV[0] || ""
begin
  conn = PG.connect(dsn)
  begin
    row = conn.exec(WHOAMI).values.first
  ensure
    conn.close
  end
rescue StandardError => e # PG::Error, and anything unexpected
  puts "error #{one_line(e.message)}"
  exit 1
end
if row.nil?
  puts "error the query returned no row"
  exit 1
end
puts "ok user=#{row[0]} db=#{row[1]} ssl=#{flag(row[2])}"
