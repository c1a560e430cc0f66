#!/usr/bin/env python3
"""Load clients for the CA rollover tests (SPEC section 10, "the bar").

Three threads, standard library only (ssl + socket, RESP by hand):

  A "hold":  one TLS connection to the primary, opened once with the
             --hold-* files, an INCR every --interval seconds; every
             reply is checked (an integer one above the last).
  B "fresh": a NEW TLS connection for every command, its certificate,
             key and trust anchors read afresh from --fresh-dir each
             time (the `enroll --daemon` output: chain.pem or cert.pem,
             key.pem, ca.pem); alternately SET on the primary (+OK) and
             ECHO on the replica (the same bytes back).  The server's
             chain is verified against ca.pem with the host name
             checked (127.0.0.1 in the node certificates' SANs).
  L "link":  one TLS connection to the replica (the --hold-* files),
             INFO replication every --sample seconds; records
             master_link_status and the longest stretch it was not up.

Any error while sending a command or reading its reply (TLS handshake
refused, connection reset, timeout, wrong reply) is a failed command.
The only retry is the file read of B: the daemon renames key.pem before
cert.pem/chain.pem, so a reader can see a new key with the old
certificate for a moment; such a torn read (the key does not match the
certificate: ssl refuses it before anything is sent) is read again
after 20 ms and counted as "torn_reads", never as a command.

The counters go to --status (JSON, rewritten atomically twice a second
and at exit); every failure is a line in --log.  SIGTERM or SIGINT
stops the clients, writes the final status and exits 0: the test reads
the numbers and decides.
"""

import argparse
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time

STOP = threading.Event()
LOCK = threading.Lock()
T0 = time.monotonic()


def now():
    return round(time.monotonic() - T0, 3)


class Stats:
    def __init__(self, log):
        self.log = log
        self.s = {
            "a": {"ok": 0, "fail": 0, "connects": 0},
            "b": {"ok": 0, "fail": 0, "torn_reads": 0, "primary_ok": 0,
                  "replica_ok": 0, "served_certs": 0},
            "link": {"samples": 0, "up": 0, "down": 0, "errors": 0,
                     "longest_down_s": 0.0, "down_stretches": 0,
                     "last": "", "connects": 0},
            "failures": [],
        }
        self.served = set()
        self.down_since = None

    def inc(self, who, key, n=1):
        with LOCK:
            self.s[who][key] += n

    def fail(self, who, what):
        line = "%.3f %s %s" % (now(), who, what)
        with LOCK:
            self.s[who]["fail" if who != "link" else "errors"] += 1
            if len(self.s["failures"]) < 50:
                self.s["failures"].append(line)
        with open(self.log, "a") as f:
            f.write(line + "\n")

    def served_cert(self, der):
        with LOCK:
            if der not in self.served:
                self.served.add(der)
                self.s["b"]["served_certs"] = len(self.served)

    def link_sample(self, status):
        t = time.monotonic()
        with LOCK:
            L = self.s["link"]
            L["samples"] += 1
            L["last"] = status
            if status == "up":
                L["up"] += 1
                if self.down_since is not None:
                    d = t - self.down_since
                    L["longest_down_s"] = max(L["longest_down_s"],
                                              round(d, 3))
                    self.down_since = None
            else:
                L["down"] += 1
                if self.down_since is None:
                    self.down_since = t
                    L["down_stretches"] += 1

    def snapshot(self):
        with LOCK:
            out = json.loads(json.dumps(self.s))
            if self.down_since is not None:
                d = round(time.monotonic() - self.down_since, 3)
                out["link"]["current_down_s"] = d
                out["link"]["longest_down_s"] = max(
                    out["link"]["longest_down_s"], d)
            else:
                out["link"]["current_down_s"] = 0.0
        out["elapsed_s"] = now()
        return out


def write_status(path, st):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st.snapshot(), f, indent=1)
    os.replace(tmp, path)


# ---- RESP ----

