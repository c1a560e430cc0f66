#!/usr/bin/env python3
"""Bad-token flood for test_abuse.sh (SPEC section 8, finding 7).

usage: abuse_flood.py HOST PORT CAFILE ADMIN_TOKEN SECONDS CLIENTS

CLIENTS keep-alive HTTPS clients bound to 127.0.0.1 send POST
/v1/certificates with a bogus bearer token for SECONDS seconds, while one
client bound to 127.0.0.2 calls GET /v1/audit?limit=1 with the admin
token every 0.25 s.  Prints one JSON object: status counts of the flood,
whether every 429 carried a sane Retry-After and the rate_limited code,
and the other address's statuses and worst latency.  Bounded: every
socket has a 5 s timeout and the run stops after SECONDS.
"""
import http.client
import json
import ssl
import sys
import threading
import time

host, port, cafile, admin = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
seconds, clients = float(sys.argv[5]), int(sys.argv[6])
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
deadline = time.monotonic() + seconds
lock = threading.Lock()
flood = {}
bad_429 = []
other = {"statuses": {}, "max_ms": 0.0, "errors": 0}


def conn(src):
    return http.client.HTTPSConnection(host, port, timeout=5, context=ctx,
                                       source_address=(src, 0))


def attacker(i):
    c = conn("127.0.0.1")
    tok = "rca_" + ("%064x" % (0xbad0000 + i))
    while time.monotonic() < deadline:
        try:
            c.request("POST", "/v1/certificates", body=b"",
                      headers={"Authorization": "Bearer " + tok})
            r = c.getresponse()
            body = r.read()
            st = r.status
            if st == 429:
                ra = r.getheader("Retry-After")
                code = json.loads(body)["error"]["code"]
                if ra is None or not ra.isdigit() or not 1 <= int(ra) <= 60 \
                        or code != "rate_limited":
                    with lock:
                        bad_429.append([ra, code])
            if r.getheader("Connection", "").lower() == "close":
                c.close()
                c = conn("127.0.0.1")
        except Exception as e:  # a reset connection: count and reconnect
            st = type(e).__name__
            c.close()
            c = conn("127.0.0.1")
        with lock:
            flood[str(st)] = flood.get(str(st), 0) + 1
    c.close()


def legit():
    c = conn("127.0.0.2")
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        try:
            c.request("GET", "/v1/audit?limit=1",
                      headers={"Authorization": "Bearer " + admin})
            r = c.getresponse()
            r.read()
            st = str(r.status)
        except Exception as e:
            st = type(e).__name__
            other["errors"] += 1
            c.close()
            c = conn("127.0.0.2")
        ms = (time.monotonic() - t0) * 1000
        other["statuses"][st] = other["statuses"].get(st, 0) + 1
        other["max_ms"] = max(other["max_ms"], ms)
        time.sleep(0.25)
    c.close()


threads = [threading.Thread(target=attacker, args=(i,)) for i in range(clients)]
threads.append(threading.Thread(target=legit))
for t in threads:
    t.start()
for t in threads:
    t.join(seconds + 30)
print(json.dumps({"flood": flood, "bad_429": bad_429[:5],
                  "bad_429_count": len(bad_429), "other": other}))
