# A throwaway PostgreSQL 15 for the integration tests (sourced, not run),
# the shell twin of tests/support/pg.c: the same template cluster (made
# once by initdb under the same lock), a copy per server started on
# 127.0.0.1 and a free port (never 5432, never the system cluster), a
# database "rca" owned by role "rca" (trust on loopback: no password),
# streaming standbys made by pg_basebackup -R, promotion, stop by PID.
#
# Usage, after lib.sh's rca_setup (or alone: then its own EXIT trap
# cleans up):
#   . "$(dirname "$0")/lib_pg.sh"
#   pg_available || exit 77          # skipped without PostgreSQL
#   pg_start a                       # sets PG_URI[a], PG_PORT[a], ...
#   pg_standby b a                   # b streams from a
#   pg_sql a "SELECT 1"              # as the superuser, -At output
#   pg_catch_up b a                  # b has replayed all a wrote
#   pg_kill a; pg_promote b          # failover
#   pg_multi_uri b a                 # postgresql://rca@h:p,h:p/rca?...
#   pg_config_database "${PG_URI[a]}" # config.json's "database" (lib.sh)
#
# As root the servers run as the "postgres" user (setpriv) and their
# folders are chowned to it.  Binaries: RCA_TEST_PG_BINDIR, else
# /usr/lib/postgresql/15/bin.  Every wait is bounded.

PG_BINDIR=${RCA_TEST_PG_BINDIR:-/usr/lib/postgresql/15/bin}
PG_SUPERUSER=rca_super
PG_TEMPLATE=${RCA_TEST_PG_TEMPLATE:-/tmp/redis-ca-pgtemplate-$(id -u)}

declare -A PG_PORT=() PG_PID=() PG_DIR=() PG_URI=() PG_ADMIN_URI=()
PG_OWN_TMP=""		# our folder when lib.sh's RCA_TMP is not there

pg_log() { printf '[%s] pg: %s\n' "$(basename "$0" .sh)" "$*" >&2; }

pg_die()
{
	if declare -F die >/dev/null; then
		die "$@"
	fi
	pg_log "FAIL: $*"
	exit 1
}

# Are the binaries there (and, as root, the postgres user)?
pg_available()
{
	local p
	for p in initdb postgres pg_basebackup pg_isready psql; do
		[ -x "$PG_BINDIR/$p" ] || return 1
	done
	[ "$(id -u)" != 0 ] || id postgres >/dev/null 2>&1
}

# pg_exec_owner CMD...: exec CMD as PostgreSQL's user (in a subshell
# started with &, $! is then CMD itself).
pg_exec_owner()
{
	if [ "$(id -u)" = 0 ]; then
		exec setpriv --reuid=postgres --regid=postgres --clear-groups \
		    -- env -u PGDATA -u PGHOST -u PGPORT "$@"
	fi
	exec env -u PGDATA -u PGHOST -u PGPORT "$@"
}

pg_run_owner() { ( pg_exec_owner "$@" ); }

# Is pid running (a zombie not yet reaped is not)?
pg_alive()
{
	local st
	st=$(cut -d')' -f2 "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:1:1}" != Z ]
}

pg_chown()
{
	[ "$(id -u)" != 0 ] || chown postgres:postgres "$@"
}

pg_free_port()
{
	local p
	while :; do
		p=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || return 1
		[ "$p" = 5432 ] || break
	done
	echo "$p"
}

# The template cluster, made by initdb the first time (flock).
pg_template()
{
	(
		flock -w 300 9 || exit 1
		[ -f "$PG_TEMPLATE/ready" ] && exit 0
		rm -rf -- "$PG_TEMPLATE"
		mkdir -m 700 "$PG_TEMPLATE" && pg_chown "$PG_TEMPLATE" &&
		    pg_run_owner "$PG_BINDIR/initdb" -D "$PG_TEMPLATE/data" \
		    -U "$PG_SUPERUSER" --auth=trust -E UTF8 --locale=C \
		    --no-sync > "$PG_TEMPLATE/initdb.log" 2>&1 &&
		    : > "$PG_TEMPLATE/ready"
	) 9> "$PG_TEMPLATE.lock" ||
	    pg_die "initdb failed: $(cat "$PG_TEMPLATE/initdb.log" 2>/dev/null)"
}

pg_cleanup()
{
	local n
	for n in "${!PG_PID[@]}"; do
		pg_stop "$n"
	done
	if [ -n "$PG_OWN_TMP" ] && [ "${RCA_KEEP_TMP:-0}" != 1 ]; then
		rm -rf -- "$PG_OWN_TMP"
	fi
}

# A folder for server NAME, reachable by PostgreSQL's user.
pg_newdir()
{
	local base
	if [ -n "${RCA_TMP:-}" ] && [ -d "$RCA_TMP" ]; then
		# lib.sh's folder is removed by its trap; PostgreSQL's
		# user needs to pass through it (search only, no listing).
		chmod 711 "$RCA_TMP"
		base=$RCA_TMP
	else
		if [ -z "$PG_OWN_TMP" ]; then
			PG_OWN_TMP=$(mktemp -d /tmp/rca-pg.XXXXXX) ||
			    pg_die "mktemp failed"
			chmod 711 "$PG_OWN_TMP"
			trap 'rc=$?; pg_cleanup; exit $rc' EXIT
			trap 'exit 1' INT TERM
		fi
		base=$PG_OWN_TMP
	fi
	PG_DIR[$1]=$base/pg-$1
	mkdir -m 700 "${PG_DIR[$1]}" "${PG_DIR[$1]}/sock" &&
	    pg_chown "${PG_DIR[$1]}" "${PG_DIR[$1]}/sock" ||
	    pg_die "cannot make ${PG_DIR[$1]}"
}

