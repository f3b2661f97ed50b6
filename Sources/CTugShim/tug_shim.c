#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "tug_shim.h"

int tug_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int tug_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int tug_set_overlay_opaque(const char *path) {
    return setxattr(path, "trusted.overlay.opaque", "y", 1, 0);
}
