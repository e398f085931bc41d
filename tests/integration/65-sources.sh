# shellcheck shell=bash
# Hardening, round 2 (issue 16): the file: and exec: sources, the herokupq
# command, the shared cache entry's name. One test per defect (E1a ... E9),
# plus a Kubernetes Secret volume read one file per config var.
# Sourced by tests/run.sh (see tests/lib.sh for pass/fail/skip/run/shim/api).

SRC_CMD=$ROOT/build/herokupq
SRC_YELLOW=HEROKU_POSTGRESQL_YELLOW_URL

src_url() { api GET /config-vars | json_field "${1:-DATABASE_URL}"; }

# Through the shim with a source other than heroku: no HEROKU_APP, no token, strict.
src_shim() {  # SOURCE CMD...
    shim env -u HEROKU_APP -u HEROKU_API_KEY HEROKUPQ_SOURCE="$1" HEROKUPQ_STRICT=1 "${@:2}"
}

# The pids whose command line holds TAG (the test's own processes, tagged); the
# pattern [x]yz does not match grep's own command line.
src_pids_with() { grep -laE -- "[${1:0:1}]${1:1}" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 | sort -u; }

# Wait up to TENTHS for TAG's processes to end; kill the ones left (ours). Prints how many were left.
src_reap_tagged() {  # TAG TENTHS
    local i left
    for ((i = 0; i < $2; i++)); do
        left=$(src_pids_with "$1")
        [ -z "$left" ] && { echo 0; return; }
        sleep 0.1
    done
    left=$(src_pids_with "$1")
    # shellcheck disable=SC2086
    [ -n "$left" ] && kill -9 $left 2>/dev/null
    grep -c . <<<"$left"
}

# --- E1a: exec: stderr is logged only after the URL's password is known ----------------------------
t_exec_stderr_after_url() {
    local pw dir=$WORK/e1a
    pw=$(url_password "$(src_url)")
    mkdir -p "$dir" && printf '%s\n' "$pw" >"$dir/pw"
    # `sh -x` traces the assignment: "+ PW=<password>", a bare word no structure marks.
    run src_shim "exec:sh -xc 'PW=\$(cat \"\$0\"); printf \"postgres://app_user:%s@127.0.0.1:%s/app_db\\n\" \"\$PW\" \"\$1\"' $dir/pw $HPQ_PG_PORT" \
        "$CONNECT" "$(stale_url)"
    rm -rf "$dir"
    if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && ! grep -qF -- "$pw" <<<"$ERR" &&
        grep -q 'on stderr: + PW=\*\*\*\*\*\*\*\*$' <<<"$ERR"; then
        pass "exec: a command's 'set -x' line '+ PW=<password>' is logged with the password masked (stderr logged after the URL's password is known)"
    else fail "exec: stderr before the password is known (E1a)" "rc=$RC out=$OUT" "$ERR"; fi
}

# --- E1b: a stderr line cut at the buffer's end is dropped, never shown in part -----------------------
t_exec_stderr_cut_line() {
    local pw url dir=$WORK/e1b pad
    url=$(src_url)
    pw=$(url_password "$url")
    mkdir -p "$dir" && printf '%s\n' "$url" >"$dir/url"
    # 4,095 bytes are kept: a 4,060-byte line, then the URL cut 10 bytes into its password.
    pad=$(printf '%4060s' '' | tr ' ' x)
    printf '%s\nurl %s\n' "$pad" "$url" >"$dir/err"
    run src_shim "exec:sh -c 'cat \"\$0\"; cat \"\$1\" >&2' $dir/url $dir/err" "$CONNECT" "$(stale_url)"
    rm -rf "$dir"
    if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && ! grep -qF -- "${pw:0:10}" <<<"$ERR" &&
        ! grep -q 'on stderr: url ' <<<"$ERR" && grep -q 'on stderr: xxxx' <<<"$ERR"; then
        pass "exec: stderr cut at 4 KiB inside a URL's password: the cut line is dropped (no part of the password shown), the whole lines before it are logged"
    else fail "exec: stderr cut inside a password (E1b)" "rc=$RC out=$OUT" "$(grep -v xxxx <<<"$ERR")"; fi
}