def resp_cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise ConnectionError("connection closed by the server")
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n + 2:]
        return d

    def reply(self):
        ln = self.line()
        t, rest = ln[:1], ln[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError("error reply: " +
                               rest.decode(errors="replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RuntimeError("bad reply line %r" % ln[:60])


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def tls_connect(addr, ctx, timeout):
    raw = socket.create_connection(addr, timeout=timeout)
    try:
        s = ctx.wrap_socket(raw, server_hostname=addr[0])
    except BaseException:
        raw.close()
        raise
    s.settimeout(timeout)
    return s


def ctx_for(cert, key, ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=ca)
    ctx.load_cert_chain(cert, key)
    return ctx


# ---- A: one connection kept open ----

def client_hold(o, st):
    addr = hostport(o.primary)
    ctx = ctx_for(o.hold_cert, o.hold_key, o.hold_ca)
    sock, rd, last = None, None, None
    while not STOP.is_set():
        try:
            if sock is None:
                sock = tls_connect(addr, ctx, o.timeout)
                rd = Reader(sock)
                st.inc("a", "connects")
                last = None
            sock.sendall(resp_cmd("INCR", "rollover:a"))
            r = rd.reply()
            if not isinstance(r, int):
                raise RuntimeError("INCR answered %r" % (r,))
            if last is not None and r != last + 1:
                raise RuntimeError("INCR answered %d after %d" % (r, last))
            last = r
            st.inc("a", "ok")
        except Exception as ex:
            st.fail("a", "INCR: %s: %s" % (type(ex).__name__, ex))
            if sock is not None:
                sock.close()
            sock = None
        STOP.wait(o.interval)
    if sock is not None:
        sock.close()


# ---- B: a new connection and fresh files for every command ----

def fresh_ctx(o, st):
    d = o.fresh_dir
    cert = os.path.join(d, o.fresh_cert)
    key, ca = os.path.join(d, "key.pem"), os.path.join(d, "ca.pem")
    for i in range(50):
        try:
            return ctx_for(cert, key, ca)
        except ssl.SSLError as ex:
            if "KEY_VALUES_MISMATCH" not in str(ex) or i == 49:
                raise
            st.inc("b", "torn_reads")
            time.sleep(0.02)


def client_fresh(o, st):
    addrs = [hostport(o.primary), hostport(o.replica)]
    i = 0
    while not STOP.is_set():
        i += 1
        target = i % 2
        who = "primary" if target == 0 else "replica"
        sock = None
        try:
            ctx = fresh_ctx(o, st)
            sock = tls_connect(addrs[target], ctx, o.timeout)
            st.served_cert(sock.getpeercert(binary_form=True))
            rd = Reader(sock)
            tok = "b-%d-%d" % (os.getpid(), i)
            if target == 0:
                sock.sendall(resp_cmd("SET", "rollover:b:last", tok))
                r = rd.reply()
                if r != "OK":
                    raise RuntimeError("SET answered %r" % (r,))
            else:
                sock.sendall(resp_cmd("ECHO", tok))
                r = rd.reply()
                if r != tok.encode():
                    raise RuntimeError("ECHO answered %r" % (r,))
            st.inc("b", "ok")
            st.inc("b", who + "_ok")
        except Exception as ex:
            st.fail("b", "%s: %s: %s" % (who, type(ex).__name__, ex))
        finally:
            if sock is not None:
                sock.close()
        STOP.wait(o.interval * 2)


# ---- L: the replication link, sampled ----

def link_status(info):
    for ln in info.decode(errors="replace").splitlines():
        if ln.startswith("master_link_status:"):
            return ln.split(":", 1)[1].strip()
    return "missing"


def client_link(o, st):
    addr = hostport(o.replica)
    ctx = ctx_for(o.hold_cert, o.hold_key, o.hold_ca)
    sock, rd = None, None
    while not STOP.is_set():
        try:
            if sock is None:
                sock = tls_connect(addr, ctx, o.timeout)
                rd = Reader(sock)
                st.inc("link", "connects")
            sock.sendall(resp_cmd("INFO", "replication"))
            r = rd.reply()
            if not isinstance(r, bytes):
                raise RuntimeError("INFO answered %r" % (r,))
            st.link_sample(link_status(r))
        except Exception as ex:
            st.fail("link", "INFO: %s: %s" % (type(ex).__name__, ex))
            if sock is not None:
                sock.close()
            sock = None
            if o.fresh_dir:
                try:
                    ctx = fresh_ctx(o, st)
                except Exception as ex2:
                    st.fail("link", "files: %s" % ex2)
        STOP.wait(o.sample)
    if sock is not None:
        sock.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--primary", required=True, help="HOST:PORT")
    p.add_argument("--replica", required=True, help="HOST:PORT")
    p.add_argument("--hold-cert", required=True)
    p.add_argument("--hold-key", required=True)
    p.add_argument("--hold-ca", required=True)
    p.add_argument("--fresh-dir", default="")
    p.add_argument("--fresh-cert", default="chain.pem",
                   help="file of --fresh-dir presented (leaf first)")
    p.add_argument("--status", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--sample", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=5.0)
    o = p.parse_args()

    st = Stats(o.log)
    open(o.log, "a").close()
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    th = [threading.Thread(target=client_hold, args=(o, st), daemon=True),
          threading.Thread(target=client_link, args=(o, st), daemon=True)]
    if o.fresh_dir:
        th.append(threading.Thread(target=client_fresh, args=(o, st),
                                   daemon=True))
    for t in th:
        t.start()
    while not STOP.is_set():
        write_status(o.status, st)
        STOP.wait(0.5)
    for t in th:
        t.join(o.timeout + 5)
    write_status(o.status, st)
    return 0


if __name__ == "__main__":
    sys.exit(main())
