#!/usr/bin/ruby
# ruby-pg: PG.connect (pg >= 1.3, as in Debian 12: libpq's PQconnectStart + PQconnectPoll).
#
#   ruby_pg.rb [CONNINFO]
#
# Prints exactly one line:
#   ok user=<current_user> db=<current_database> ssl=<t|f>
#   error <message on one line>        (and exits 1)

WHOAMI = "SELECT current_user, current_database(), ssl " \
         "FROM pg_stat_ssl WHERE pid = pg_backend_pid()"

def one_line(text)
  line = text.to_s.split.join(" ")
  line.empty? ? "(no message)" : line
end

def flag(value)
  %w[t true 1 on yes].include?(value.to_s.downcase) ? "t" : "f"
end

begin
  require "pg"
rescue LoadError => e
  puts "error ruby-pg is not installed (Debian package ruby-pg): #{one_line(e.message)}"
  exit 1
end

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
