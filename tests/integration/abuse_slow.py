#!/usr/bin/env python3
"""Slow connections for test_abuse.sh (SPEC section 8, finding 8).

usage: abuse_slow.py HOST PORT COUNT tls|plain READY_FILE DONE_FILE

Opens COUNT TCP connections from 127.0.0.1 to HOST:PORT, each sending
the start of a request and never the end (plain: an HTTP request line
and one header; tls: a TLS record header announcing bytes that never
come).  Writes "<opened> <still open>" to READY_FILE, then holds the
sockets until DONE_FILE exists (at most 60 s) and closes every one.
"""
import os
import resource
import socket
import sys
import time

host, port, count, mode, ready, done = (sys.argv[1], int(sys.argv[2]),
                                        int(sys.argv[3]), sys.argv[4],
                                        sys.argv[5], sys.argv[6])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = min(hard, count + 64)
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
partial = (b"\x16\x03\x01\x02\x00" if mode == "tls"
           else b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
socks = []
try:
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        s.bind(("127.0.0.1", 0))
        try:
            s.connect((host, port))
            s.sendall(partial)
        except OSError:
            pass  # refused or reset by the server: it stays in the list
        socks.append(s)
    for s in socks:
        s.setblocking(False)

    def survivors():
        n = 0
        for s in socks:
            try:
                n += 0 if s.recv(1) == b"" else 1
            except BlockingIOError:
                n += 1
            except OSError:
                pass
        return n

    # Let the server accept and close what it refuses (a loaded server
    # may take a while to drain its backlog), then count the survivors:
    # until the count holds for 0.5 s, at most 10 s.
    alive = survivors()
    for _ in range(20):
        time.sleep(0.5)
        now = survivors()
        if now == alive:
            break
        alive = now
    with open(ready + ".tmp", "w") as f:
        f.write("%d %d\n" % (len(socks), alive))
    os.rename(ready + ".tmp", ready)
    end = time.monotonic() + 60
    while not os.path.exists(done) and time.monotonic() < end:
        time.sleep(0.05)
finally:
    for s in socks:
        s.close()