# --- E2: the command's environment does not load the shim again ----------------------------------
t_exec_env_without_shim() {
    local tag=hpq-e2-$$$RANDOM dir=$WORK/e2 count left envs
    mkdir -p "$dir"
    src_url >"$dir/url"
    # The command counts its runs, records its environment, then runs a libpq
    # program itself (as a command built on libpq would), then prints the URL.
    local script="echo run >>\"\$0/count\"; [ -e \"\$0/stop\" ] && exit 1; env >\"\$0/env\"; $CONNECT \"\$(cat \"\$0/url\")\" >/dev/null 2>&1; cat \"\$0/url\" # $tag"
    run shim env -u HEROKU_APP HEROKUPQ_SOURCE="exec:sh -c '$script' $dir" HEROKUPQ_STRICT=1 \
        HEROKUPQ_API_TIMEOUT_MS=3000 LD_PRELOAD="$SHIM" "$CONNECT" "$(stale_url)"
    count=$(grep -c . "$dir/count")
    touch "$dir/stop"
    left=$(src_reap_tagged "$tag" 100)
    envs=$(grep -E '^(LD_PRELOAD|HEROKUPQ_[A-Z_]*|HEROKU_API_KEY|HEROKU_HOST)=' "$dir/env" | sed "s/$HPQ_TOKEN/<token>/")
    rm -rf "$dir"
    if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && [ "$count" = 1 ] &&
        ! grep -q '^LD_PRELOAD=.*libherokupq' <<<"$envs" && ! grep -q '^HEROKUPQ_SOURCE=' <<<"$envs" &&
        grep -qx 'HEROKU_API_KEY=<token>' <<<"$envs" && grep -qx "HEROKU_HOST=$HPQ_API_URL" <<<"$envs" &&
        grep -qx 'HEROKUPQ_CONFIG_VAR=DATABASE_URL' <<<"$envs"; then
        pass "exec: the command runs once: its environment has no shim in LD_PRELOAD and no HEROKUPQ_SOURCE (a libpq command does not run the source again), keeps HEROKU_API_KEY and HEROKU_HOST, and names the var (HEROKUPQ_CONFIG_VAR)"
    else fail "exec: the command's environment (E2)" "rc=$RC out=$OUT runs=$count left-behind=$left" "$envs" "$ERR"; fi
}

# --- E3a: file: naming a FIFO does not block -----------------------------------------------------
t_file_fifo() {
    local fifo=$WORK/e3a.fifo
    rm -f "$fifo" && mkfifo "$fifo"
    # timeout(1) ends a run that blocks (it would block forever otherwise).
    run shim timeout 20 env -u HEROKU_APP -u HEROKU_API_KEY HEROKUPQ_SOURCE="file:$fifo" HEROKUPQ_STRICT=1 \
        HEROKUPQ_API_TIMEOUT_MS=1000 "$CONNECT" "$(stale_url)"
    rm -f "$fifo"
    if [ "$RC" = 1 ] && [ "$(grep -c "the file $fifo (HEROKUPQ_SOURCE): not a regular file" <<<"$ERR")" = 1 ] &&
        grep -q '^error ' <<<"$OUT"; then
        pass "file: naming a FIFO (no writer) is refused at once in one line, the connection fails (strict); it does not block"
    else fail "file: a FIFO (E3a)" "rc=$RC (124: blocked until timeout(1) killed it) out=$OUT" "$ERR"; fi
}

# --- E3b: a process the command leaves holding stdout is killed; no wait for it ---------------------
t_exec_leftover_killed() {
    local tag dir=$WORK/e3b start end left
    tag=$$$RANDOM
    mkdir -p "$dir" && src_url >"$dir/url"
    start=$(date +%s)
    run src_shim "exec:sh -c 'cat \"\$0\"; sleep 60.$tag &' $dir/url" env HEROKUPQ_API_TIMEOUT_MS=20000 \
        "$CONNECT" "$(stale_url)"
    end=$(date +%s)
    left=$(src_pids_with "60.$tag")
    # shellcheck disable=SC2086
    [ -n "$left" ] && kill -9 $left 2>/dev/null
    rm -rf "$dir"
    if [ "$RC" = 0 ] && [ "$OUT" = "$OK_LINE" ] && [ -z "$left" ] && [ $((end - start)) -lt 15 ]; then
        pass "exec: a command that exits leaving a child holding its stdout: the URL is used when the command exits (not at the 20 s timeout) and the child is killed"
    else fail "exec: a leftover child (E3b)" "rc=$RC out=$OUT left=$left took=$((end - start)) s" "$ERR"; fi
}

