// CTugShim: only what Swift's Glibc module does not expose (it is built without _GNU_SOURCE).
#ifndef TUG_SHIM_H
#define TUG_SHIM_H

#include <spawn.h>
#include <sys/types.h>

/// pipe2(fds, O_CLOEXEC): both ends close on exec, atomically (no window for a concurrent spawn to inherit them).
int tug_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor >= `from`.
int tug_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int from);

/// setxattr(path, "trusted.overlay.opaque", "y"): marks an unpacked layer directory opaque for overlayfs.
int tug_set_overlay_opaque(const char *path);

/// A connected unix stream socket (close-on-exec) to `path`, or -1 with errno.
int tug_unix_connect(const char *path);

/// TIOCSWINSZ on a terminal descriptor.
int tug_set_winsize(int fd, unsigned short rows, unsigned short cols);

/// A new pseudo-terminal: returns the master (close-on-exec) and writes the slave's path; -1 on failure.
int tug_openpty(char *slave_path, unsigned long size);

/// posix_spawn with a new session whose controlling terminal is `slave_path` (opened as stdin, stdout and
/// stderr), all other descriptors closed, default signals. Returns 0 or an errno value.
int tug_spawn_on_terminal(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *slave_path);

/// `tug __monitor …`: the per-container monitor (see tug_monitor.c). Returns the process exit status.
int tug_monitor_main(int argc, char **argv);

#endif
