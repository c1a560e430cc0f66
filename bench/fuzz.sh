#!/bin/bash
# Fuzz one parser of untrusted bytes with libFuzzer for a while: build
# its harness with clang (-fsanitize=fuzzer,address,undefined), run it
# on a copy of its seed corpus, and print the exec count, exec/s and the
# number of crashes (exit 1 when there is one; its input is kept).
#
# usage: bench/fuzz.sh [-s] [-w WORK-DIR] TARGET SECONDS
#        bench/fuzz.sh list
#   -s  (--save) merge the inputs that add coverage into the seed
#       corpus in the repository (tests/fuzz/corpus/TARGET)
#   -w  scratch folder (default ${TMPDIR:-/tmp}/redis-ca-fuzz): the clang
#       build in build/, per target the work corpus (corpus/), crash
#       inputs (crashes/) and libFuzzer's log (fuzz.log)
#   list  the targets, their sources and whether the source exists
#
# The build is a meson build dir of its own, set up once with CC=clang,
# -Dfuzzing=true (harnesses link libFuzzer's main instead of replay.c),
# ASan+UBSan (UBSan findings abort), -fsanitize=fuzzer-no-link on every
# library for coverage, and -Dwerror=false (the project's -Werror is for
# gcc).  Debian: apt-get install clang libclang-rt-14-dev.
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
WORK=${TMPDIR:-/tmp}/redis-ca-fuzz
SAVE=0

# target, harness source (the meson executable is named like it, in its
# folder), seed corpus; a libFuzzer dictionary tests/fuzz/dict/TARGET.dict
# is used when it exists.
TARGETS='
api_decode  tests/fuzz/fuzz_api_decode.c  tests/fuzz/corpus/api_decode
config      tests/fuzz/fuzz_config.c      tests/fuzz/corpus/config
resp        tests/fuzz/fuzz_resp.c        tests/fuzz/corpus/resp
pem         tests/fuzz/fuzz_pem.c         tests/fuzz/corpus/pem
enroll      tests/fuzz/fuzz_enroll.c      tests/fuzz/corpus/enroll
csr         tests/fuzz/fuzz_csr.c         tests/fuzz/corpus/csr
'

usage() {
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

args=()
while [ $# -gt 0 ]; do
	case $1 in
	-s | --save) SAVE=1 ;;
	-w) [ $# -ge 2 ] || usage; WORK=$2; shift ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) args+=("$1") ;;
	esac
	shift
done

if [ "${#args[@]}" = 1 ] && [ "${args[0]}" = list ]; then
	printf '%-12s %-32s %s\n' TARGET SOURCE STATUS
	echo "$TARGETS" | while read -r t src corpus; do
		[ -n "$t" ] || continue
		if [ -f "$root/$src" ]; then st=ready; else st=missing; fi
		printf '%-12s %-32s %s\n' "$t" "$src" "$st"
	done
	exit 0
fi
[ "${#args[@]}" = 2 ] || usage
TARGET=${args[0]}
DURATION=${args[1]}
case $DURATION in
'' | *[!0-9]*) echo "fuzz: SECONDS wants whole seconds" >&2; exit 2 ;;
esac

row=$(echo "$TARGETS" | awk -v t="$TARGET" '$1 == t')
if [ -z "$row" ]; then
	echo "fuzz: unknown target '$TARGET' (bench/fuzz.sh list)" >&2
	exit 2
fi
read -r _ src corpus <<<"$row"
if [ ! -f "$root/$src" ]; then
	echo "fuzz: skipping $TARGET: its harness $src is not in this tree"
	exit 0
fi
command -v clang >/dev/null || {
	echo "fuzz: clang is not installed (apt-get install clang" \
	    "libclang-rt-14-dev)" >&2
	exit 1
}

build="$WORK/build"
# The scratch folder is shared by default: a build of another checkout is
# replaced, not used.
if [ -f "$build/build.ninja" ] &&
    [ "$(cat "$build/.rca-source" 2>/dev/null)" != "$root" ]; then
	echo "fuzz: $build was set up for another source tree; redoing it" >&2
	rm -rf "$build"
