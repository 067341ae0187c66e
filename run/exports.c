/* exports.c: the malloc families a shared library exports, read from the dynamic
 * symbol table of its ELF file (the file is not trusted: every offset is checked
 * against its size). A family is PREFIXmalloc defined beside PREFIXfree and
 * PREFIXrealloc; it is what `malloc:PREFIX@LIB` would bind, so a malloc-style library
 * passed as a contract plugin can be answered with the spec that was meant. */
#include "hl_run.h"

#include <elf.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct symbols {
    const Elf64_Sym *syms;
    size_t count;
    const char *names;
    size_t names_size;
} symbols;

/* The defined function symbols of the ELF64 image [base, base + size): false if it is
 * not one or has no dynamic symbol table. */
static bool dynamic_symbols(const unsigned char *base, size_t size, symbols *out)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64)
        return false;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
        (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
        return false;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
    for (size_t i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum) continue;
        const Elf64_Shdr *str = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset || str->sh_offset > size ||
            str->sh_size > size - str->sh_offset || sh[i].sh_offset % _Alignof(Elf64_Sym))
            return false;
        *out = (symbols){(const Elf64_Sym *)(base + sh[i].sh_offset), sh[i].sh_size / sizeof(Elf64_Sym),
                         (const char *)base + str->sh_offset, str->sh_size};
        return true;
    }
    return false;
}

/* Symbol i's name if it is a function defined here, else NULL. */
static const char *function_name(const symbols *s, size_t i)
{
    const Elf64_Sym *sym = &s->syms[i];
    if (ELF64_ST_TYPE(sym->st_info) != STT_FUNC || sym->st_shndx == SHN_UNDEF || sym->st_name >= s->names_size)
        return NULL;
    const char *name = s->names + sym->st_name;
    return memchr(name, '\0', s->names_size - sym->st_name) ? name : NULL;
}

static bool defines(const symbols *s, const char *prefix, size_t prefix_len, const char *suffix)
{
    for (size_t i = 0; i < s->count; i++) {
        const char *name = function_name(s, i);
        if (name && strncmp(name, prefix, prefix_len) == 0 && strcmp(name + prefix_len, suffix) == 0) return true;
    }
    return false;
}

size_t hl_malloc_prefixes(const char *path, char (*prefixes)[HL_PREFIX_MAX], size_t most)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) return 0;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) return close(fd), 0;
    size_t size = (size_t)st.st_size;
    const unsigned char *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (base == MAP_FAILED) return 0;
    size_t found = 0;
    symbols s;
    for (size_t i = 0; dynamic_symbols(base, size, &s) && i < s.count && found < most; i++) {
        const char *name = function_name(&s, i);
        size_t len = name ? strlen(name) : 0;
        if (len < 6 || strcmp(name + len - 6, "malloc") != 0 || len - 6 >= HL_PREFIX_MAX) continue;
        if (!defines(&s, name, len - 6, "free") || !defines(&s, name, len - 6, "realloc")) continue;
        bool seen = false; /* a versioned symbol may be listed twice */
        for (size_t k = 0; k < found && !seen; k++)
            seen = strlen(prefixes[k]) == len - 6 && strncmp(prefixes[k], name, len - 6) == 0;
        if (seen) continue;
        memcpy(prefixes[found], name, len - 6);
        prefixes[found++][len - 6] = '\0';
    }
    munmap((void *)base, size);
    return found;
}
