/* rtld_next — does dlsym(RTLD_NEXT, ...) still answer relative to its caller?
 * Prints the file that defines the "next" PQconnectdb after this program:
 * under LD_PRELOAD that is the preloaded shim, the first object after main. */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
    Dl_info info;
    void *next = dlsym(RTLD_NEXT, "PQconnectdb");
    printf("%s\n", next && dladdr(next, &info) ? info.dli_fname : "(none)");
    return 0;
}
