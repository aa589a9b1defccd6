// Linux's epoll and eventfd for the HTTP server's event loops. struct epoll_event is packed
// on x86_64, so Swift never touches it: these helpers copy its two fields in and out.
#ifndef IMAGEBUMP_CLINUX_SHIM_H
#define IMAGEBUMP_CLINUX_SHIM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

// glibc declares accept4 only under _GNU_SOURCE, which would change other system headers'
// definitions in this module and clash with Glibc's and Dispatch's modules: declared here.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// accept4: the new socket is non-blocking and closed on exec.
static inline int imagebump_accept_nonblocking(int listener) {
    return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static inline int imagebump_epoll_ctl(int epoll, int operation, int fd, uint32_t events) {
    struct epoll_event event = {0};
    event.events = events;
    event.data.fd = fd;
    return epoll_ctl(epoll, operation, fd, operation == EPOLL_CTL_DEL ? NULL : &event);
}

/// Waits like epoll_wait (at most 256 events) and reports each event's descriptor and flags.
static inline int imagebump_epoll_wait(int epoll, int *fds, uint32_t *flags, int capacity, int timeout) {
    struct epoll_event events[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epoll, events, capacity, timeout);
    for (int index = 0; index < count; index++) {
        fds[index] = events[index].data.fd;
        flags[index] = events[index].events;
    }
    return count;
}
#endif
