# Sourced by deploy/start.sh and deploy/test.sh: install the Debian
# packages a script needs and does not have yet.
#
#   install_missing WHO PACKAGE...
#
# Installs the missing ones with apt-get (root only; WHO names the
# script in messages), with the packages' own services kept from
# starting (Debian's policy-rc.d protocol; 101 = "action forbidden"):
# the tests start their own redis-server on their own ports, and should
# a system one have been started anyway, it is stopped and disabled.
# A node.js/npm from elsewhere (NodeSource bundles npm and conflicts
# with Debian's npm) is as good as Debian's.  Returns 1 on failure.

install_missing() {
	local who=$1 p rc policy=/usr/sbin/policy-rc.d made_policy=0
	local missing=()
	shift
	for p in "$@"; do
		case "$p" in
		nodejs) command -v node >/dev/null && continue ;;
		npm) command -v npm >/dev/null && continue ;;
		esac
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "$who: missing packages (${missing[*]}); run as root" >&2
		return 1
	fi
	echo "==> apt-get install ${missing[*]}"
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		made_policy=1
	fi
	# Written for callers with and without set -e.
	if apt-get update &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends "${missing[@]}"; then
		rc=0
	else
		rc=1
	fi
	if [ "$made_policy" = 1 ]; then
		rm -f "$policy"
	fi
	if [ "$rc" != 0 ]; then
		echo "$who: apt-get failed" >&2
		return 1
	fi
	for p in "${missing[@]}"; do
		[ "$p" = redis-server ] || continue
		if [ -d /run/systemd/system ]; then
			systemctl disable --now redis-server >/dev/null 2>&1 ||
			    true
		elif [ -x /etc/init.d/redis-server ]; then
			/etc/init.d/redis-server stop >/dev/null 2>&1 || true
		fi
	done
	return 0
}
