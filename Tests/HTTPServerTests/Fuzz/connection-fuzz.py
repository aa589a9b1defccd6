#!/usr/bin/env python3
"""Fuzzes the HTTP server's connection state machine through a running `imagebump serve`.

  connection-fuzz.py PORT ADMIN_PORT PID SECONDS SEED

For SECONDS, many loopback connections at once send random mixes of valid requests (health,
deliveries with bad tokens, status reads), garbage, pipelined bursts of up to 2,000 requests,
bodies that stop short, `Expect: 100-continue`, bytes split at random points with random
pauses, and connections dropped half-way or reset (SO_LINGER 0), reading answers partly or not
at all. After every round the service must still answer /healthz on both listeners and its
process must be alive. Deterministic for a SEED. Prints what it sent; exits 1 when the service
died or stopped answering.
"""
import os
import random
import select
import socket
import struct
import sys
import time

port, admin, pid, seconds, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)

REQUESTS = [
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n",
    b'POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-token-0123456789\r\nContent-Length: 44\r\n\r\n{"image": "ghcr.io/acme/api", "tag": "1.0"}',
    b"POST /hooks/nobody HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
    b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n1\r\n}\r\n0\r\n\r\n",
    b"POST /v1/events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
    b"GET /healthz HTTP/1.0\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
]
GARBAGE = [b"\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x00\xff\xfe", b"GET /healthz HTTP/1.1\nHost: x\n\n", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
           b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"G" * 70000]


def payload():
    parts = []
    for _ in range(rng.randint(1, 40)):
        roll = rng.random()
        if roll < 0.05:
            parts.append(REQUESTS[0] * rng.randint(100, 2000))  # a pipelined burst
        elif roll < 0.15:
            parts.append(rng.choice(GARBAGE))
        elif roll < 0.2:
            request = rng.choice(REQUESTS)
            parts.append(request[: rng.randint(0, len(request))])  # stops short
        else:
            parts.append(rng.choice(REQUESTS))
    data = b"".join(parts)
    if rng.random() < 0.1:
        data = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data)
    return data


def alive():
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    for target in (port, admin):
        try:
            with socket.create_connection(("127.0.0.1", target), timeout=5) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                s.settimeout(5)
                if not s.recv(64).startswith(b"HTTP/1.1 200"):
                    return False
        except OSError:
            return False
    return True


end = time.monotonic() + seconds
rounds = connections = sent = 0
while time.monotonic() < end:
    rounds += 1
    sockets = []
    for _ in range(rng.randint(1, 24)):
        try:
            s = socket.create_connection(("127.0.0.1", rng.choice((port, port, port, admin))), timeout=2)
        except OSError:
            continue
        s.setblocking(False)
        sockets.append((s, payload(), rng.random()))
        connections += 1
    for s, data, style in sockets:
        offset = 0
        while offset < len(data):
            piece = data[offset: offset + rng.choice((1, 7, 100, 4096, 65536))]
            try:
                offset += s.send(piece)
            except BlockingIOError:
                select.select([s], [s], [], 0.01)  # the server stopped reading: back-pressure
                try:
                    s.recv(65536)
                except OSError:
                    pass
                if rng.random() < 0.02:
                    break
            except OSError:
                break
            if style < 0.05:
                time.sleep(rng.random() * 0.005)
        sent += offset
        if style < 0.3:
            try:
                s.recv(rng.randint(1, 65536))  # reads a part of the answers, or none
            except OSError:
                pass
    for s, _, style in sockets:
        if style > 0.9:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset
        s.close()
    if not alive():
        print(f"connection fuzz: the service stopped answering after round {rounds} (seed {seed})")
        sys.exit(1)
print(f"connection fuzz: {rounds} rounds, {connections} connections, {sent} bytes, seed {seed}: the service kept answering")
