/* classify.c — see classify.h. */
#include "classify.h"

#include <ctype.h>
#include <string.h>

/* Each SQLSTATE in a VERBOSE message follows "<severity>:  " as "XXXXX: ". */
static bool next_sqlstate(const char **cursor, char code[6])
{
    const char *p;
    while ((p = strstr(*cursor, ":  ")) != NULL) {
        *cursor = p + 3;
        bool ok = true;
        for (int i = 0; i < 5 && ok; i++)
            ok = isdigit((unsigned char)p[3 + i]) || isupper((unsigned char)p[3 + i]);
        if (ok && p[8] == ':') {
            memcpy(code, p + 3, 5);
            code[5] = '\0';
            return true;
        }
    }
    return false;
}

bool hpq_classify_has_sqlstate(const char *message, const char *sqlstate)
{
    const char *cursor = message ? message : "";
    char code[6];
    while (next_sqlstate(&cursor, code))
        if (strcmp(code, sqlstate) == 0)
            return true;
    return false;
}

enum hpq_outcome hpq_classify(ConnStatusType status, const char *message)
{
    if (status == CONNECTION_OK)
        return HPQ_CONNECTED;
    const char *cursor = message ? message : "";
    char code[6];
    bool any = false;
    while (next_sqlstate(&cursor, code)) {
        any = true;
        /* 28P01 bad password, 28000 role gone or not allowed, 3D000 no database */
        if (strcmp(code, "28P01") == 0 || strcmp(code, "28000") == 0 ||
            strcmp(code, "3D000") == 0)
            return HPQ_STALE;
    }
    return any ? HPQ_REFUSED : HPQ_UNREACHABLE;
}

const char *hpq_classify_said(enum hpq_outcome outcome)
{
    return outcome == HPQ_STALE ? "the credentials or database are gone"
                                : "the server did not answer";
}
