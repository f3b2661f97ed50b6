// The container monitor's attach socket (`kubectl attach`, `kubectl run -i`): a unix socket in the container's
// bundle that the node agent connects to. Every connected client receives the container's output from the moment
// it attached; clients send stdin, stdin-close and terminal resizes. Messages in both directions are
// `[type: 1 byte][length: 4 bytes, big-endian][payload]`.
//
// monitor → client: 1 stdout, 2 stderr.   client → monitor: 0 stdin, 3 close stdin, 4 resize (rows, cols: u16 BE).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "tug_attach.h"

static void drop(struct attach_client *c) {
    if (c->fd >= 0) close(c->fd);
    free(c->buffer);
    *c = (struct attach_client){.fd = -1};
}

void attach_init(struct attach_server *server) {
    server->listen_fd = -1;
    for (int i = 0; i < ATTACH_MAX_CLIENTS; i++) server->clients[i] = (struct attach_client){.fd = -1};
}

int attach_listen(struct attach_server *server, const char *path) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) return -1;
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 4) != 0) {
        close(fd);
        return -1;
    }
    server->listen_fd = fd;
    return 0;
}

void attach_accept(struct attach_server *server) {
    int fd;
    while ((fd = accept4(server->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
        // A client that stops reading for a second is dropped (see attach_broadcast) instead of blocking the monitor.
        struct timeval timeout = {.tv_sec = 1};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        int placed = 0;
        for (int i = 0; i < ATTACH_MAX_CLIENTS && !placed; i++) {
            if (server->clients[i].fd < 0) {
                uint8_t *buffer = malloc(ATTACH_BUFFER);
                if (buffer == NULL) break;
                server->clients[i] = (struct attach_client){.fd = fd, .buffer = buffer};
                placed = 1;
            }
        }
        if (!placed) close(fd);
    }
}

static int write_all(int fd, const uint8_t *bytes, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        bytes += n;
        length -= (size_t)n;
    }
    return 0;
}

void attach_broadcast(struct attach_server *server, uint8_t type, const char *data, size_t length) {
    uint8_t header[5] = {type, (uint8_t)(length >> 24), (uint8_t)(length >> 16), (uint8_t)(length >> 8), (uint8_t)length};
    for (int i = 0; i < ATTACH_MAX_CLIENTS; i++) {
        struct attach_client *c = &server->clients[i];
        if (c->fd < 0) continue;
        // A client that cannot keep up is dropped rather than stalling the container's output.
        if (write_all(c->fd, header, sizeof header) != 0 || write_all(c->fd, (const uint8_t *)data, length) != 0) drop(c);
    }
}

int attach_read(struct attach_client *c, const struct attach_handlers *handlers) {
    ssize_t n = read(c->fd, c->buffer + c->used, ATTACH_BUFFER - c->used);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    if (n <= 0) {
        drop(c);
        return -1;
    }
    c->used += (size_t)n;
    size_t offset = 0;
    while (c->used - offset >= 5) {
        const uint8_t *m = c->buffer + offset;
        size_t length = ((size_t)m[1] << 24) | ((size_t)m[2] << 16) | ((size_t)m[3] << 8) | m[4];
        if (length > ATTACH_BUFFER - 5) {  // a malformed client
            drop(c);
            return -1;
        }
        if (c->used - offset < 5 + length) break;
        const uint8_t *payload = m + 5;
        switch (m[0]) {
        case ATTACH_STDIN: handlers->stdin_data(handlers->context, (const char *)payload, length); break;
        case ATTACH_CLOSE_STDIN: handlers->stdin_close(handlers->context); break;
        case ATTACH_RESIZE:
            if (length == 4) handlers->resize(handlers->context, (uint16_t)((payload[0] << 8) | payload[1]), (uint16_t)((payload[2] << 8) | payload[3]));
            break;
        default: break;
        }
        offset += 5 + length;
    }
    memmove(c->buffer, c->buffer + offset, c->used - offset);
    c->used -= offset;
    return 0;
}

void attach_close_all(struct attach_server *server, const char *path) {
    for (int i = 0; i < ATTACH_MAX_CLIENTS; i++) drop(&server->clients[i]);
    if (server->listen_fd >= 0) close(server->listen_fd);
    server->listen_fd = -1;
    if (path) unlink(path);
}
