// The container monitor: one small process per container, started by the node agent as `tug __monitor …` and
// detached from it (own session), so containers and their logs outlive an agent restart or `kill -9`.
//
// It runs `runc run --detach`, becomes the container's parent (child subreaper), reports the container pid to the
// agent as one JSON line, writes the container's stdout and stderr to a CRI-format log file (with size rotation),
// and when the container exits writes `{"exitCode":…,"signal":…,"finishedAt":…}` to the exit file (atomically).
// Same role as conmon or a containerd shim; it holds no other state and talks to nobody else.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tug_attach.h"
#include "tug_shim.h"

#define MAX_LINE 16384

struct monitor_options {
    const char *runc, *root, *bundle, *id, *log, *exit_file, *pid_file, *runc_log;
    const char *attach_socket, *console_socket;
    long log_max_bytes;
    int log_max_files;
    int stdin_open, stdin_once, tty;
};

struct log_writer {
    const char *path;
    int fd;
    long size, max_bytes;
    int max_files;
};

struct stream {
    const char *name;
    int fd;
    char pending[MAX_LINE];
    size_t length;
};

static void timestamp(char *out, size_t size) {
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    char seconds[32];
    strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%09ldZ", seconds, now.tv_nsec);
}

static void write_all(int fd, const char *bytes, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        bytes += n;
        length -= (size_t)n;
    }
}