fi
if [ ! -f "$build/build.ninja" ]; then
	echo "fuzz: setting up the clang build in $build" >&2
	mkdir -p "$WORK"
	CC=clang meson setup "$build" "$root" -Dtests=true -Dfuzzing=true \
	    -Dbuildtype=debugoptimized -Dwerror=false \
	    -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer' \
	    >"$WORK/setup.log" 2>&1 || {
		tail -n 20 "$WORK/setup.log" >&2
		echo "fuzz: meson setup failed (log: $WORK/setup.log)" >&2
		exit 1
	}
	echo "$root" >"$build/.rca-source"
fi
exe=${src%.c}
if ! ninja -C "$build" "$exe" >"$WORK/build.log" 2>&1; then
	tail -n 20 "$WORK/build.log" >&2
	if grep -q "unknown target" "$WORK/build.log"; then
		echo "fuzz: no meson target $exe: add $src to" \
		    "$(dirname "$src")/meson.build, named like its source" >&2
	fi
	echo "fuzz: build failed (log: $WORK/build.log)" >&2
	exit 1
fi

# A fresh copy of the seeds each run; libFuzzer adds to the first dir.
dir="$WORK/$TARGET"
rm -rf "$dir/corpus"
mkdir -p "$dir/corpus" "$dir/crashes"
if [ -d "$root/$corpus" ]; then
	cp -R "$root/$corpus/." "$dir/corpus/"
else
	echo "fuzz: no seed corpus $corpus; starting from nothing" >&2
fi
seeds=$(find "$dir/corpus" -type f | wc -l)
dict=()
if [ -f "$root/tests/fuzz/dict/$TARGET.dict" ]; then
	dict=(-dict="$root/tests/fuzz/dict/$TARGET.dict")
fi
before=$(find "$dir/crashes" -type f | wc -l)

echo "fuzz: $TARGET for ${DURATION}s from $seeds seeds (log: $dir/fuzz.log)"
start=$(date +%s)
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
"$build/$exe" -max_total_time="$DURATION" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$dir/crashes/" \
    ${dict[@]+"${dict[@]}"} "$dir/corpus" >"$dir/fuzz.log" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -gt 0 ] || elapsed=1

stat() { sed -n "s/^stat::$1: *//p" "$dir/fuzz.log" | tail -n 1; }
execs=$(stat number_of_executed_units)
rate=$(stat average_exec_per_sec)
if [ -z "$execs" ]; then
	# No final stats (killed): the last status line says "#N".
	execs=$(grep -o '^#[0-9]*' "$dir/fuzz.log" | tail -n 1 | tr -d '#')
	execs=${execs:-0}
fi
[ -n "$rate" ] || rate=$(( execs / elapsed ))
after=$(find "$dir/crashes" -type f | wc -l)
crashes=$(( after - before ))
if [ "$rc" != 0 ] && [ "$crashes" = 0 ]; then
	crashes=1	# a crash libFuzzer could not save an input for
fi
units=$(find "$dir/corpus" -type f | wc -l)

echo "target:   $TARGET"
echo "seconds:  $elapsed"
echo "execs:    $execs"
echo "exec/s:   $rate"
echo "corpus:   $seeds seeds -> $units inputs"
echo "crashes:  $crashes"

if [ "$crashes" != 0 ]; then
	grep -E 'ERROR: |runtime error|invariant failed|SUMMARY' \
	    "$dir/fuzz.log" | head -n 10
	echo "fuzz: crash inputs in $dir/crashes/; replay one with" \
	    "$build/$exe FILE"
	exit 1
fi
if [ "$SAVE" = 1 ]; then
	mkdir -p "$root/$corpus"
	n0=$(find "$root/$corpus" -type f | wc -l)
	"$build/$exe" -merge=1 "$root/$corpus" "$dir/corpus" \
	    >"$dir/merge.log" 2>&1 || {
		echo "fuzz: merge failed (log: $dir/merge.log)" >&2
		exit 1
	}
	n1=$(find "$root/$corpus" -type f | wc -l)
	echo "saved:    $(( n1 - n0 )) inputs into $corpus"
fi
exit 0
