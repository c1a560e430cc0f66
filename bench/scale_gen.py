#!/usr/bin/env python3
"""Fill a redis-ca database with N certificate rows for bench/scale.sh.

usage: scale_gen.py DB N VALID-OUT [SEED]

DB is the redis-ca.db of a data folder made by `redis-ca init` (so the
schema and its migrations are the service's own), in which the service
has already issued the template certificates (scale.sh issues them
through POST /v1/certificates/generate: several profiles and key types,
real PEM signed by that CA).  The server must be stopped.

Rows are added until the table holds N.  Each new row borrows the PEM
body of a template of its profile (so PEM sizes and key types are real)
and gets its own serial (random 128-bit, lowercase hex like the CA's),
fingerprint, spki_sha256 (random: no two rows share a key, so no
keyCompromise fan-out), names and times.  The PEM's own serial, names
and dates are the template's: the row, not the PEM, is what the service
lists, counts, revokes and puts in the CRL.  No audit rows are added.

The mix, by row: 10% revoked and unexpired; 30% valid; 60% expired (an
eighth of them revoked before they expired, so not in the CRL).  Issue
times spread over 90 days, ids ascending with time.  Every unexpired row
has at least 48 hours left at generation, so a cached database keeps its
mix for two days.  The rows that were there (init's and the templates,
issued at generation) are renumbered to come last, as the newest.  Profiles: 70% redis-client (TTL 1h to 7d), 30%
redis-node (1d to 30d).

The latest CRL's next_update is set in the past so that `redis-ca serve`
publishes a CRL listing the revoked rows at start-up.  VALID-OUT gets
up to 20000 serials of valid rows (shuffled), one a line, to revoke.
Prints one line of counts.
"""
import os
import random
import sqlite3
import sys
import time

DAY = 86400
HOUR = 3600
HISTORY = 90 * DAY
MIN_LEFT = 2 * DAY
BATCH = 50000
NVALID_OUT = 20000
# RFC 5280 reason codes used: unspecified, affiliationChanged,
# superseded, cessationOfOperation (never keyCompromise: it fans out
# by key and parses the PEM).
REASONS = [0, 0, 3, 4, 4, 4, 5]

COLS = ("serial, profile, common_name, san_dns, san_ip, san_uri, key_type,"
        " not_before, not_after, revoked_at, reason, fingerprint, node,"
        " issued_by, pem, created_at, spki_sha256")


def die(msg):
    sys.stderr.write("scale_gen: %s\n" % msg)
    sys.exit(1)


def templates(db):
    t = {}
    for prof, kt, by, pem in db.execute(
            "SELECT profile, key_type, issued_by, pem FROM certificates"
            " WHERE profile IN ('redis-node', 'redis-client')"):
        t.setdefault(prof, []).append((kt, by, pem))
    for prof in ("redis-node", "redis-client"):
        if not t.get(prof):
            die("no %s template certificates in the database" % prof)
    return t


def plan(rng, n, now):
    """(created_at, class, profile, ttl) for n rows, sorted by time."""
    rows = []
    for _ in range(n):
        node = rng.random() < 0.30
        u = rng.random()
        cls = "revoked" if u < 0.10 else "valid" if u < 0.40 else "expired"
        if cls == "expired":
            if node:
                ttl = rng.choice([DAY, 3 * DAY, 3 * DAY, 7 * DAY, 30 * DAY])
            else:
                ttl = rng.choice([HOUR, DAY, DAY, DAY, 7 * DAY])
            hi = now - ttl - HOUR
            created = rng.randint(now - HISTORY, hi)
        else:
            if node:
                ttl = rng.randint(3 * DAY, 30 * DAY)
            else:
                ttl = rng.randint(3 * DAY, 7 * DAY)
            lo = now + MIN_LEFT - ttl + 60
            created = rng.randint(max(lo, now - HISTORY), now - 60)
        rows.append((created, cls, node, ttl))
    rows.sort()
    return rows


def serial(rng, seen):
    while True:
        s = "%x" % rng.randrange(1 << 124, 1 << 127)
        if s not in seen:
            seen.add(s)
            return s


def main():
    if len(sys.argv) not in (4, 5):
        die("usage: scale_gen.py DB N VALID-OUT [SEED]")
    path, n, valid_out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seed = int(sys.argv[4]) if len(sys.argv) == 5 else 10
    if not os.path.isfile(path):
        die("%s: no such database" % path)
    rng = random.Random(seed)
    now = int(time.time())
    db = sqlite3.connect(path, isolation_level=None)
    ver = db.execute("PRAGMA user_version").fetchone()[0]
    if ver < 2:
        die("schema version %d: run redis-ca init with this build" % ver)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1048576")
    tpl = templates(db)
    have = db.execute("SELECT count(*) FROM certificates").fetchone()[0]
    seen = set(r[0] for r in db.execute("SELECT serial FROM certificates"))
    todo = max(0, n - have)
    counts = {"valid": 0, "revoked": 0, "expired": 0, "expired_revoked": 0}
    valid = []
    sql = "INSERT INTO certificates (id, %s) VALUES (%s)" % (
        COLS, ", ".join("?" * 18))
    batch = []
    db.execute("BEGIN")
    # The rows already there (init's, the templates) were issued now:
    # they become the newest, after the generated ones (ids 1..todo).
    top = db.execute("SELECT coalesce(max(id), 0) FROM certificates"
                     ).fetchone()[0]
    db.execute("UPDATE certificates SET id = id + ?", (todo + top,))
    for i, (created, cls, node, ttl) in enumerate(plan(rng, todo, now)):
        prof = "redis-node" if node else "redis-client"
        kt, by, pem = rng.choice(tpl[prof])
        s = serial(rng, seen)
        nb = created - 60
        na = nb + ttl
        rev = reason = None
        if cls == "revoked":
            rev = rng.randint(created, now - 1)
        elif cls == "expired" and rng.random() < 0.125:
            rev = rng.randint(created, na - 1)
            counts["expired_revoked"] += 1
        if rev is not None:
            reason = rng.choice(REASONS)
        if node:
            cn = "redis-%07d.cache.internal" % i
            dns = cn
            ip = "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
        else:
            cn = "app-%07d" % i
            dns = "app-%07d.svc.internal" % i if i % 3 else ""
            ip = ""
        batch.append((i + 1, s, prof, cn, dns, ip, "", kt, nb, na, rev, reason,
                      os.urandom(32).hex(), None, by, pem, created,
                      os.urandom(32).hex()))
        counts[cls] += 1
        if cls == "valid":
            valid.append(s)
        if len(batch) >= BATCH:
            db.executemany(sql, batch)
            batch = []
            db.execute("COMMIT")
            db.execute("BEGIN")
    if batch:
        db.executemany(sql, batch)
    # Due now: serve publishes a CRL of the new revoked rows at start.
    db.execute("UPDATE crls SET next_update = ? WHERE number ="
               " (SELECT max(number) FROM crls)", (now - 1,))
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode=WAL")
    total = db.execute("SELECT count(*) FROM certificates").fetchone()[0]
    db.close()
    rng.shuffle(valid)
    with open(valid_out, "w") as f:
        for s in valid[:NVALID_OUT]:
            f.write(s + "\n")
    print("rows=%d added=%d valid=%d revoked_unexpired=%d expired=%d"
          " (revoked before expiry %d) templates=%d generated_at=%d" % (
              total, todo, counts["valid"], counts["revoked"],
              counts["expired"], counts["expired_revoked"],
              sum(len(v) for v in tpl.values()), now))


if __name__ == "__main__":
    main()
