#!/bin/bash
# README command 1: build redis-ca and run it, on a fresh Debian 12 as root.
#
#   bash deploy/start.sh
#
# Installs the build dependencies that are missing (apt-get), builds into
# build/ (meson + ninja, tests off), creates the CA in ./data on the first
# run (`redis-ca init --data ./data`; skipped when data/ca.crt exists),
# prints where the admin token is and a curl command that works as
# printed, then runs `redis-ca serve --config data/config.json` in the
# foreground (Ctrl-C or SIGTERM stops it cleanly).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

build_deps=(build-essential meson ninja-build pkg-config
	libssl-dev libjansson-dev libsqlite3-dev libmicrohttpd-dev
	libgnutls28-dev libhiredis-dev libcurl4-openssl-dev libpq-dev libpq5
	openssl ca-certificates curl)

. deploy/packages.sh
install_missing start.sh "${build_deps[@]}"

echo "==> building into build/"
if [ -f build/meson-private/coredata.dat ]; then
	meson configure build -Dtests=false >/dev/null
else
	meson setup build -Dtests=false
fi
ninja -C build server/redis-ca
rca="$root/build/server/redis-ca"

if [ ! -e data/ca.crt ]; then
	echo "==> creating the CA in $root/data"
	"$rca" init --data ./data
else
	echo "==> using the existing CA in $root/data"
fi

# Where the API listens (config.json may have been edited since init).
api=$(sed -n 's/.*"api": *"\([^"]*\)".*/\1/p' data/config.json | head -n 1)
case "$api" in
"" ) api=127.0.0.1:8443 ;;
0.0.0.0:* | "[::]:"* ) api=127.0.0.1:${api##*:} ;;
esac
cat <<MSG

The admin token is in $root/data/admin.token (mode 0400).
Try, from $root:

  curl --cacert data/ca.crt -H "Authorization: Bearer \$(cat data/admin.token)" https://$api/v1/certificates

==> redis-ca serve --config data/config.json  (Ctrl-C stops it)
MSG
exec "$rca" serve --config data/config.json
