/* test_filecache.c — the cross-process cache's files (shim/filecache.c) and
 * the SHA-256 that names them (shim/sha256.c: libcrypto's), in a temporary
 * directory. When libcrypto fails: test_sha256.c. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "filecache.h"
#include "log.h"
#include "sha256.h"

static char root[64];
static char dir[96];
static int dirfd_ = -1;

static int make_dir(void **state)
{
    (void)state;
    hpq_log_set_level(HPQ_WARN);
    snprintf(root, sizeof root, "/tmp/hpq-unit-fc.XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/cache", root);
    dirfd_ = hpq_filecache_open_dir(dir);
    assert_true(dirfd_ >= 0);
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    if (dirfd_ >= 0)
        close(dirfd_);
    dirfd_ = -1;
    return remove_tree(root) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

/* FIPS 180-2's examples (appendix B: "abc", the two-block message) and the
 * empty string, through the shim's own function. */
static void sha256_known_answers(void **state)
{
    (void)state;
    char hex[HPQ_SHA256_HEX];
    assert_true(hpq_sha256_hex("", 0, hex));
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_true(hpq_sha256_hex("abc", 3, hex));
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56: two blocks */
    assert_true(hpq_sha256_hex(two, strlen(two), hex));
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char thousand[1000];
    memset(thousand, 'a', sizeof thousand);
    assert_true(hpq_sha256_hex(thousand, sizeof thousand, hex));
    assert_string_equal(hex, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

/* The names of the files are those every earlier release wrote (a process of
 * the old and one of the new version share entries): the digest of the key's
 * exact bytes, as `printf 'https://api.heroku.com\napp\nDATABASE_URL\ntoken:tok-1' |
 * sha256sum` prints it. */
static void names_are_unchanged(void **state)
{
    (void)state;
    char a[HPQ_SHA256_HEX];
    hpq_filecache_name("https://api.heroku.com", "app", "DATABASE_URL", "tok-1", NULL, a);
    assert_string_equal(a, "213a2cda8becaa934303241e43a5d5328552534d5767ae1402875c2934a231ee");
}

static void write_netrc(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Issue 16, E9: a token from netrc names the entry by its value, as the same
 * token in HEROKU_API_KEY does; not by the netrc file's path. */
static void netrc_token_names_the_entry_by_its_value(void **state)
{
    (void)state;
    char netrc[128], env[HPQ_SHA256_HEX], other[HPQ_SHA256_HEX], got[HPQ_SHA256_HEX];
    const char *api = "https://api.heroku.com";
    snprintf(netrc, sizeof netrc, "%s/netrc", root);
    hpq_filecache_name(api, "app", "DATABASE_URL", "tok-1", NULL, env);
    hpq_filecache_name(api, "app", "DATABASE_URL", "tok-2", NULL, other);
    write_netrc(netrc, "machine git.example.com login a password nope\n"
                       "machine api.heroku.com\n  login me@example.com\n  password tok-1\n");
    hpq_filecache_name(api, "app", "DATABASE_URL", NULL, netrc, got);
    assert_string_equal(got, env);
    write_netrc(netrc, "machine api.heroku.com login me password tok-2\n"); /* same path */
    hpq_filecache_name(api, "app", "DATABASE_URL", NULL, netrc, got);
    assert_string_equal(got, other);
    write_netrc(netrc, "machine elsewhere login default password x\ndefault login me password tok-1\n");
    hpq_filecache_name(api, "app", "DATABASE_URL", NULL, netrc, got);
    assert_string_equal(got, env);
    write_netrc(netrc, "machine elsewhere password tok-1\n"); /* no entry for the API */
    hpq_filecache_name(api, "app", "DATABASE_URL", NULL, netrc, got);
    assert_string_not_equal(got, env);
}

static void name_is_a_hash_of_the_whole_key_without_the_token(void **state)
{
    (void)state;
    char a[HPQ_SHA256_HEX], b[HPQ_SHA256_HEX], c[HPQ_SHA256_HEX], d[HPQ_SHA256_HEX];
    hpq_filecache_name("https://api.heroku.com", "app", "DATABASE_URL", "tok-1", NULL, a);
    hpq_filecache_name("https://api.heroku.com", "app", "DATABASE_URL", "tok-2", NULL, b);
    hpq_filecache_name("https://api.heroku.com", "app", "OTHER_URL", "tok-1", NULL, c);
    hpq_filecache_name("https://api.heroku.com", "app2", "DATABASE_URL", "tok-1", NULL, d);
    assert_int_equal(strlen(a), 64);
    assert_null(strstr(a, "tok"));
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
}

static void record_round_trip_0600(void **state)
{
    (void)state;
    struct hpq_record rec = {.fetched_ms = 1700000000123LL, .next_fetch_ms = 42, .step = 3,
                             .stale = true, .confirmed = true};
    rec.url = strdup("postgres://u:pw@h:5432/d");
    snprintf(rec.etag, sizeof rec.etag, "\"abc\"");
    struct hpq_file_id wid = {0}, rid = {0};
    assert_int_equal(hpq_filecache_write(dirfd_, "e1", &rec, &wid), 0);
    struct stat st;
    assert_int_equal(stat(path_of("e1"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    struct hpq_record got;
    assert_int_equal(hpq_filecache_read(dirfd_, "e1", &got, &rid), 1);
    assert_string_equal(got.url, rec.url);
    assert_string_equal(got.etag, "\"abc\"");
    assert_true(got.fetched_ms == 1700000000123LL && got.next_fetch_ms == 42);
    assert_true(got.step == 3 && got.stale && got.confirmed);
    assert_memory_equal(&wid, &rid, sizeof wid);
    assert_false(hpq_filecache_changed(dirfd_, "e1", &rid));
    rec.stale = false;
    assert_int_equal(hpq_filecache_write(dirfd_, "e1", &rec, &wid), 0);
    assert_true(hpq_filecache_changed(dirfd_, "e1", &rid));
    hpq_record_clear(&rec);
    hpq_record_clear(&got);
}

static void missing_or_foreign_record_is_none(void **state)
{
    (void)state;
    struct hpq_record got;
    struct hpq_file_id id = {0};
    assert_int_equal(hpq_filecache_read(dirfd_, "absent", &got, &id), 0);
    assert_false(hpq_filecache_changed(dirfd_, "absent", &id));
    int fd = open(path_of("junk"), O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0 && write(fd, "not a record\n", 13) == 13);
    close(fd);
    assert_int_equal(hpq_filecache_read(dirfd_, "junk", &got, &id), 0);
    assert_null(got.url);
}

static void oversized_record_is_not_read(void **state)
{
    (void)state;
    int fd = open(path_of("big"), O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, HPQ_RECORD_MAX + 1), 0);
    close(fd);
    struct hpq_record got;
    struct hpq_file_id id;
    assert_int_equal(hpq_filecache_read(dirfd_, "big", &got, &id), 0);
}

/* A refused file: -1 and exactly one log line saying why. */
static void assert_refused(const char *name, const char *why)
{
    struct hpq_record got;
    struct hpq_file_id id;
    capture_start();
    int rc = hpq_filecache_read(dirfd_, name, &got, &id);
    const char *out = capture_end();
    assert_int_equal(rc, -1);
    assert_null(got.url);
    assert_int_equal(lines_with(out, "herokupq: warn: cache file"), 1);
    if (!strstr(out, why))
        fail_msg("'%s' should say '%s'", out, why);
}

static void record_that_is_not_ours_is_refused(void **state)
{
    (void)state;
    struct hpq_record rec = {.url = (char *)"postgres://u:pw@h/d"};
    struct hpq_file_id id;
    assert_int_equal(hpq_filecache_write(dirfd_, "wide", &rec, &id), 0);
    assert_int_equal(chmod(path_of("wide"), 0644), 0);
    assert_refused("wide", "open to other users");
    assert_int_equal(hpq_filecache_write(dirfd_, "theirs", &rec, &id), 0);
    assert_int_equal(chown(path_of("theirs"), 65534, 65534), 0);
    if (geteuid() != 0)
        skip();
    assert_refused("theirs", "owned by another user");
}

static void symlink_and_fifo_are_refused_not_followed(void **state)
{
    (void)state;
    char target[160];
    snprintf(target, sizeof target, "%s/target", root);
    int fd = open(target, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0 && write(fd, "herokupq-cache 1\nurl postgres://x@evil/d\n", 41) == 41);
    close(fd);
    assert_int_equal(symlink(target, path_of("link")), 0);
    assert_refused("link", "symbolic link");
    assert_int_equal(mkfifo(path_of("fifo"), 0600), 0);
    assert_refused("fifo", "not a regular file"); /* and it did not block */
    /* The lock file too; O_CREAT does not create the link's target. */
    assert_int_equal(symlink("/tmp/hpq-unit-no-such-target", path_of("dangling.lock")), 0);
    capture_start();
    int lock = hpq_filecache_trylock(dirfd_, "dangling");
    const char *out = capture_end();
    assert_int_equal(lock, -2);
    assert_int_equal(lines_with(out, "symbolic link"), 1);
    assert_int_equal(access("/tmp/hpq-unit-no-such-target", F_OK), -1);
}

static void directory_must_be_ours_and_private(void **state)
{
    (void)state;
    char d[160], link[160];
    snprintf(d, sizeof d, "%s/wide", root);
    assert_int_equal(mkdir(d, 0755), 0);
    capture_start();
    int fd = hpq_filecache_open_dir(d);
    const char *out = capture_end();
    assert_int_equal(fd, -1);
    assert_int_equal(lines_with(out, "open to other users (it must be 0700)"), 1);
    snprintf(link, sizeof link, "%s/link", root);
    assert_int_equal(symlink(dir, link), 0);
    capture_start();
    fd = hpq_filecache_open_dir(link);
    out = capture_end();
    assert_int_equal(fd, -1);
    assert_int_equal(lines_with(out, "symbolic link"), 1);
    if (geteuid() != 0)
        skip();
    snprintf(d, sizeof d, "%s/theirs", root);
    assert_int_equal(mkdir(d, 0700), 0);
    assert_int_equal(chown(d, 65534, 65534), 0);
    capture_start();
    fd = hpq_filecache_open_dir(d);
    out = capture_end();
    assert_int_equal(fd, -1);
    assert_int_equal(lines_with(out, "owned by another user"), 1);
}

static void directory_is_created_0700(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_true(fcntl(dirfd_, F_GETFD) & FD_CLOEXEC);
}

static void lock_is_exclusive_and_released(void **state)
{
    (void)state;
    int a = hpq_filecache_trylock(dirfd_, "e2");
    assert_true(a >= 0);
    assert_true(fcntl(a, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(hpq_filecache_trylock(dirfd_, "e2"), -1); /* flock is per open file */
    hpq_filecache_unlock(a);
    int b = hpq_filecache_trylock(dirfd_, "e2");
    assert_true(b >= 0);
    hpq_filecache_unlock(b);
    struct stat st;
    assert_int_equal(stat(path_of("e2.lock"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_known_answers),
        cmocka_unit_test(names_are_unchanged),
        cmocka_unit_test(name_is_a_hash_of_the_whole_key_without_the_token),
        T(record_round_trip_0600),
        T(missing_or_foreign_record_is_none),
        T(oversized_record_is_not_read),
        T(record_that_is_not_ours_is_refused),
        T(symlink_and_fifo_are_refused_not_followed),
        T(directory_must_be_ours_and_private),
        T(directory_is_created_0700),
        T(lock_is_exclusive_and_released),
        T(netrc_token_names_the_entry_by_its_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
