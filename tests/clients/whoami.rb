# What the Ruby clients of the matrix share (as whoami.py for the Python ones):
# the query, the one-line message, the ssl flag, and loading ruby-pg.

WHOAMI = "SELECT current_user, current_database(), ssl " \
         "FROM pg_stat_ssl WHERE pid = pg_backend_pid()"

def one_line(text)
  line = text.to_s.split.join(" ")
  line.empty? ? "(no message)" : line
end

def flag(value)
  %w[t true 1 on yes].include?(value.to_s.downcase) ? "t" : "f"
end

# ruby-pg, or the error line and exit 1.
def require_pg
  require "pg"
rescue LoadError => e
  puts "error ruby-pg is not installed (Debian package ruby-pg): #{one_line(e.message)}"
  exit 1
end
