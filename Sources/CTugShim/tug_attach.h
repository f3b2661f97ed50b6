// Internal to the container monitor (not part of the module's public headers).
#ifndef TUG_ATTACH_H
#define TUG_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#define ATTACH_MAX_CLIENTS 8
#define ATTACH_STDIN 0
#define ATTACH_STDOUT 1
#define ATTACH_STDERR 2
#define ATTACH_CLOSE_STDIN 3
#define ATTACH_RESIZE 4

#define ATTACH_BUFFER (65536 + 5)

struct attach_client {
    int fd;
    uint8_t *buffer;  // ATTACH_BUFFER bytes, allocated while connected
    size_t used;
};

struct attach_server {
    int listen_fd;
    struct attach_client clients[ATTACH_MAX_CLIENTS];
};

struct attach_handlers {
    void *context;
    void (*stdin_data)(void *context, const char *data, size_t length);
    void (*stdin_close)(void *context);
    void (*resize)(void *context, uint16_t rows, uint16_t cols);
};

void attach_init(struct attach_server *server);
int attach_listen(struct attach_server *server, const char *path);
void attach_accept(struct attach_server *server);
void attach_broadcast(struct attach_server *server, uint8_t type, const char *data, size_t length);
/// Reads what a client sent and dispatches complete messages; -1 when the client went away (its fd is closed).
int attach_read(struct attach_client *client, const struct attach_handlers *handlers);
void attach_close_all(struct attach_server *server, const char *path);

#endif