# --- E4: a source that cannot name the var must not serve another var's URL -------------------------
t_source_names_var() {
    setup_second_database
    local dir=$WORK/e4 targets="heroku=DATABASE_URL,followers=$SRC_YELLOW"
    mkdir -p "$dir"
    src_url >"$dir/DATABASE_URL"
    src_url "$SRC_YELLOW" >"$dir/$SRC_YELLOW"
    # Plain file:PATH holds one URL: a mapping to another var is refused at start.
    run src_shim "file:$dir/DATABASE_URL" env HEROKUPQ_TARGET="$targets" "$CONNECT" "postgres://followers/"
    local rc1=$RC out1=$OUT err1=$ERR lines
    lines=$(grep -c "HEROKUPQ_TARGET maps followers to $SRC_YELLOW, which HEROKUPQ_SOURCE=file:$dir/DATABASE_URL cannot serve" <<<"$ERR")
    # exec: is told the var in its environment and serves both.
    touch "$dir/go" # two_databases goes on at once
    run src_shim "exec:sh -c 'cat \"\$0/\$HEROKUPQ_CONFIG_VAR\"' $dir" env HEROKUPQ_TARGET="$targets" \
        "$PROGS/two_databases" "$dir/go" "postgres://heroku/" "postgres://followers/"
    rm -rf "$dir"
    local want
    want=$(printf '%s\n' "a ok app_user app_db true" "b ok yellow_user yellow_db true" \
        "a-open ok app_user app_db true" "b-open ok yellow_user yellow_db true" \
        "a-new ok app_user app_db true" "b-new ok yellow_user yellow_db true")
    if [ "$rc1" != 0 ] && [[ $out1 != ok* ]] && [ "$lines" = 1 ] && [ "$RC" = 0 ] && [ "$OUT" = "$want" ]; then
        pass "plain file:PATH with HEROKUPQ_TARGET mapping a host to another var: refused at start in one line (no silent login to the primary); exec: gets the var as HEROKUPQ_CONFIG_VAR and serves two databases"
    else fail "a source that cannot name the var (E4)" "file: rc=$rc1 out=$out1 lines=$lines" "$err1" "exec: rc=$RC out=$OUT" "$ERR"; fi
}

# A Kubernetes Secret volume with one file per key: KEY -> ..data/KEY, ..data -> ..vN.
src_k8s_write() {  # DIR VERSION: the current DATABASE_URL and YELLOW into DIR/..VERSION
    mkdir "$1/..$2"
    src_url >"$1/..$2/DATABASE_URL"
    src_url "$SRC_YELLOW" >"$1/..$2/$SRC_YELLOW"
}
src_k8s_swap() {  # DIR OLD NEW
    src_k8s_write "$1" "$3"
    ln -s "..$3" "$1/..data_tmp" && mv -T "$1/..data_tmp" "$1/..data" && rm -rf "${1:?}/..$2"
}

t_file_dir_k8s() {
    setup_second_database
    local dir=$WORK/e4k8s
    rm -rf "$dir"; mkdir -p "$dir"
    src_k8s_write "$dir" v1
    ln -s ..v1 "$dir/..data"
    ln -s ..data/DATABASE_URL "$dir/DATABASE_URL"
    ln -s "..data/$SRC_YELLOW" "$dir/$SRC_YELLOW"
    : >"$WORK/out"
    # Once both are open, yellow's password changes and the volume swaps to the new one.
    ( wait_for_line '^b ' "$WORK/out" 300; setup_second_database; src_k8s_swap "$dir" v1 v2
      touch "$dir/go" ) &
    run src_shim "file:$dir/" env HEROKUPQ_TARGET="heroku=DATABASE_URL,followers=$SRC_YELLOW" \
        "$PROGS/two_databases" "$dir/go" "postgres://heroku/" "postgres://followers/"
    wait
    rm -rf "$dir"
    local want
    want=$(printf '%s\n' "a ok app_user app_db true" "b ok yellow_user yellow_db true" \
        "a-open ok app_user app_db true" "b-open ok yellow_user yellow_db true" \
        "a-new ok app_user app_db true" "b-new ok yellow_user yellow_db true")
    if [ "$RC" = 0 ] && [ "$OUT" = "$want" ]; then
        pass "file:DIR/ reads DIR/VAR, one file per config var: two databases in one process, across a Kubernetes ..data symlink swap carrying one's new password"
    else fail "file:DIR/ as a Kubernetes Secret volume" "rc=$RC out=$OUT" "$ERR"; fi
}

# --- E5a: herokupq url decodes keys before deciding what is a password ------------------------------
t_url_encoded_password_key() {
    local secret=hpq-e5a-$RANDOM$RANDOM
    remember_secret "$secret"
    run env HEROKUPQ_SOURCE="exec:echo postgres://app_user@127.0.0.1:$HPQ_PG_PORT/app_db?%70assword=$secret" \
        "$SRC_CMD" url
    if [ "$RC" = 0 ] && [[ $OUT != *"$secret"* ]] && [[ $OUT == *'?%70assword=********'* ]]; then
        pass "herokupq url masks a password given as ?%70assword= (the key decoded, as libpq does)"
    else fail "herokupq url, encoded password key (E5a)" "rc=$RC out=${OUT//$secret/<SECRET>}" "$ERR"; fi
}

