/* dlopen.c — see dlopen.h. */
#include "dlopen.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "shim_on.h"

#define MAX_PHDRS 64
#define MAX_DYN 512

static bool read_at(int fd, void *buf, size_t len, off_t off)
{
    return off >= 0 && pread(fd, buf, len, off) == (ssize_t)len;
}

/* File offset of a virtual address, through the PT_LOAD segments. */
static off_t file_offset(const ElfW(Phdr) *ph, unsigned n, ElfW(Addr) vaddr)
{
    for (unsigned i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
            vaddr < ph[i].p_vaddr + ph[i].p_filesz)
            return (off_t)(vaddr - ph[i].p_vaddr + ph[i].p_offset);
    return -1;
}

static bool is_libpq_name(const char *name)
{
    /* libpq.so.5, and the renamed private copies wheels and gems bundle
     * (libpq-1a2b3c4d.so.5.15). */
    return strncmp(name, "libpq.so", 8) == 0 || strncmp(name, "libpq-", 6) == 0;
}

static bool needs_libpq(int fd, const ElfW(Phdr) *ph, unsigned n)
{
    const ElfW(Phdr) *dynamic = NULL;
    for (unsigned i = 0; i < n && !dynamic; i++)
        if (ph[i].p_type == PT_DYNAMIC)
            dynamic = &ph[i];
    if (!dynamic)
        return false;
    ElfW(Dyn) dyn[MAX_DYN];
    size_t count = dynamic->p_filesz / sizeof(ElfW(Dyn));
    if (count > MAX_DYN)
        count = MAX_DYN;
    if (!read_at(fd, dyn, count * sizeof dyn[0], (off_t)dynamic->p_offset))
        return false;
    ElfW(Addr) strtab = 0;
    for (size_t i = 0; i < count && dyn[i].d_tag != DT_NULL; i++)
        if (dyn[i].d_tag == DT_STRTAB)
            strtab = dyn[i].d_un.d_ptr;
    off_t strings = file_offset(ph, n, strtab);
    for (size_t i = 0; strings >= 0 && i < count && dyn[i].d_tag != DT_NULL; i++) {
        char name[64] = {0};
        if (dyn[i].d_tag == DT_NEEDED &&
            pread(fd, name, sizeof name - 1, strings + (off_t)dyn[i].d_un.d_val) > 0 &&
            is_libpq_name(name))
            return true;
    }
    return false;
}

int hpq_elf_needs_libpq(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ElfW(Ehdr) eh;
    ElfW(Phdr) ph[MAX_PHDRS];
    bool yes = read_at(fd, &eh, sizeof eh, 0) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
               eh.e_ident[EI_CLASS] == (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) &&
               eh.e_phentsize == sizeof(ElfW(Phdr)) && eh.e_phnum <= MAX_PHDRS &&
               read_at(fd, ph, eh.e_phnum * sizeof ph[0], (off_t)eh.e_phoff) &&
               needs_libpq(fd, ph, eh.e_phnum);
    close(fd);
    return yes;
}

int hpq_dlopen_flags(const char *file, int flags)
{
    if (!(flags & RTLD_DEEPBIND) || !file || !strchr(file, '/') || !hpq_shim_on() ||
        !hpq_elf_needs_libpq(file))
        return flags;
    hpq_log(HPQ_DEBUG, "loading %s without RTLD_DEEPBIND, so that its libpq calls reach the shim",
            file);
    return flags & ~RTLD_DEEPBIND;
}
