#!/usr/bin/ruby
# ruby-pg: conn.reset on a lost connection (pg >= 1.3: PQresetStart + PQresetPoll).
#
#   ruby_reset.rb CONNINFO GOFILE
#
# Connects and prints "first ok" (or "first error ..."), waits until GOFILE
# exists (the tests rotate the credentials and end the session meanwhile),
# runs a query on the old session, resets the connection when it failed, and
# runs the query again on the same PG::Connection. Prints, last, exactly one line:
#   ok user=<current_user> db=<current_database> ssl=<t|f>
#   error <message on one line>        (and exits 1)

require_relative "whoami"

require_pg

dsn, go = ARGV
begin
  conn = PG.connect(dsn || "")
  puts "first ok"
rescue StandardError => e
  puts "first error #{one_line(e.message)}"
  exit 1
end
$stdout.flush
sleep 0.01 until File.exist?(go.to_s)
begin
  begin
    conn.exec(WHOAMI)
  rescue PG::Error
    conn.reset # the session is gone: reconnect the same connection
  end
  row = conn.exec(WHOAMI).values.first
rescue StandardError => e
  puts "error #{one_line(e.message)}"
  exit 1
ensure
  conn&.close
end
puts "ok user=#{row[0]} db=#{row[1]} ssl=#{flag(row[2])}"