static int open_log(struct log_writer *log) {
    log->fd = open(log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    struct stat st;
    log->size = (log->fd >= 0 && fstat(log->fd, &st) == 0) ? st.st_size : 0;
    return log->fd;
}

// Keeps `path` plus `path.1` … `path.(max_files-1)`, newest first.
static void rotate_log(struct log_writer *log) {
    char from[4096], to[4096];
    close(log->fd);
    for (int n = log->max_files - 1; n >= 1; n--) {
        if (n == 1) snprintf(from, sizeof from, "%s", log->path);
        else snprintf(from, sizeof from, "%s.%d", log->path, n - 1);
        snprintf(to, sizeof to, "%s.%d", log->path, n);
        rename(from, to);
    }
    if (log->max_files <= 1) unlink(log->path);
    open_log(log);
}

// One CRI log entry: `<RFC 3339 nano> <stream> <F|P> <content>\n`.
static void log_entry(struct log_writer *log, const char *stream, int partial, const char *content, size_t length) {
    if (log->fd < 0) return;
    char prefix[96];
    timestamp(prefix, sizeof prefix);
    size_t used = strlen(prefix);
    snprintf(prefix + used, sizeof prefix - used, " %s %c ", stream, partial ? 'P' : 'F');
    struct iovec parts[3] = {
        {prefix, strlen(prefix)}, {(void *)content, length}, {"\n", 1},
    };
    size_t total = parts[0].iov_len + length + 1;
    char line[MAX_LINE + 128];
    size_t offset = 0;
    for (int i = 0; i < 3; i++) {
        memcpy(line + offset, parts[i].iov_base, parts[i].iov_len);
        offset += parts[i].iov_len;
    }
    write_all(log->fd, line, total);
    log->size += (long)total;
    if (log->max_bytes > 0 && log->size >= log->max_bytes) rotate_log(log);
}

// Appends bytes read from a stream, emitting each complete line and any line that fills the buffer (as partial).
static void stream_feed(struct stream *s, struct log_writer *log, const char *bytes, size_t length) {
    for (size_t i = 0; i < length; i++) {
        if (bytes[i] == '\n') {
            log_entry(log, s->name, 0, s->pending, s->length);
            s->length = 0;
        } else {
            s->pending[s->length++] = bytes[i];
            if (s->length == MAX_LINE) {
                log_entry(log, s->name, 1, s->pending, s->length);
                s->length = 0;
            }
        }
    }
}

static void stream_flush(struct stream *s, struct log_writer *log) {
    if (s->length > 0) log_entry(log, s->name, 0, s->pending, s->length);
    s->length = 0;
}

// Reads what is available; returns 0 at end of stream.
static int stream_read(struct stream *s, struct log_writer *log, struct attach_server *attach, uint8_t type) {
    char buffer[65536];
    ssize_t n = read(s->fd, buffer, sizeof buffer);
    if (n > 0) attach_broadcast(attach, type, buffer, (size_t)n);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
    if (n <= 0) {
        stream_flush(s, log);
        close(s->fd);
        s->fd = -1;
        return 0;
    }
    stream_feed(s, log, buffer, (size_t)n);
    return 1;
}

static void write_exit_file(const char *path, int status) {
    char finished[64], tmp[4096], body[256];
    timestamp(finished, sizeof finished);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    snprintf(body, sizeof body, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"}\n", code, sig, finished);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    write_all(fd, body, strlen(body));
    fsync(fd);
    close(fd);
    rename(tmp, path);
}

static long read_pid_file(const char *path) {
    char buffer[32] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    return n > 0 ? strtol(buffer, NULL, 10) : -1;
}

static void report(int fd, const char *json) {
    write_all(fd, json, strlen(json));
    close(fd);
}

static int parse_options(int argc, char **argv, struct monitor_options *o) {
    static const struct option long_options[] = {
        {"runc", required_argument, 0, 'r'}, {"root", required_argument, 0, 'R'},
        {"bundle", required_argument, 0, 'b'}, {"id", required_argument, 0, 'i'},
        {"log", required_argument, 0, 'l'}, {"exit-file", required_argument, 0, 'e'},
        {"pid-file", required_argument, 0, 'p'}, {"runc-log", required_argument, 0, 'L'},
        {"log-max-bytes", required_argument, 0, 'm'}, {"log-max-files", required_argument, 0, 'f'},
        {"attach-socket", required_argument, 0, 'a'}, {"console-socket", required_argument, 0, 'c'},
        {"stdin", no_argument, 0, 'I'}, {"stdin-once", no_argument, 0, 'O'}, {"tty", no_argument, 0, 'T'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->log_max_bytes = 10 * 1024 * 1024;
    o->log_max_files = 5;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (c) {
        case 'r': o->runc = optarg; break;
        case 'R': o->root = optarg; break;
        case 'b': o->bundle = optarg; break;
        case 'i': o->id = optarg; break;
        case 'l': o->log = optarg; break;
        case 'e': o->exit_file = optarg; break;
        case 'p': o->pid_file = optarg; break;
        case 'L': o->runc_log = optarg; break;
        case 'm': o->log_max_bytes = strtol(optarg, NULL, 10); break;
        case 'f': o->log_max_files = (int)strtol(optarg, NULL, 10); break;
        case 'a': o->attach_socket = optarg; break;
        case 'c': o->console_socket = optarg; break;
        case 'I': o->stdin_open = 1; break;
        case 'O': o->stdin_once = 1; break;
        case 'T': o->tty = 1; break;
        default: return -1;
        }
    }
    if (o->tty && !o->console_socket) return -1;
    return (o->runc && o->root && o->bundle && o->id && o->log && o->exit_file && o->pid_file && o->runc_log) ? 0 : -1;
}

// Runs `runc run --detach` with the container's stdio on our pipes; returns runc's wait status, or -1.
static int start_container(const struct monitor_options *o, int in_fd, int out_fd, int err_fd) {
    pid_t runc = fork();
    if (runc < 0) return -1;
    if (runc == 0) {
        int null_fd = open("/dev/null", O_RDONLY);
        dup2(in_fd >= 0 ? in_fd : null_fd, 0);
        dup2(out_fd >= 0 ? out_fd : null_fd, 1);
        dup2(err_fd >= 0 ? err_fd : null_fd, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (o->tty) {
            execl(o->runc, o->runc, "--root", o->root, "--log", o->runc_log, "--log-format", "json", "run", "--detach",
                  "--console-socket", o->console_socket, "--bundle", o->bundle, "--pid-file", o->pid_file, o->id, (char *)NULL);
        } else {
            execl(o->runc, o->runc, "--root", o->root, "--log", o->runc_log, "--log-format", "json", "run", "--detach",
                  "--bundle", o->bundle, "--pid-file", o->pid_file, o->id, (char *)NULL);
        }
        _exit(127);
    }
    int status = 0;
    while (waitpid(runc, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return status;
}

/// What attach clients write to: the container's stdin (a pipe, or the terminal's master).
struct io {
    int stdin_fd;
    int tty, stdin_once, attached;
};

static void io_stdin(void *context, const char *data, size_t length) {
    struct io *io = context;
    if (io->stdin_fd >= 0) write_all(io->stdin_fd, data, length);
}

/// End of input: close the pipe; a terminal has no such thing, so it gets ^D as from a user.
static void io_close(void *context) {
    struct io *io = context;
    if (io->stdin_fd < 0) return;
    if (io->tty) {
        write_all(io->stdin_fd, "\x04", 1);
        return;
    }
    close(io->stdin_fd);
    io->stdin_fd = -1;
}

static void io_resize(void *context, uint16_t rows, uint16_t cols) {
    struct io *io = context;
    if (!io->tty || io->stdin_fd < 0) return;
    struct winsize size = {.ws_row = rows, .ws_col = cols};
    ioctl(io->stdin_fd, TIOCSWINSZ, &size);
}

static int listen_unix(const char *path) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) return -1;
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 1) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/// runc's --console-socket protocol: one connection carrying the terminal master with SCM_RIGHTS.
static int receive_fd(int listen_fd, int timeout_ms) {
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) <= 0) return -1;
    int connection = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (connection < 0) return -1;
    char data[256];
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
    union {
        struct cmsghdr header;
        char buffer[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer};
    ssize_t n = recvmsg(connection, &message, MSG_CMSG_CLOEXEC);
    close(connection);
    if (n < 0) return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return fd;
        }
    }
    return -1;
}

