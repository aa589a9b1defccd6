#!/usr/bin/env python3
"""A TCP proxy in front of a smart-HTTP Git server that resets every push mid-way.

  reset-on-push.py BACKEND_PORT

Prints "PORT <n>" once it listens on 127.0.0.1. Fetches (info/refs, git-upload-pack) are passed
through; a push's connection (its first request names `git-receive-pack`) is reset (SO_LINGER
0) as soon as that request arrived, while the client goes on to write: the peer that goes away
during a push.
"""
import socket
import struct
import sys
import threading

backend = int(sys.argv[1])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(f"PORT {listener.getsockname()[1]}", flush=True)


def pipe(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    head = b""
    while b"\r\n\r\n" not in head:
        data = client.recv(65536)
        if not data:
            client.close()
            return
        head += data
    if b"git-receive-pack" in head.split(b"\r\n", 1)[0]:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()  # a reset while the push is being sent
        return
    upstream = socket.create_connection(("127.0.0.1", backend))
    upstream.sendall(head)
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
    pipe(client, upstream)


while True:
    connection, _ = listener.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