# --- E5b: herokupq refuses a library path LD_PRELOAD cannot carry ----------------------------------
t_cmd_library_path_split() {
    local d bad="" marker=$WORK/e5b.ran
    for d in "$WORK/lib dir" "$WORK/lib:dir"; do
        mkdir -p "$d" && cp "$SHIM" "$d/libherokupq.so"
        rm -f "$marker"
        run env HEROKUPQ_LIBRARY="$d/libherokupq.so" "$SRC_CMD" -a "$HPQ_APP" -- sh -c "touch $marker"
        if [ "$RC" = 0 ] || [ -e "$marker" ] || ! grep -q "herokupq: error: .*cannot go into LD_PRELOAD" <<<"$ERR"; then
            bad+=" [$d: rc=$RC ran=$([ -e "$marker" ] && echo yes || echo no) $ERR]"
        fi
        rm -rf "$d"
    done
    rm -f "$marker"
    if [ -z "$bad" ]; then
        pass "herokupq under a path with a space or a colon refuses to run the program (clear error, non-zero exit) instead of running it without the library"
    else fail "herokupq, library path with a space or colon (E5b)" "$bad"; fi
}

# --- E8: a file read while it is being rewritten in place does not count ------------------------------
t_file_torn_write() {
    local url pw dir=$WORK/e8 writer
    url=$(src_url)
    pw=$(url_password "$url")
    mkdir -p "$dir" && printf '%s\n' "$url" >"$dir/url"
    rm -f "$dir/go"
    : >"$WORK/out"
    # Once the program connected, an operator rewrites the file in place, slowly:
    # the first bytes (a valid URL for port 1, no line end) written again and again.
    ( wait_for_line '^warm' "$WORK/out" 300
      ( while [ ! -e "$dir/stop" ]; do printf '%s' "postgres://app_user:$pw@127.0.0.1:1" >"$dir/url"; sleep 0.1; done ) &
      echo $! >"$dir/writer"; sleep 0.3; touch "$dir/go" ) &
    run src_shim "file:$dir/url" "$CONNECT" -w "$dir/go" "$(stale_url)"
    wait
    touch "$dir/stop"
    writer=$(cat "$dir/writer" 2>/dev/null)
    poll_until 50 eval "! kill -0 ${writer:-0} 2>/dev/null"
    rm -rf "$dir"
    if [ "$RC" = 0 ] && [ "$OUT" = "$(printf 'warm ok\n%s' "$OK_LINE")" ] &&
        [ "$(grep -c "the file $dir/url (HEROKUPQ_SOURCE) is being written" <<<"$ERR")" -ge 1 ]; then
        pass "file: rewritten in place while read (a torn first line without a line end, still changing): not used; the previous URL stands and a line says so"
    else fail "file: a torn read (E8)" "rc=$RC out=$OUT" "$ERR"; fi
}

# --- E9: the cache entry's name comes from the netrc token's value, not its path ----------------------
t_netrc_entry_name() {
    local h1=$WORK/e9home1 h2=$WORK/e9home2 dir n0 n1 rc1
    dir=$(fresh_cache_dir)
    mkdir -p "$h1" "$h2"
    printf 'machine 127.0.0.1\n  login tests@example.com\n  password %s\n' "$HPQ_TOKEN" >"$h1/.netrc"
    printf 'machine 127.0.0.1\n  login other@example.com\n  password hpq-e9-refused-token\n' >"$h2/.netrc"
    chmod 600 "$h1/.netrc" "$h2/.netrc"
    run shim HEROKU_API_KEY= HOME="$h1" HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_STRICT=1 "$CONNECT" "$(stale_url)"
    rc1=$RC
    n0=$(api_count)
    # Another home, whose netrc holds a token the API refuses: no cached URL for it.
    run shim HEROKU_API_KEY= HOME="$h2" HEROKUPQ_CACHE_DIR="$dir" HEROKUPQ_STRICT=1 "$CONNECT" "$(stale_url)"
    n1=$(api_count)
    rm -rf "$h1" "$h2"
    if [ "$rc1" = 0 ] && [ "$RC" != 0 ] && [ "$n1" -gt "$n0" ] && grep -q 'Heroku API answered 401' <<<"$ERR"; then
        pass "a netrc token's cache entry is named by the token: another home's netrc with a refused token asks the API (401), it does not get the cached URL"
    else fail "netrc cache entry name (E9)" "first rc=$rc1; second rc=$RC, requests $n0 -> $n1, out=$OUT" "$ERR"; fi
}

tests t_exec_stderr_after_url t_exec_stderr_cut_line t_exec_env_without_shim t_file_fifo t_exec_leftover_killed t_source_names_var t_file_dir_k8s t_url_encoded_password_key t_cmd_library_path_split t_file_torn_write t_netrc_entry_name
