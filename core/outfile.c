/* outfile.c: files written whole or not at all (hl_core.h, "output files"). The
 * temporary name is ".NAME.tmp-PID-N" in the final name's folder, so the rename never
 * crosses a filesystem and is atomic; it is created exclusively (never an existing
 * file), synced before the rename, and removed on every failure, an interruption
 * included: the temporary names open now are listed where a signal handler can
 * remove them (hl_outfile_remove_open). */
#include "hl_core.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary names of the files open now (a slot holds one or is NULL). A
 * name is listed before its file is made and unlisted before it is freed, so a signal
 * handler that interrupts the main flow sees a name that is still allocated. */
#define OPEN_SLOTS 16
static char *volatile open_temps[OPEN_SLOTS];

static void list_temp(char *temp)
{
    for (int i = 0; i < OPEN_SLOTS; i++)
        if (!open_temps[i]) {
            open_temps[i] = temp;
            return;
        }
}

static void unlist_temp(const char *temp)
{
    for (int i = 0; i < OPEN_SLOTS; i++)
        if (open_temps[i] == temp) open_temps[i] = NULL;
}

void hl_outfile_remove_open(void)
{
    for (int i = 0; i < OPEN_SLOTS; i++)
        if (open_temps[i]) unlink(open_temps[i]);
}

void hl_outfile_forget_open(void)
{
    for (int i = 0; i < OPEN_SLOTS; i++) open_temps[i] = NULL;
}

int hl_outfile_open(hl_outfile *out, const char *path, const char *mode)
{
    static unsigned counter;
    memset(out, 0, sizeof *out);
    out->path = path;
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    size_t size = strlen(path) + 64;
    out->temp = hl_mem_alloc(size);
    snprintf(out->temp, size, "%.*s.%s.tmp-%ld-%u", (int)dir, path, path + dir, (long)getpid(), counter++);
    list_temp(out->temp);
    int fd = open(out->temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    int e = errno;
    if (fd >= 0) out->f = fdopen(fd, mode);
    if (!out->f) {
        if (fd >= 0) e = errno, close(fd), unlink(out->temp);
        unlist_temp(out->temp);
        hl_mem_free(out->temp);
        out->temp = NULL;
        return e ? e : EIO;
    }
    return 0;
}

int hl_outfile_commit(hl_outfile *out)
{
    if (!out->f) return EBADF;
    int e = 0;
    if (ferror(out->f) || fflush(out->f) != 0) e = errno ? errno : EIO;
    if (!e && fsync(fileno(out->f)) != 0) e = errno;
    if (fclose(out->f) != 0 && !e) e = errno ? errno : EIO;
    out->f = NULL;
    if (!e && rename(out->temp, out->path) != 0) e = errno;
    if (e) unlink(out->temp);
    unlist_temp(out->temp);
    hl_mem_free(out->temp);
    out->temp = NULL;
    return e;
}

void hl_outfile_abort(hl_outfile *out)
{
    if (out->f) fclose(out->f);
    if (out->temp) unlink(out->temp);
    unlist_temp(out->temp);
    hl_mem_free(out->temp);
    memset(out, 0, sizeof *out);
}

int hl_outfile_write(const char *path, const void *bytes, size_t size)
{
    hl_outfile out;
    int e = hl_outfile_open(&out, path, "wb");
    if (e) return e;
    if (size && fwrite(bytes, 1, size, out.f) != size) {
        e = errno ? errno : EIO;
        hl_outfile_abort(&out);
        return e;
    }
    return hl_outfile_commit(&out);
}

int hl_make_folder(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return ENAMETOOLONG;
    for (char *p = path + 1; *p; p++) { /* each parent in turn; one that exists is fine */
        if (*p != '/') continue;
        *p = '\0';
        mkdir(path, 0777);
        *p = '/';
    }
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : errno;
}
