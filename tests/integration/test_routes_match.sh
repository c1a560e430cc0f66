#!/bin/bash
# The route table of api/ (printed by dump_routes) and the operations of
# openapi/redis-ca.yaml must describe the same (method, path) pairs, and
# agree on which are public (no auth, also on the public listener).
# Fails listing what is missing on either side.
#
# usage: test_routes_match.sh PATH-TO-dump_routes
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
spec="$here/../../openapi/redis-ca.yaml"
dump=${1:-}
tmp=""

die() { echo "[test_routes_match] FAIL: $*" >&2; exit 1; }
cleanup() { [ -n "$tmp" ] && rm -rf -- "$tmp"; }
trap cleanup EXIT

[ -x "$dump" ] || die "usage: $0 PATH-TO-dump_routes"
py=""
for t in python3 /usr/bin/python3; do
	if "$t" -c 'import yaml' 2>/dev/null; then
		py=$t
		break
	fi
done
[ -n "$py" ] || die "python3 has no yaml module: apt-get install python3-yaml"

tmp=$(mktemp -d /tmp/rca-routes.XXXXXX) || die "mktemp failed"
"$dump" > "$tmp/code.txt" || die "dump_routes failed"
[ -s "$tmp/code.txt" ] || die "dump_routes printed nothing"

"$py" - "$spec" "$tmp/code.txt" <<'EOF'
import sys
import yaml

spec_path, code_path = sys.argv[1], sys.argv[2]
with open(spec_path, encoding="utf-8") as f:
    spec = yaml.safe_load(f)

methods = ("get", "put", "post", "delete", "patch", "head", "options")
yaml_ops = {}
for path, item in spec["paths"].items():
    servers = [s["url"] for s in item.get("servers", spec.get("servers", []))]
    on_public = any(u.startswith("http://") for u in servers)
    for m in methods:
        op = item.get(m)
        if op is None:
            continue
        no_auth = op.get("security", spec.get("security")) == []
        if no_auth != on_public:
            print(f"openapi: {m.upper()} {path}: security [] is {no_auth} "
                  f"but listed on the public server is {on_public}")
            sys.exit(1)
        yaml_ops[(m.upper(), path)] = no_auth
        # SPEC section 8: every authenticating route may answer 429.
        r429 = op.get("responses", {}).get("429", {})
        if not no_auth and r429.get("$ref") != \
                "#/components/responses/RateLimited":
            print(f"openapi: {m.upper()} {path} authenticates but does "
                  f"not document 429 RateLimited")
            sys.exit(1)

code_ops = {}
with open(code_path, encoding="utf-8") as f:
    for line in f:
        parts = line.split()
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "public"):
            print(f"dump_routes: bad line {line!r}")
            sys.exit(1)
        key = (parts[0], parts[1])
        if key in code_ops:
            print(f"api route table lists {key[0]} {key[1]} twice")
            sys.exit(1)
        code_ops[key] = len(parts) == 3

bad = False
for k in sorted(set(code_ops) - set(yaml_ops)):
    print(f"in the api route table, missing from openapi: {k[0]} {k[1]}")
    bad = True
for k in sorted(set(yaml_ops) - set(code_ops)):
    print(f"in openapi, missing from the api route table: {k[0]} {k[1]}")
    bad = True
for k in sorted(set(yaml_ops) & set(code_ops)):
    if yaml_ops[k] != code_ops[k]:
        print(f"{k[0]} {k[1]}: public in openapi is {yaml_ops[k]}, "
              f"in the route table {code_ops[k]}")
        bad = True
if bad:
    sys.exit(1)
print(f"{len(code_ops)} routes match, public flags agree")
EOF
rc=$?
[ "$rc" = 0 ] || die "route table and openapi/redis-ca.yaml disagree (see above)"
echo "[test_routes_match] PASS" >&2
