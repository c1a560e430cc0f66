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
  L "link":  one TLS connection to each replica (the --hold-* files),
             INFO replication every --sample seconds; records
             master_link_status and the longest stretch any replica's
             link was not up.  --replica may be given several times
             (B then ECHOes on each replica in turn).

With --cluster HOST:PORT,... (a Redis Cluster; issue 13) instead:
  C "cluster": for one key in a slot of every primary (CLUSTER SLOTS,
             CRC16 by hand), SET then GET every --interval seconds on
             kept connections, and (with --fresh-dir) the same on a NEW
             connection with fresh files; MOVED/ASK are followed and
             counted ("moved"), never failures.
  S "cstate": CLUSTER INFO on every node every --sample seconds;
             records cluster_state and the longest stretch any node
             did not report ok (an unanswered sample counts as not ok).

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
            "cluster": {"ok": 0, "fail": 0, "moved": 0, "asks": 0,
                        "per_node_ok": {}},
            "cstate": {"samples": 0, "ok": 0, "not_ok": 0, "errors": 0,
                       "longest_not_ok_s": 0.0, "not_ok_stretches": 0,
                       "last": ""},
            "failures": [],
        }
        self.served = set()
        self.down_since = {}
        self.not_ok_since = {}

    def inc(self, who, key, n=1):
        with LOCK:
            self.s[who][key] += n

    def fail(self, who, what):
        line = "%.3f %s %s" % (now(), who, what)
        with LOCK:
            self.s[who]["fail" if who not in ("link", "cstate")
                        else "errors"] += 1
            if len(self.s["failures"]) < 50:
                self.s["failures"].append(line)
        with open(self.log, "a") as f:
            f.write(line + "\n")

    def served_cert(self, der):
        with LOCK:
            if der not in self.served:
                self.served.add(der)
                self.s["b"]["served_certs"] = len(self.served)

    def link_sample(self, status, who=""):
        self._stretch("link", self.down_since, who, status, "up",
                      "up", "down", "longest_down_s", "down_stretches")

    def cluster_sample(self, status, who):
        self._stretch("cstate", self.not_ok_since, who, status, "ok",
                      "ok", "not_ok", "longest_not_ok_s",
                      "not_ok_stretches")

    def _stretch(self, key, since, who, status, good, kgood, kbad,
                 klongest, kstretches):
        # One stretch per sampled server (who): the longest is the
        # longest any of them was not good.
        t = time.monotonic()
        with LOCK:
            L = self.s[key]
            L["samples"] += 1
            L["last"] = status
            if status == good:
                L[kgood] += 1
                if since.get(who) is not None:
                    d = t - since[who]
                    L[klongest] = max(L[klongest], round(d, 3))
                    since[who] = None
            else:
                L[kbad] += 1
                if since.get(who) is None:
                    since[who] = t
                    L[kstretches] += 1

    def cluster_ok(self, node):
        with LOCK:
            self.s["cluster"]["ok"] += 1
            per = self.s["cluster"]["per_node_ok"]
            per[node] = per.get(node, 0) + 1

    def snapshot(self):
        with LOCK:
            out = json.loads(json.dumps(self.s))
            t = time.monotonic()
            for key, since, cur, longest in (
                    ("link", self.down_since, "current_down_s",
                     "longest_down_s"),
                    ("cstate", self.not_ok_since, "current_not_ok_s",
                     "longest_not_ok_s")):
                d = max([round(t - v, 3) for v in since.values()
                         if v is not None] or [0.0])
                out[key][cur] = d
                out[key][longest] = max(out[key][longest], d)
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
    addrs = [hostport(o.primary)] + [hostport(r) for r in o.replica]
    i = 0
    while not STOP.is_set():
        i += 1
        # Every other command on the primary, the others on each
        # replica in turn.
        target = 0 if i % 2 == 0 else 1 + (i // 2) % (len(addrs) - 1)
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


def client_link(o, st, replica):
    addr = hostport(replica)
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
            st.link_sample(link_status(r), replica)
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


# ---- C: SET/GET on keys of every slot owner of a Redis Cluster ----

def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xffff
    return crc


def key_slot(key):
    k = key.encode()
    a = k.find(b"{")
    if a >= 0:
        b = k.find(b"}", a + 1)
        if b > a + 1:
            k = k[a + 1:b]
    return crc16(k) % 16384


def cluster_owners(o, ctx):
    """slot ranges -> "host:port" of their primary (CLUSTER SLOTS)."""
    for a in o.cluster:
        try:
            s = tls_connect(hostport(a), ctx, o.timeout)
        except OSError:
            continue
        try:
            s.sendall(resp_cmd("CLUSTER", "SLOTS"))
            r = Reader(s).reply()
        finally:
            s.close()
        out = []
        for ent in r:
            lo, hi, prim = ent[0], ent[1], ent[2]
            out.append((lo, hi, "%s:%d" % (prim[0].decode(), prim[1])))
        return out
    raise RuntimeError("no cluster node answered CLUSTER SLOTS")


def cluster_keys(owners):
    """One key per primary, each in a slot it owns."""
    keys, i = {}, 0
    want = set(a for _, _, a in owners)
    while len(keys) < len(want) and i < 100000:
        k = "fleet:%d" % i
        sl = key_slot(k)
        for lo, hi, a in owners:
            if lo <= sl <= hi and a not in keys:
                keys[a] = k
        i += 1
    return keys


def cluster_cmd(conns, ctx, o, addr, *args):
    """One command to addr (kept connection), following at most 5
    MOVED/ASK redirections; returns (reply, moves)."""
    moves = 0
    asking = False
    for _ in range(6):
        if addr not in conns:
            s = tls_connect(hostport(addr), ctx, o.timeout)
            conns[addr] = (s, Reader(s))
        s, rd = conns[addr]
        try:
            if asking:
                s.sendall(resp_cmd("ASKING"))
                rd.reply()
            s.sendall(resp_cmd(*args))
            return rd.reply(), moves
        except RuntimeError as ex:
            m = str(ex).split()
            if len(m) >= 5 and m[2] in ("MOVED", "ASK"):
                moves += 1
                asking = m[2] == "ASK"
                addr = m[4]
                continue
            raise
        except Exception:
            s.close()
            del conns[addr]
            raise
    raise RuntimeError("too many redirections")


def client_cluster(o, st):
    """SET then GET on one key of every primary, every --interval, on
    kept connections (C-hold); and the same with a NEW connection for
    every command, with files read afresh, when --fresh-dir is given
    (C-fresh).  A MOVED/ASK followed is counted, never a failure."""
    ctx = ctx_for(o.hold_cert, o.hold_key, o.hold_ca)
    owners = cluster_owners(o, ctx)
    keys = cluster_keys(owners)
    conns = {}
    i = 0
    while not STOP.is_set():
        for addr, k in sorted(keys.items()):
            i += 1
            for fresh in ([False, True] if o.fresh_dir else [False]):
                who = "cluster"
                cc = conns
                try:
                    if fresh:
                        cc = {}
                        c2 = fresh_ctx(o, st)
                    else:
                        c2 = ctx
                    v = "v%d" % i
                    r, m1 = cluster_cmd(cc, c2, o, addr, "SET", k, v)
                    if r != "OK":
                        raise RuntimeError("SET answered %r" % (r,))
                    r, m2 = cluster_cmd(cc, c2, o, addr, "GET", k)
                    if r != v.encode():
                        raise RuntimeError("GET answered %r" % (r,))
                    st.inc("cluster", "moved", m1 + m2)
                    st.cluster_ok(addr)
                except Exception as ex:
                    st.fail(who, "%s %s (%s): %s: %s" % (
                        "fresh" if fresh else "hold", addr, k,
                        type(ex).__name__, ex))
                finally:
                    if fresh:
                        for s, _ in cc.values():
                            s.close()
        STOP.wait(o.interval)
    for s, _ in conns.values():
        s.close()


def cluster_state(info):
    for ln in info.decode(errors="replace").splitlines():
        if ln.startswith("cluster_state:"):
            return ln.split(":", 1)[1].strip()
    return "missing"


def client_cstate(o, st, node):
    """CLUSTER INFO on node every --sample seconds: cluster_state."""
    addr = hostport(node)
    ctx = ctx_for(o.hold_cert, o.hold_key, o.hold_ca)
    sock, rd = None, None
    while not STOP.is_set():
        try:
            if sock is None:
                sock = tls_connect(addr, ctx, o.timeout)
                rd = Reader(sock)
            sock.sendall(resp_cmd("CLUSTER", "INFO"))
            r = rd.reply()
            if not isinstance(r, bytes):
                raise RuntimeError("CLUSTER INFO answered %r" % (r,))
            st.cluster_sample(cluster_state(r), node)
        except Exception as ex:
            st.fail("cstate", "%s CLUSTER INFO: %s: %s" % (
                node, type(ex).__name__, ex))
            st.cluster_sample("error", node)
            if sock is not None:
                sock.close()
            sock = None
        STOP.wait(o.sample)
    if sock is not None:
        sock.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--primary", default="", help="HOST:PORT")
    p.add_argument("--replica", action="append", default=[],
                   help="HOST:PORT (repeatable)")
    p.add_argument("--cluster", default="",
                   help="HOST:PORT,... : Redis Cluster mode (C and S "
                   "clients instead of A, B and L)")
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
    o.cluster = [a for a in o.cluster.split(",") if a]
    if not o.cluster and (not o.primary or not o.replica):
        p.error("--primary and --replica, or --cluster, are required")

    st = Stats(o.log)
    open(o.log, "a").close()
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    if o.cluster:
        th = [threading.Thread(target=client_cluster, args=(o, st),
                               daemon=True)]
        th += [threading.Thread(target=client_cstate, args=(o, st, n),
                                daemon=True) for n in o.cluster]
    else:
        th = [threading.Thread(target=client_hold, args=(o, st),
                               daemon=True)]
        th += [threading.Thread(target=client_link, args=(o, st, r),
                                daemon=True) for r in o.replica]
    if o.fresh_dir and not o.cluster:
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
