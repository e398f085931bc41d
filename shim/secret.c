/* secret.c — see secret.h. */
#include "secret.h"

#include <stdlib.h>
#include <string.h>

void hpq_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void hpq_free_secret(char *s)
{
    if (!s)
        return;
    hpq_wipe(s, strlen(s));
    free(s);
}
