/*
 * The physical limit of "ready": walk the tree as watchfiles-node does (read every folder,
 * skip the folders its default ignores skip, node_modules first of all) and place one inotify
 * watch per folder, in one thread, with nothing else around it. Any watcher that watches the
 * same folders the same way needs at least this long.
 *
 *   limit [--no-watch] [--stat] [--no-ignore] ROOT
 *
 * --no-watch   walk only (what the walk alone costs)
 * --stat       also lstat() every entry (what a watcher that stats each file pays on top)
 * --no-ignore  walk and watch node_modules too
 *
 * Prints one JSON line: {"ms":..., "dirs":..., "entries":..., "watches":..., "rss_kb":...}.
 * The time is CLOCK_MONOTONIC from before inotify_init1 to after the last watch, the same
 * span "ready" measures in the watchers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The folder names watchfiles-node's defaultIgnore prunes. */
static const char *IGNORED[] = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv",
                                ".tox", ".idea", ".mypy_cache", ".pytest_cache", ".hypothesis", NULL};

/* The mask notify 8 places on each folder. */
#define MASK (IN_ATTRIB | IN_CREATE | IN_OPEN | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO)

static int do_watch = 1, do_stat = 0, do_ignore = 1;
static long dirs = 0, entries = 0, watches = 0;
static int ifd = -1;

static int ignored(const char *name) {
    if (!do_ignore) return 0;
    for (const char **p = IGNORED; *p; p++)
        if (strcmp(*p, name) == 0) return 1;
    return 0;
}

/* An explicit stack of paths, so deep trees cannot overflow the C stack. */
static char **stack;
static size_t depth, cap;

static void push(char *path) {
    if (depth == cap) {
        cap = cap ? cap * 2 : 1024;
        stack = realloc(stack, cap * sizeof *stack);
        if (!stack) { perror("realloc"); exit(1); }
    }
    stack[depth++] = path;
}

static void walk(const char *root) {
    push(strdup(root));
    while (depth > 0) {
        char *dir = stack[--depth];
        dirs++;
        if (do_watch) {
            int mask = MASK | (dirs == 1 ? IN_DELETE_SELF | IN_MOVE_SELF : 0);
            if (inotify_add_watch(ifd, dir, mask) < 0) {
                fprintf(stderr, "inotify_add_watch %s: %s\n", dir, strerror(errno));
                if (errno == ENOSPC) exit(2);
            } else {
                watches++;
            }
        }
        DIR *d = opendir(dir);
        if (!d) { free(dir); continue; }
        size_t len = strlen(dir);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            const char *n = e->d_name;
            if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
            if (ignored(n)) continue;
            entries++;
            int is_dir = e->d_type == DT_DIR;
            if (do_stat || e->d_type == DT_UNKNOWN) {
                char buf[4096];
                snprintf(buf, sizeof buf, "%s/%s", dir, n);
                struct stat st;
                if (lstat(buf, &st) == 0) is_dir = S_ISDIR(st.st_mode);
            }
            if (is_dir) {
                char *child = malloc(len + strlen(n) + 2);
                memcpy(child, dir, len);
                child[len] = '/';
                strcpy(child + len + 1, n);
                push(child);
            }
        }
        closedir(d);
        free(dir);
    }
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    const char *root = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-watch") == 0) do_watch = 0;
        else if (strcmp(argv[i], "--stat") == 0) do_stat = 1;
        else if (strcmp(argv[i], "--no-ignore") == 0) do_ignore = 0;
        else root = argv[i];
    }
    if (!root) {
        fprintf(stderr, "usage: limit [--no-watch] [--stat] [--no-ignore] ROOT\n");
        return 1;
    }
    double t0 = now_ms();
    if (do_watch) {
        ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (ifd < 0) { perror("inotify_init1"); return 1; }
    }
    walk(root);
    double t1 = now_ms();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"ms\":%.3f,\"dirs\":%ld,\"entries\":%ld,\"watches\":%ld,\"rss_kb\":%ld}\n", t1 - t0, dirs, entries,
           watches, ru.ru_maxrss);
    return 0;
}