# pg_server NAME [keep-port]: start postgres on NAME's data, wait ready.
pg_server()
{
	local n=$1 i tries=5 port
	while [ "$tries" -gt 0 ]; do
		tries=$((tries - 1))
		if [ -z "${2:-}" ] || [ -z "${PG_PORT[$n]:-}" ]; then
			PG_PORT[$n]=$(pg_free_port) || pg_die "no free port"
		fi
		port=${PG_PORT[$n]}
		pg_exec_owner "$PG_BINDIR/postgres" -D "${PG_DIR[$n]}/data" \
		    -p "$port" -k "${PG_DIR[$n]}/sock" \
		    -c listen_addresses=127.0.0.1 -c fsync=off \
		    -c full_page_writes=off -c shared_buffers=16MB \
		    -c hot_standby=on -c wal_keep_size=256MB \
		    >> "${PG_DIR[$n]}/postgres.log" 2>&1 &
		PG_PID[$n]=$!
		if declare -F rca_track >/dev/null; then
			rca_track "${PG_PID[$n]}"
		fi
		PG_URI[$n]="postgresql://rca@127.0.0.1:$port/rca"
		PG_ADMIN_URI[$n]="postgresql://$PG_SUPERUSER@127.0.0.1:$port/postgres"
		for i in $(seq 1 600); do
			pg_alive "${PG_PID[$n]}" || break
			if "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" \
			    -t 2; then
				return 0
			fi
			sleep 0.1
		done
		pg_stop "$n"
		[ -z "${2:-}" ] || break
	done
	tail -n 30 "${PG_DIR[$n]}/postgres.log" >&2
	pg_die "postgres $n did not start"
}

# pg_start NAME: a new primary with database and role "rca".
pg_start()
{
	local n=$1
	pg_template
	pg_newdir "$n"
	pg_run_owner cp -a "$PG_TEMPLATE/data" "${PG_DIR[$n]}/data" ||
	    pg_die "cannot copy the template"
	pg_server "$n"
	pg_sql "$n" "CREATE ROLE rca LOGIN" >/dev/null &&
	    pg_sql "$n" "CREATE DATABASE rca OWNER rca" >/dev/null ||
	    pg_die "cannot create the test database"
}

# pg_standby NAME PRIMARY: a hot standby streaming from PRIMARY.
pg_standby()
{
	local n=$1 p=$2
	pg_newdir "$n"
	pg_run_owner "$PG_BINDIR/pg_basebackup" -h 127.0.0.1 \
	    -p "${PG_PORT[$p]}" -U "$PG_SUPERUSER" -D "${PG_DIR[$n]}/data" \
	    -R -X stream -c fast --no-sync \
	    > "${PG_DIR[$n]}/basebackup.log" 2>&1 ||
	    pg_die "pg_basebackup failed: $(cat "${PG_DIR[$n]}/basebackup.log")"
	pg_server "$n"
}

# pg_sql NAME SQL [DB]: one command as the superuser; -At output.
pg_sql()
{
	"$PG_BINDIR/psql" -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 \
	    -p "${PG_PORT[$1]}" -U "$PG_SUPERUSER" -d "${3:-postgres}" \
	    -c "$2"
}

# pg_catch_up STANDBY PRIMARY: wait (up to 60 s) until STANDBY has
# replayed everything PRIMARY wrote so far (replication is async).
pg_catch_up()
{
	local lsn i
	lsn=$(pg_sql "$2" "SELECT pg_current_wal_lsn()") ||
	    pg_die "no WAL position on $2"
	for i in $(seq 1 600); do
		[ "$(pg_sql "$1" "SELECT coalesce(pg_last_wal_replay_lsn() >= \
		    '$lsn'::pg_lsn, false)")" = t ] && return 0
		sleep 0.1
	done
	pg_die "$1 did not replay up to $lsn"
}

# pg_promote NAME: end recovery; fails unless NAME then takes writes.
pg_promote()
{
	[ "$(pg_sql "$1" "SELECT pg_promote(true, 60)")" = t ] &&
	    [ "$(pg_sql "$1" "SELECT pg_is_in_recovery()")" = f ] ||
	    pg_die "promotion of $1 failed"
}

# pg_stop NAME [SIGNAL]: SIGINT (fast shutdown) by default, waited for
# up to 30 s, then SIGKILL.  pg_kill NAME: a crash, at once.
pg_stop()
{
	local n=$1 sig=${2:-INT} pid=${PG_PID[$1]:-} i
	[ -n "$pid" ] || return 0
	# bash's "Killed" notice of the job is not an error here.
	{
		kill "-$sig" "$pid"
		for i in $(seq 1 300); do
			pg_alive "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid"
		wait "$pid"
	} 2>/dev/null
	unset "PG_PID[$n]"
	return 0
}

pg_kill() { pg_stop "$1" KILL; }

# pg_restart NAME: start a stopped server again, same port and data.
pg_restart() { pg_server "$1" keep-port; }

# pg_multi_uri NAME... : one URI over several servers, read-write first.
pg_multi_uri()
{
	local n hosts=""
	for n in "$@"; do
		hosts="$hosts${hosts:+,}127.0.0.1:${PG_PORT[$n]}"
	done
	echo "postgresql://rca@$hosts/rca?target_session_attrs=read-write"
}

# pg_config_database URI: point lib.sh's config.json (rca_init's DATA)
# at URI, e.g. "${PG_URI[a]}" or "$(pg_multi_uri a b)".
pg_config_database()
{
	declare -F rca_config_edit >/dev/null ||
	    pg_die "pg_config_database needs lib.sh (rca_config_edit)"
	rca_config_edit --arg db "$1" '.database = $db'
}
