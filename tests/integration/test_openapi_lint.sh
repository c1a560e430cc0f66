#!/bin/bash
# Lint openapi/redis-ca.yaml with @redocly/cli (pinned), using the
# "recommended" ruleset plus the stricter rules of openapi/redocly.yaml.
#
# redocly is installed from npm into a cache folder on first use:
#   ${RCA_NPM_CACHE:-$HOME/.cache/redis-ca-npm}
# A control copy with a dangling $ref must fail, so a linter that
# silently checks nothing cannot pass this test.
set -u
set -o pipefail

REDOCLY_VERSION=2.77.0
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
spec="$root/openapi/redis-ca.yaml"
config="$root/openapi/redocly.yaml"
cache=${RCA_NPM_CACHE:-$HOME/.cache/redis-ca-npm}
redocly="$cache/node_modules/.bin/redocly"
tmp=""

die() { echo "[test_openapi_lint] FAIL: $*" >&2; exit 1; }
cleanup() { [ -n "$tmp" ] && rm -rf -- "$tmp"; }
trap cleanup EXIT

[ -f "$spec" ] || die "$spec is missing"
[ -f "$config" ] || die "$config is missing"

have=""
if [ -x "$redocly" ]; then
	have=$(NO_UPDATE_NOTIFIER=1 "$redocly" --version 2>/dev/null | tail -n 1)
fi
if [ "$have" != "$REDOCLY_VERSION" ]; then
	if ! command -v npm >/dev/null; then
		echo "[test_openapi_lint] SKIP: npm is not installed" >&2
		exit 77
	fi
	echo "[test_openapi_lint] installing @redocly/cli@$REDOCLY_VERSION into $cache" >&2
	mkdir -p "$cache" || die "cannot create $cache"
	timeout 300 npm install --prefix "$cache" --no-audit --no-fund \
	    --loglevel=error "@redocly/cli@$REDOCLY_VERSION" >&2 ||
	    die "npm install @redocly/cli@$REDOCLY_VERSION failed"
	have=$(NO_UPDATE_NOTIFIER=1 "$redocly" --version 2>/dev/null | tail -n 1)
	[ "$have" = "$REDOCLY_VERSION" ] ||
	    die "redocly reports version '$have', want $REDOCLY_VERSION"
fi

lint()
{
	NO_UPDATE_NOTIFIER=1 REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	    timeout 120 "$redocly" lint --format=stylish --config "$1" "$2" 2>&1
}

out=$(lint "$config" "$spec") ||
    die "redocly lint found problems:
$out"
echo "$out" | grep -v '[║╔╚]' >&2
echo "[test_openapi_lint] ok: $spec lints clean" >&2

# Control: the same files with one dangling reference must fail.
tmp=$(mktemp -d /tmp/rca-lint.XXXXXX) || die "mktemp failed"
cp "$root/openapi/redocly.yaml" "$root/openapi/.redocly.lint-ignore.yaml" \
    "$tmp/" || die "cannot copy the lint configuration"
sed 's|\$ref: '"'"'#/components/schemas/CaList'"'"'|$ref: '"'"'#/components/schemas/NoSuchSchema'"'"'|' \
    "$spec" > "$tmp/redis-ca.yaml"
cmp -s "$spec" "$tmp/redis-ca.yaml" && die "control: the sed edit did not apply"
if lint "$tmp/redocly.yaml" "$tmp/redis-ca.yaml" > "$tmp/out"; then
	die "control: redocly accepted a dangling \$ref"
fi
grep -q 'no-unresolved-refs' "$tmp/out" ||
    die "control: redocly failed for another reason: $(cat "$tmp/out")"
echo "[test_openapi_lint] ok: control with a dangling \$ref fails" >&2
echo "[test_openapi_lint] PASS" >&2
