// libgit2 (Debian libgit2-dev 1.5) for Swift. Variadic and macro APIs get typed wrappers here.
#ifndef IMAGEBUMP_CLIBGIT2_SHIM_H
#define IMAGEBUMP_CLIBGIT2_SHIM_H

#include <git2.h>
#include <git2/sys/stream.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/// git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path): the CA bundle for HTTPS.
static inline int imagebump_git_set_ssl_cert_locations(const char *file, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path);
}

/// git_libgit2_opts(GIT_OPT_SET_USER_AGENT, agent).
static inline int imagebump_git_set_user_agent(const char *agent) {
    return git_libgit2_opts(GIT_OPT_SET_USER_AGENT, agent);
}

/// git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled).
static inline int imagebump_git_set_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}

/// libgit2's own socket stream sends small writes with Nagle's algorithm on: a push's many small
/// chunks wait for the peer's delayed ACK (about 40 ms a request on loopback), and a peer that
/// never answers blocks forever (libgit2 1.5 has no network timeouts). This stream is libgit2's
/// plain socket with TCP_NODELAY, a connect deadline and send/receive timeouts. It is
/// registered for GIT_STREAM_STANDARD, which libgit2 also layers TLS and SSH over; its first
/// fields are laid out as libgit2 1.5's `git_socket_stream` (parent, host, port, socket),
/// because the SSH transport reads the socket from there.
typedef struct {
    git_stream parent;
    char *host;
    char *port;
    int s;
} imagebump_socket_stream;

static int imagebump_stream_timeout_ms = 60000;

static inline int imagebump_stream_fail(const char *what, const char *host) {
    char message[512];
    snprintf(message, sizeof(message), "%s %s: %s", what, host ? host : "", strerror(errno));
    git_error_set_str(GIT_ERROR_NET, message);
    return -1;
}

static inline int imagebump_stream_connect(git_stream *stream) {
    imagebump_socket_stream *st = (imagebump_socket_stream *)stream;
    struct addrinfo hints, *info = NULL, *p;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    int status = getaddrinfo(st->host, st->port, &hints, &info);
    if (status != 0) {
        char message[512];
        snprintf(message, sizeof(message), "failed to resolve address for %s: %s", st->host, gai_strerror(status));
        git_error_set_str(GIT_ERROR_NET, message);
        return -1;
    }
    int fd = -1;
    for (p = info; p != NULL; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) continue;
        int flags = fcntl(fd, F_GETFL, 0);
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        int rc = connect(fd, p->ai_addr, p->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd waiting = {fd, POLLOUT, 0};
            rc = poll(&waiting, 1, imagebump_stream_timeout_ms);
            if (rc == 0) { errno = ETIMEDOUT; rc = -1; }
            else if (rc > 0) {
                int error = 0;
                socklen_t length = sizeof(error);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
                if (error != 0) { errno = error; rc = -1; } else { rc = 0; }
            }
        }
        if (rc == 0) {
            fcntl(fd, F_SETFL, flags);
            break;
        }
        int saved = errno;
        close(fd);
        errno = saved;
        fd = -1;
    }
    freeaddrinfo(info);
    if (fd < 0) return imagebump_stream_fail("failed to connect to", st->host);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval timeout = {imagebump_stream_timeout_ms / 1000, (imagebump_stream_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    st->s = fd;
    return 0;
}

static inline ssize_t imagebump_stream_read(git_stream *stream, void *data, size_t length) {
    imagebump_socket_stream *st = (imagebump_socket_stream *)stream;
    ssize_t got;
    do { got = recv(st->s, data, length, 0); } while (got < 0 && errno == EINTR);
    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) errno = ETIMEDOUT;
        return imagebump_stream_fail("failed to read from", st->host);
    }
    return got;
}

static inline ssize_t imagebump_stream_write(git_stream *stream, const char *data, size_t length, int flags) {
    imagebump_socket_stream *st = (imagebump_socket_stream *)stream;
    (void)flags;
    ssize_t sent;
    do { sent = send(st->s, data, length, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) errno = ETIMEDOUT;
        return imagebump_stream_fail("failed to send to", st->host);
    }
    return sent;
}

static inline int imagebump_stream_close(git_stream *stream) {
    imagebump_socket_stream *st = (imagebump_socket_stream *)stream;
    if (st->s >= 0) close(st->s);
    st->s = -1;
    return 0;
}

static inline void imagebump_stream_free(git_stream *stream) {
    imagebump_socket_stream *st = (imagebump_socket_stream *)stream;
    free(st->host);
    free(st->port);
    free(st);
}

static inline int imagebump_stream_new(git_stream **out, const char *host, const char *port) {
    imagebump_socket_stream *st = (imagebump_socket_stream *)calloc(1, sizeof(imagebump_socket_stream));
    if (st == NULL) return -1;
    st->host = strdup(host);
    st->port = strdup(port);
    st->s = -1;
    st->parent.version = GIT_STREAM_VERSION;
    st->parent.connect = imagebump_stream_connect;
    st->parent.read = imagebump_stream_read;
    st->parent.write = imagebump_stream_write;
    st->parent.close = imagebump_stream_close;
    st->parent.free = imagebump_stream_free;
    *out = (git_stream *)st;
    return 0;
}

/// Registers the stream above for every network transfer, with `timeout_ms` as the deadline of
/// a connect and of each send or receive.
static inline int imagebump_git_register_socket_stream(int timeout_ms) {
    imagebump_stream_timeout_ms = timeout_ms > 0 ? timeout_ms : 60000;
    git_stream_registration registration;
    memset(&registration, 0, sizeof(registration));
    registration.version = GIT_STREAM_VERSION;
    registration.init = imagebump_stream_new;
    return git_stream_register(GIT_STREAM_STANDARD, &registration);
}

#endif