int tug_monitor_main(int argc, char **argv) {
    struct monitor_options o;
    if (parse_options(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: tug __monitor --runc PATH --root DIR --bundle DIR --id ID --log FILE --exit-file FILE "
                        "--pid-file FILE --runc-log FILE [--log-max-bytes N] [--log-max-files N] [--attach-socket PATH] "
                        "[--stdin [--stdin-once]] [--tty --console-socket PATH]\n");
        return 2;
    }
    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) return 1;
    pid_t child = fork();
    if (child < 0) return 1;
    if (child > 0) {
        // The agent's side: relay the monitor's one-line report, then exit so the agent's wait ends.
        close(status_pipe[1]);
        char buffer[4096];
        ssize_t n, total = 0;
        while ((n = read(status_pipe[0], buffer + total, sizeof buffer - 1 - (size_t)total)) > 0) total += n;
        if (total == 0) {
            printf("{\"error\":\"container monitor exited before reporting\"}\n");
            return 1;
        }
        write_all(1, buffer, (size_t)total);
        return strstr(buffer, "\"pid\"") ? 0 : 1;
    }
    close(status_pipe[0]);
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

    struct log_writer log = {.path = o.log, .fd = -1, .max_bytes = o.log_max_bytes, .max_files = o.log_max_files};
    open_log(&log);
    struct io io = {.stdin_fd = -1, .tty = o.tty, .stdin_once = o.stdin_once};
    int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1}, console = -1;
    int ok = sfd >= 0;
    if (o.tty) {
        ok = ok && (console = listen_unix(o.console_socket)) >= 0;
    } else {
        ok = ok && pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0;
        if (o.stdin_open) ok = ok && pipe2(in, O_CLOEXEC) == 0;
    }
    struct attach_server attach;
    attach_init(&attach);
    if (ok && o.attach_socket) ok = attach_listen(&attach, o.attach_socket) == 0;
    if (!ok) {
        report(status_pipe[1], "{\"error\":\"container monitor: cannot create its pipes or sockets\"}\n");
        return 1;
    }
    // The child keeps its ends across exec (dup2 in the child clears close-on-exec on the copies only).
    int runc_status = start_container(&o, in[0], out[1], err[1]);
    if (in[0] >= 0) close(in[0]);
    if (out[1] >= 0) close(out[1]);
    if (err[1] >= 0) close(err[1]);
    io.stdin_fd = in[1];
    struct stream streams[2] = {{.name = "stdout", .fd = out[0]}, {.name = "stderr", .fd = err[0]}};
    if (o.tty) {
        // runc sent the terminal's master before `run --detach` returned; it is both stdout and stdin.
        int master = runc_status == 0 ? receive_fd(console, 5000) : -1;
        close(console);
        unlink(o.console_socket);
        if (runc_status == 0 && master < 0) runc_status = -1;
        streams[0].fd = master;
        io.stdin_fd = master >= 0 ? dup(master) : -1;
    }
    long pid = read_pid_file(o.pid_file);
    if (runc_status != 0 || pid <= 0) {
        char message[256];
        snprintf(message, sizeof message, "{\"error\":\"runc run exited with status %d\",\"runcLog\":true}\n",
                 runc_status < 0 ? -1 : (WIFEXITED(runc_status) ? WEXITSTATUS(runc_status) : 128 + WTERMSIG(runc_status)));
        report(status_pipe[1], message);
        return 1;
    }
    // The start time is taken here, after `runc run --detach` returned and before the exit can be seen, by the clock
    // the exit's finishedAt is read from: a container that exits at once still reports startedAt <= finishedAt.
    char started[64];
    timestamp(started, sizeof started);
    char message[160];
    snprintf(message, sizeof message, "{\"pid\":%ld,\"monitor\":%d,\"startedAt\":\"%s\"}\n", pid, (int)getpid(), started);
    report(status_pipe[1], message);

    struct attach_handlers handlers = {.context = &io, .stdin_data = io_stdin, .stdin_close = io_close, .resize = io_resize};
    int exited = 0, exit_status = 0;
    for (;;) {
        struct pollfd fds[4 + ATTACH_MAX_CLIENTS] = {
            {.fd = sfd, .events = POLLIN}, {.fd = streams[0].fd, .events = POLLIN},
            {.fd = streams[1].fd, .events = POLLIN}, {.fd = exited ? -1 : attach.listen_fd, .events = POLLIN}};
        for (int i = 0; i < ATTACH_MAX_CLIENTS; i++) fds[4 + i] = (struct pollfd){.fd = attach.clients[i].fd, .events = POLLIN};
        int open_streams = (streams[0].fd >= 0) + (streams[1].fd >= 0);
        if (exited && open_streams == 0) break;
        // After the container's init exits the kernel kills the rest of its PID namespace, so the pipes close
        // promptly; the timeout only bounds a descriptor leaked to a process outside it.
        int ready = poll(fds, 4 + ATTACH_MAX_CLIENTS, exited ? 2000 : -1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0 && exited) break;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (read(sfd, &info, sizeof info) == sizeof info) {}
            int status;
            pid_t reaped;
            while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
                if (reaped == pid) {
                    exited = 1;
                    exit_status = status;
                }
            }
        }
        for (int i = 0; i < 2; i++) {
            if (streams[i].fd >= 0 && (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                stream_read(&streams[i], &log, &attach, i == 0 ? ATTACH_STDOUT : ATTACH_STDERR);
        }
        if (fds[3].revents & POLLIN) attach_accept(&attach);
        for (int i = 0; i < ATTACH_MAX_CLIENTS; i++) {
            if (fds[4 + i].fd < 0 || !(fds[4 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            io.attached = 1;
            // stdinOnce: the container's stdin ends with the first attach session that ends.
            if (attach_read(&attach.clients[i], &handlers) < 0 && io.stdin_once) io_close(&io);
        }
    }
    for (int i = 0; i < 2; i++) {
        if (streams[i].fd >= 0) stream_flush(&streams[i], &log);
    }
    attach_close_all(&attach, o.attach_socket);
    if (log.fd >= 0) fsync(log.fd);
    write_exit_file(o.exit_file, exit_status);
    return 0;
}
