#!/usr/bin/env bash
# vouch benchmark harness: one command builds the release binary, starts vouch on SQLite (and on
# PostgreSQL when one is reachable) and measures it with wrk, next to a baseline (a minimal axum
# server answering a fixed VerificationSession) so every case is also reported as a ratio of
# that ceiling.
#
#   bench/run.sh                      full run: 10 s per case, 1,000,000-session bulk database
#   bench/run.sh --quick              smoke run: 2 s per case, 100,000-session bulk database
#   bench/run.sh --cases create,retrieve
#
# Options:
#   --quick               2 s per case, bulk size 100k, small-db seed 5k
#   --cases LIST          comma-separated subset of: create,create_idem,retrieve,update,list,
#                         list_cref,cancel (default: all). The bulk phase runs the selected
#                         read cases (retrieve, list, list_cref) on the big database.
#   --duration SECONDS    per case (default 10, --quick 2)
#   --connections N       wrk -c (default 32)
#   --threads N           wrk -t (default 2)
#   --bulk N              sessions in the bulk database (default 1000000, --quick 100000)
#   --seed N              sessions loaded into the small database first (default 20000)
#   --skip-bulk           no bulk phase (no start-up time, no size per session)
#   --reuse-bulk-db       keep bench/results/db/bulk-N.db between runs and reuse it if complete
#   --keep-db             keep the small databases of this run (SQLite file, PostgreSQL database)
#   --no-postgres         no PostgreSQL phase
#   --profile             perf-record vouch during each case (bench/results/<run>/perf-*.txt)
#   --repeat N            run each baseline+vouch pair N times and keep the round where vouch
#                         was fastest (for shared, noisy machines; every round is kept in
#                         rounds.tsv)
#   --no-build            use the binaries already built
#
# Environment: BENCH_PORT (default 18111; uses PORT, PORT+1 and PORT+2).
#   BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres): a server where
#   this role may CREATE DATABASE. The PostgreSQL phase creates vouch_bench_<run>, runs the
#   small-database cases on it and drops it at the end (also on failure or Ctrl-C). When the
#   server is not reachable (or psql is missing) the phase is skipped with a note.
#
# Results: bench/results/<UTC time>/ (raw wrk outputs, logs, results.tsv, summary.md) and
# bench/results/latest -> that directory. The summary is printed at the end. A MISS is a
# measurement, not a failure: the command exits 0 unless the harness itself breaks.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
KEY=sk_test_bench0000000000
ALL_CASES="create create_idem retrieve update list list_cref cancel"
READ_CASES="retrieve list list_cref"

ORIG_ARGS="$*"
QUICK=0
CASES=""
DURATION=""
CONNS=32
THREADS=2
BULK=""
SEED=""
SKIP_BULK=0
REUSE_BULK=0
KEEP_DB=0
PROFILE=0
REPEAT=1
BUILD=1
NO_PG=0

usage() { sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --cases) CASES="${2:?--cases needs a list}"; shift ;;
        --cases=*) CASES="${1#*=}" ;;
        --duration) DURATION="${2:?}"; shift ;;
        --connections) CONNS="${2:?}"; shift ;;
        --threads) THREADS="${2:?}"; shift ;;
        --bulk) BULK="${2:?}"; shift ;;
        --seed) SEED="${2:?}"; shift ;;
        --skip-bulk) SKIP_BULK=1 ;;
        --reuse-bulk-db) REUSE_BULK=1 ;;
        --keep-db) KEEP_DB=1 ;;
        --profile) PROFILE=1 ;;
        --repeat) REPEAT="${2:?}"; shift ;;
        --no-build) BUILD=0 ;;
        --no-postgres) NO_PG=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

if [ "$QUICK" = 1 ]; then
    DURATION=${DURATION:-2}; BULK=${BULK:-100000}; SEED=${SEED:-5000}
else
    DURATION=${DURATION:-10}; BULK=${BULK:-1000000}; SEED=${SEED:-20000}
fi

SELECTED=""
if [ -z "$CASES" ]; then
    SELECTED="$ALL_CASES"
else
    for c in ${CASES//,/ }; do
        case " $ALL_CASES " in
            *" $c "*) SELECTED="$SELECTED $c" ;;
            *) echo "run.sh: unknown case '$c' (known: $ALL_CASES)" >&2; exit 2 ;;
        esac
    done
fi
# Always run in the canonical order (update and cancel need the sessions earlier cases made).
ORDERED=""
for c in $ALL_CASES; do
    case " $SELECTED " in *" $c "*) ORDERED="$ORDERED $c" ;; esac
done
SELECTED="${ORDERED# }"
selected() { case " $SELECTED " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

PORT=${BENCH_PORT:-18111}
PORT_BASE=$((PORT + 1))
PORT_STARTUP=$((PORT + 2))

human() {  # 1000000 -> 1M, 100000 -> 100k
    local n=$1
    if [ $((n % 1000000)) -eq 0 ]; then echo "$((n / 1000000))M"
    elif [ $((n % 1000)) -eq 0 ]; then echo "$((n / 1000))k"
    else echo "$n"; fi
}
BULK_LABEL=$(human "$BULK")

log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# Tools

need_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else echo "run.sh: need root to run: $*" >&2; exit 1; fi
}

ensure_tools() {
    local missing=""
    command -v wrk >/dev/null || missing="$missing wrk"
    command -v curl >/dev/null || missing="$missing curl"
    if [ -n "$missing" ]; then
        log "installing$missing (apt-get)"
        need_root apt-get update -qq
        # shellcheck disable=SC2086
        need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
    if [ "$PROFILE" = 1 ] && ! command -v perf >/dev/null; then
        echo "run.sh: --profile needs perf (apt-get install linux-perf)" >&2; exit 1
    fi
}

VOUCH="$ROOT/target/release/vouch"
BASELINE="$BENCH/baseline/target/release/vouch-bench-baseline"
LOADER="$BENCH/loader/target/release/vouch-bench-loader"

build() {
    log "building (release)"
    (cd "$ROOT" && cargo build --release -p vouch-server)
    cargo build --release --manifest-path "$BENCH/baseline/Cargo.toml"
    cargo build --release --manifest-path "$BENCH/loader/Cargo.toml"
}

# ---------------------------------------------------------------------------------------------
# Processes (every one we start is tracked by pid and stopped on exit)

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    done
    pg_drop_db
}
trap cleanup EXIT
# Ctrl-C and kill end the script through exit, so the EXIT trap (cleanup) runs.
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_healthy() {  # port pid -> 0 when /healthz answers 200
    local port=$1 pid=$2 i
    for i in $(seq 1 3000); do
        if curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; then return 0; fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}

VOUCH_PID=""
VOUCH_LOG=""
start_vouch() {  # db (a SQLite file or a postgres:// URL) logfile
    local db=$1 url
    VOUCH_LOG=$2
    case "$db" in *://*) url=$db ;; *) url="sqlite://$db" ;; esac
    if port_busy "$PORT"; then echo "run.sh: port $PORT is in use (set BENCH_PORT)" >&2; exit 1; fi
    "$VOUCH" serve --listen "127.0.0.1:$PORT" --database-url "$url" --api-key "$KEY" \
        >>"$VOUCH_LOG.stdout" 2>>"$VOUCH_LOG" &
    VOUCH_PID=$!
    PIDS+=("$VOUCH_PID")
    if ! wait_healthy "$PORT" "$VOUCH_PID"; then
        echo "run.sh: vouch did not become healthy; see $VOUCH_LOG" >&2
        tail -20 "$VOUCH_LOG" >&2 || true
        exit 1
    fi
}

stop_vouch() {
    if [ -n "$VOUCH_PID" ] && kill -0 "$VOUCH_PID" 2>/dev/null; then
        kill -TERM "$VOUCH_PID"
        wait "$VOUCH_PID" 2>/dev/null || true
    fi
    VOUCH_PID=""
}

vouch_alive() { [ -n "$VOUCH_PID" ] && kill -0 "$VOUCH_PID" 2>/dev/null; }

proc_kb() {  # pid field -> kB (VmRSS, VmHWM)
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

cached() {  # file metric: the share of FILE in the page cache (needs fincore, util-linux)
    command -v fincore >/dev/null || return 0
    local pct
    pct=$(fincore -b -n -o RES,SIZE "$1" 2>/dev/null | awk '$2 > 0 { printf "%.0f", 100 * $1 / $2 }')
    [ -n "$pct" ] && metric "$2" "$pct" && note "page cache holds $pct% of $(basename "$1") (${2#bulk_cached_})"
    return 0
}

migrate() {  # db or URL: start vouch once so the schema exists, then stop it
    start_vouch "$1" "$RUN_DIR/vouch-migrate.log"
    stop_vouch
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

PG_ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_ON=0       # 1 when the server answered and the phase will run
PG_STATUS=""  # why it is skipped, for the summary
PG_DB=""      # the database this run created (dropped by pg_drop_db, also from cleanup)
PG_URL=""

psql_q() {  # URL psql-args...: quiet, unaligned, no psqlrc, stop on the first error
    local url=$1; shift
    PGCONNECT_TIMEOUT=5 psql "$url" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

redact_url() { sed 's#://\([^:/@]*\):[^@]*@#://\1:****@#' <<<"$1"; }

pg_url_with_db() {  # URL DB -> the same URL naming database DB
    local url=$1 db=$2 query="" scheme rest
    case "$url" in *"?"*) query="?${url#*\?}"; url=${url%%\?*} ;; esac
    scheme=${url%%://*}
    rest=${url#*://}
    rest=${rest%%/*}
    echo "$scheme://$rest/$db$query"
}

pg_probe() {  # sets PG_ON / PG_STATUS
    local err
    if [ "$NO_PG" = 1 ]; then PG_STATUS="skipped (--no-postgres)"; return 0; fi
    if ! command -v psql >/dev/null; then
        PG_STATUS="skipped (no psql; apt-get install postgresql-client)"; return 0
    fi
    if ! err=$(psql_q "$PG_ADMIN_URL" -c 'SELECT 1' 2>&1 >/dev/null); then
        PG_STATUS="skipped ($(redact_url "$PG_ADMIN_URL") not reachable: $(head -1 <<<"$err"))"
        return 0
    fi
    PG_ON=1
    PG_STATUS="on"
}

# The server's version and the settings that decide what a commit costs (the server's own:
# neither vouch nor this harness changes them).
PG_SETTINGS="synchronous_commit fsync full_page_writes wal_sync_method commit_delay shared_buffers max_connections"
pg_settings() {  # URL -> "name=value, ..."
    psql_q "$1" -c "SELECT string_agg(n || '=' || current_setting(n), ', ' ORDER BY i)
                    FROM unnest(string_to_array('$PG_SETTINGS', ' ')) WITH ORDINALITY AS s(n, i)"
}
pg_machine_info() {
    local datadir disk
    echo "- postgresql: $(psql_q "$PG_ADMIN_URL" -c 'SHOW server_version') at $(redact_url "$PG_ADMIN_URL")"
    echo "- postgresql settings: $(pg_settings "$PG_ADMIN_URL")"
    datadir=$(psql_q "$PG_ADMIN_URL" -c 'SHOW data_directory' 2>/dev/null || true)
    if [ -n "$datadir" ] && disk=$(df -T "$datadir" 2>/dev/null | awk 'NR == 2 { print $1 " (" $2 ")" }') \
        && [ -n "$disk" ]; then
        echo "- postgresql disk: $disk, $datadir"
    fi
}

pg_create_db() {  # -> sets PG_DB and PG_URL
    PG_DB="vouch_bench_${RUN_TAG,,}_$$"
    psql_q "$PG_ADMIN_URL" -c "CREATE DATABASE \"$PG_DB\""
    PG_URL=$(pg_url_with_db "$PG_ADMIN_URL" "$PG_DB")
}

pg_drop_db() {  # drops this run's database, if any (vouch must be stopped or stopping)
    [ -n "$PG_DB" ] || return 0
    local db=$PG_DB
    PG_DB=""
    # WITH (FORCE) (PostgreSQL 13+) ends connections still open; older servers get a second try.
    if psql_q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 \
        || { sleep 1; psql_q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1; }; then
        return 0
    fi
    echo "run.sh: could not drop the PostgreSQL database $db; drop it by hand" >&2
}

# CPU used by the PostgreSQL server for vouch: the backends of this run's database plus the
# server's own processes (checkpointer, WAL writer, ...), which run for every database.
pg_cpu_snapshot() {  # -> "pid jiffies" of every process named postgres
    cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(postgres)" { print $1, $14 + $15 }' || true
}
pg_cpu_since() {  # SNAPSHOT -> jiffies used since SNAPSHOT by the processes serving PG_DB
    local before=$1 after pids
    after=$(pg_cpu_snapshot)
    pids=$(psql_q "$PG_ADMIN_URL" -c "SELECT pid FROM pg_stat_activity
        WHERE (datname = '$PG_DB' OR datname IS NULL) AND pid <> pg_backend_pid()" 2>/dev/null || true)
    awk -v before="$before" -v after="$after" -v pids="$pids" 'BEGIN {
        n = split(before, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " "); b[f[1]] = f[2] }
        n = split(after, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " "); a[f[1]] = f[2] }
        n = split(pids, p, "\n"); s = 0
        for (i = 1; i <= n; i++) if (p[i] in a) s += a[p[i]] - (p[i] in b ? b[p[i]] : 0)
        print s + 0 }'
}

# ---------------------------------------------------------------------------------------------
# wrk

# parse_wrk FILE -> "rps p50_ms p99_ms requests non2xx sockerr wrapped"
parse_wrk() {
    awk '
        function ms(v,   n) {
            n = v + 0
            if (v ~ /us$/) return n / 1000
            if (v ~ /ms$/) return n
            if (v ~ /m$/) return n * 60000
            if (v ~ /s$/) return n * 1000
            return n
        }
        /Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /requests in/ { reqs = $1 }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ { gsub(",", ""); sock = $4 + $6 + $8 + $10 }
        /^bench:/ { for (i = 1; i <= NF; i++) if ($i ~ /^wrapped=/) { sub("wrapped=", "", $i); wrapped = $i } }
        END {
            printf "%.2f %.3f %.3f %d %d %d %d\n", rps + 0, p50 + 0, p99 + 0, reqs + 0, non2xx + 0, sock + 0, wrapped + 0
        }' "$1"
}

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_busy() {  # all CPUs' user + nice + system + steal jiffies, minus kernel threads' (I/O
    # flushing for our own fsyncs runs there); interrupts are left out for the same reason
    local all kthreads
    all=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $9 }' /proc/stat)
    kthreads=$(cat /proc/[0-9]*/stat 2>/dev/null | awk '$4 == 2 { s += $14 + $15 } END { print s + 0 }')
    echo $((all - kthreads))
}
proc_io() {  # pid -> "read-syscalls disk-read-bytes" (0 0 when unreadable)
    awk '$1 == "syscr:" { r = $2 } $1 == "read_bytes:" { b = $2 } END { print r + 0, b + 0 }' \
        "/proc/$1/io" 2>/dev/null || echo "0 0"
}
proc_cpu() {  # pid -> utime + stime jiffies
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# run_wrk NAME PORT SERVER_PID CASE IDS_FILE -> raw output in $RUN_DIR/wrk-NAME.txt; prints
# the parsed line and the CPU used meanwhile, in cores: the server, wrk, and everything else
# on the machine (other people's work: the noise indicator), then the read syscalls per request
# and disk MiB, and last the PostgreSQL server's cores (vouch on PostgreSQL; 0 otherwise, and
# for the baseline), which are not counted as other load.
run_wrk() {
    local name=$1 port=$2 spid=$3 case=$4 ids=${5:-} out="$RUN_DIR/wrk-$1.txt"
    local pg0="" pg_jiffies=0 on_pg=0
    [ "$DB_KIND" = pg ] && [ "$spid" = "$VOUCH_PID" ] && on_pg=1
    {
        echo "# $(date -u +%FT%TZ) loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "# wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s bench/wrk/case.lua http://127.0.0.1:$port  (BENCH_CASE=$case)"
    } >"$out"
    local busy0 srv0 busy1 srv1 t0 t1 wrk_cpu io0 io1 TIMEFORMAT='%U %S'
    io0=$(proc_io "$spid")
    [ "$on_pg" = 1 ] && pg0=$(pg_cpu_snapshot)
    busy0=$(cpu_busy); srv0=$(proc_cpu "$spid"); t0=$(date +%s.%N)
    wrk_cpu=$( { time BENCH_CASE=$case BENCH_KEY=$KEY BENCH_IDS=$ids BENCH_THREADS=$THREADS \
        BENCH_POOL=$POOL BENCH_RUN="$RUN_TAG-$name" \
        wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$BENCH/wrk/case.lua" \
        "http://127.0.0.1:$port" >>"$out" 2>&1 || echo "wrk exited with $?" >>"$out"; } 2>&1 )
    busy1=$(cpu_busy); srv1=$(proc_cpu "$spid"); t1=$(date +%s.%N)
    io1=$(proc_io "$spid")
    [ "$on_pg" = 1 ] && pg_jiffies=$(pg_cpu_since "$pg0")
    local cpu pg_cores
    cpu=$(awk -v b0="$busy0" -v b1="$busy1" -v s0="$srv0" -v s1="$srv1" -v w="$wrk_cpu" \
        -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" -v pg="$pg_jiffies" 'BEGIN {
            split(w, u, " "); wall = t1 - t0
            srv = (s1 - s0) / hz; wk = u[1] + u[2]; other = (b1 - b0 - pg) / hz - srv - wk
            if (other < 0) other = 0
            printf "%.2f %.2f %.2f %.2f", srv / wall, wk / wall, other / wall, pg / hz / wall }')
    pg_cores=${cpu##* }
    cpu=${cpu% *}
    echo "# cpu (cores): server wrk other = $cpu" >>"$out"
    [ "$on_pg" = 1 ] && echo "# cpu (cores): postgresql (backends of $PG_DB and the server's own processes) = $pg_cores" >>"$out"
    local parsed io
    parsed=$(parse_wrk "$out")
    # read syscalls per request, and MiB the server really read from disk (page-cache misses)
    io=$(awk -v a="$io0" -v b="$io1" -v n="$(echo "$parsed" | cut -d' ' -f4)" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        printf "%.1f %.0f", (n > 0 ? (y[1] - x[1]) / n : 0), (y[2] - x[2]) / 1048576 }')
    echo "# server io: read syscalls per request, disk MiB read = $io" >>"$out"
    echo "$parsed $cpu $io $pg_cores"
}

RESULTS=""   # $RUN_DIR/results.tsv
ROUNDS=""    # $RUN_DIR/rounds.tsv (every round when --repeat > 1)
DB_KIND=sqlite  # the db column: sqlite | pg
record() {   # phase name server fields
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" | tr ' ' '\t' >>"$RESULTS"
}
# with_rss RUN_WRK_LINE RSS -> the fields of a results.tsv row after phase/case/server: run_wrk's
# first 12, the RSS sample, the db, the PostgreSQL cores (run_wrk's last field)
with_rss() {
    local f
    read -r -a f <<<"$1"
    echo "${f[*]:0:12} $2 $DB_KIND ${f[12]:-0}"
}

# bench_case PHASE NAME CASE IDS_FILE: baseline then vouch, back to back (so both see the same
# machine), with an RSS sample of vouch half-way through. With --repeat N the pair runs N times
# and the round where vouch was fastest is kept (every round is in rounds.tsv).
bench_case() {
    local phase=$1 name=$2 case=$3 ids=${4:-}
    local round tag b v rss best_b="" best_v=""
    local prepare=0
    [ "$ids" = "@prepare" ] && prepare=1
    for round in $(seq 1 "$REPEAT"); do
        [ "$prepare" = 1 ] && ids=$(prepare_ids "$case")
        tag=$name
        [ "$REPEAT" -gt 1 ] && tag="$name.r$round"
        b=$(run_wrk "$tag.baseline" "$PORT_BASE" "$BASE_PID" "$case" "$ids")
        ( sleep "$(awk -v d="$DURATION" 'BEGIN { print d / 2 }')"
          proc_kb "$VOUCH_PID" VmRSS >"$RUN_DIR/rss-$tag.txt" ) &
        local sampler=$! perf_pid=""
        if [ "$PROFILE" = 1 ] && [ "$round" = 1 ]; then
            perf record -F 499 -g -p "$VOUCH_PID" -o "$RUN_DIR/perf-$name.data" -- sleep "$DURATION" \
                >/dev/null 2>&1 &
            perf_pid=$!
        fi
        v=$(run_wrk "$tag.vouch" "$PORT" "$VOUCH_PID" "$case" "$ids")
        wait "$sampler" 2>/dev/null || true
        [ -n "$perf_pid" ] && profile_report "$name" "$perf_pid"
        rss=$(cat "$RUN_DIR/rss-$tag.txt" 2>/dev/null || echo 0)
        v=$(with_rss "$v" "${rss:-0}")
        b=$(with_rss "$b" 0)
        printf '%s\t%s\t%s\t%s\n' "$phase" "$name" baseline "$b" | tr ' ' '\t' >>"$ROUNDS"
        printf '%s\t%s\t%s\t%s\n' "$phase" "$name" vouch "$v" | tr ' ' '\t' >>"$ROUNDS"
        print_round "$tag" "$b" "$v"
        # Noise on a shared machine only ever slows a run down: keep the fastest vouch round,
        # with the baseline measured right before it.
        if [ -z "$best_v" ] || awk -v a="${v%% *}" -v b="${best_v%% *}" 'BEGIN { exit !(a > b) }'; then
            best_b=$b; best_v=$v
        fi
        if ! vouch_alive; then
            printf '   ERROR: vouch exited during %s (see %s); restarting it for the next case\n' \
                "$tag" "$VOUCH_LOG"
            printf '%s\t%s\tvouch exited (crash)\n' "$phase" "$tag" >>"$RUN_DIR/errors.tsv"
            start_vouch "$CURRENT_DB" "$VOUCH_LOG"
        fi
    done
    record "$phase" "$name" baseline "$best_b"
    record "$phase" "$name" vouch "$best_v"
}

print_round() {  # tag baseline-line vouch-line
    local tag=$1 b=$2 ratio cpu
    set -- $3
    ratio=$(awk -v a="$1" -v b="${b%% *}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    cpu=$8
    [ "${14}" = pg ] && cpu="$8+pg ${15}"
    printf '   %-16s vouch %7.0f req/s  p50 %6.2f ms  p99 %7.2f ms  cpu %s  | baseline %7.0f req/s | ratio %s | other load %s/%s cores' \
        "$tag" "$1" "$2" "$3" "$cpu" "${b%% *}" "$ratio" "$(echo "$b" | cut -d' ' -f10)" "${10}"
    [ "$5" != 0 ] && printf '   NON-2XX %s' "$5"
    [ "$6" != 0 ] && printf '   SOCKET-ERRORS %s' "$6"
    [ "$7" != 0 ] && printf '   ids-wrapped %s' "$7"
    printf '\n'
}

profile_report() {  # name perf-pid
    wait "$2" 2>/dev/null || true
    {
        echo "# flat profile of vouch during $1 (perf record -F 499 -g; self time)"
        perf report -i "$RUN_DIR/perf-$1.data" --no-children --stdio -g none \
            --sort dso,sym --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$' | head -80
        echo
        echo "# by shared object"
        perf report -i "$RUN_DIR/perf-$1.data" --no-children --stdio -g none \
            --sort dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15
    } >"$RUN_DIR/perf-$1.txt" || true
    rm -f "$RUN_DIR/perf-$1.data"
}

# Request-log statistics (vouch logs one line per request), then drop the bulky log.
digest_log() {  # logfile
    local f=$1
    [ -f "$f" ] || return 0
    grep -o 'status=[0-9]*' "$f" | sort | uniq -c | sort -rn >"$f.statuses" || true
    grep -v 'vouch::http: request' "$f" >"$f.other" || true
    rm -f "$f"
}

# ---------------------------------------------------------------------------------------------
# Machine

machine_info() {
    local model mem
    model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- cpu: $(nproc) cores, ${model:-unknown}"
    echo "- memory: $mem"
    echo "- kernel: $(uname -sr)"
    echo "- os: $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-?}")"
    echo "- rustc: $(rustc --version 2>/dev/null || echo '?')"
    echo "- wrk: $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')"
    echo "- vouch: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- crates 2>/dev/null || echo ' (+ uncommitted changes in crates/)')"
    echo "- binary: $(sha256sum "$VOUCH" | cut -c1-12) ($(du -h "$VOUCH" | cut -f1), built from target/release/vouch)"
    echo "- disk: $(df -T "$BENCH" | awk 'NR == 2 { print $1 " (" $2 ")" }')"
}

# ---------------------------------------------------------------------------------------------
# Main

ensure_tools
pg_probe
[ "$BUILD" = 1 ] && build
for bin in "$VOUCH" "$BASELINE" "$LOADER"; do
    [ -x "$bin" ] || { echo "run.sh: $bin is missing (run without --no-build)" >&2; exit 1; }
done

RUN_TAG=$(date -u +%Y%m%dT%H%M%SZ)
RUN_DIR="$BENCH/results/$RUN_TAG$([ "$QUICK" = 1 ] && echo -quick || true)"
mkdir -p "$RUN_DIR/bin" "$BENCH/results/db"
# Others may rebuild target/release while this runs: measure a private copy of this build.
cp "$VOUCH" "$RUN_DIR/bin/vouch"
VOUCH="$RUN_DIR/bin/vouch"
ln -sfn "$(basename "$RUN_DIR")" "$BENCH/results/latest"
RESULTS="$RUN_DIR/results.tsv"
ROUNDS="$RUN_DIR/rounds.tsv"
printf 'phase\tcase\tserver\trps\tp50_ms\tp99_ms\trequests\tnon2xx\tsocket_errors\tids_wrapped\tserver_cores\twrk_cores\tother_cores\tread_syscalls_per_req\tdisk_read_mib\trss_kb\tdb\tdb_server_cores\n' | tee "$ROUNDS" >"$RESULTS"
: >"$RUN_DIR/errors.tsv"
: >"$RUN_DIR/metrics.tsv"
metric() { printf '%s\t%s\n' "$1" "$2" >>"$RUN_DIR/metrics.tsv"; }
{
    machine_info
    if [ "$PG_ON" = 1 ]; then pg_machine_info; fi
} >"$RUN_DIR/machine.md"
{
    echo "COMMAND='bench/run.sh${ORIG_ARGS:+ $ORIG_ARGS}'"
    echo "DURATION=$DURATION THREADS=$THREADS CONNS=$CONNS REPEAT=$REPEAT"
    echo "BULK=$BULK BULK_LABEL=$BULK_LABEL SEED=$SEED"
    echo "SELECTED='$SELECTED'"
    echo "PG_STATUS='${PG_STATUS//\'/}'"
} >"$RUN_DIR/params.env"

log "run $RUN_DIR"
note "cases: $SELECTED; ${DURATION}s per case, wrk -t$THREADS -c$CONNS; bulk $BULK_LABEL"
[ "$PG_ON" = 1 ] || note "PostgreSQL phase: $PG_STATUS"
sed 's/^/   /' "$RUN_DIR/machine.md"
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    note "NOTE: load average is $load1 before the run; other work on this machine adds noise"
    note "      (the ratios to the baseline, measured back to back, are the comparable figures)."
fi

# Baseline: up for the whole run; each case measures it right before vouch.
if port_busy "$PORT_BASE"; then echo "run.sh: port $PORT_BASE is in use (set BENCH_PORT)" >&2; exit 1; fi
"$BASELINE" "127.0.0.1:$PORT_BASE" >"$RUN_DIR/baseline.log" 2>&1 &
BASE_PID=$!
PIDS+=("$BASE_PID")
wait_healthy "$PORT_BASE" "$BASE_PID" || { echo "run.sh: baseline did not start" >&2; exit 1; }

# --- Phase 1: a small database ---------------------------------------------------------------
SMALL_DB="$RUN_DIR/small.db"
CURRENT_DB="$SMALL_DB"
POOL=$(( SEED / 1000 > 0 ? SEED / 1000 : 1 ))
log "small database: $SEED sessions loaded, then the cases add their own"
migrate "$SMALL_DB"
"$LOADER" load --db "$SMALL_DB" --key "$KEY" --count "$SEED" 2>/dev/null | sed 's/^/   /'
sync  # the loader does not fsync: flush now, not under the cases
start_vouch "$SMALL_DB" "$RUN_DIR/vouch-small.log"
note "vouch pid $VOUCH_PID on $SMALL_DB"

# prepare_ids CASE -> the ids file a small-db case walks (fresh for every cancel round, so each
# cancel hits a session still in requires_input), from the database vouch serves now.
prepare_ids() {
    local ids n
    case "$1" in
        retrieve|update)
            ids="$RUN_DIR/ids-small-$DB_KIND.txt"
            if [ ! -s "$ids" ]; then
                n=$("$LOADER" ids --db "$CURRENT_DB" --key "$KEY" --status requires_input --shuffle --out "$ids")
                note "ids for retrieve/update: $n requires_input sessions" >&2
                echo "$n" >"$RUN_DIR/small-walk.txt"
            fi ;;
        cancel)
            ids="$RUN_DIR/ids-cancel-$DB_KIND.txt"
            n=$("$LOADER" ids --db "$CURRENT_DB" --key "$KEY" --status requires_input --out "$ids")
            note "ids for cancel: $n requires_input sessions (each canceled at most once unless wrapped)" >&2 ;;
        *) ids="" ;;
    esac
    echo "$ids"
}

# retrieve and update walk the loaded sessions, listed before any case adds its own: the set
# must not depend on how many sessions the create cases managed to add.
prepare_ids retrieve >/dev/null
for c in $SELECTED; do
    bench_case small "$c" "$c" "@prepare"
done
metric small_vmhwm_kb "$(proc_kb "$VOUCH_PID" VmHWM)"
metric small_vmrss_end_kb "$(proc_kb "$VOUCH_PID" VmRSS)"
stop_vouch
read -r s_sessions s_events s_idem < <("$LOADER" stats --db "$SMALL_DB")
s_bytes=$(( $(stat -c %s "$SMALL_DB") + $(stat -c %s "$SMALL_DB-wal" 2>/dev/null || echo 0) ))
metric small_sessions "$s_sessions"
metric small_events "$s_events"
metric small_idempotency_rows "$s_idem"
metric small_db_bytes "$s_bytes"
note "small db after the run: $s_sessions sessions, $s_events events, $s_idem idempotency rows, $((s_bytes / 1048576)) MiB"
digest_log "$RUN_DIR/vouch-small.log"
[ "$KEEP_DB" = 1 ] || rm -f "$SMALL_DB" "$SMALL_DB-wal" "$SMALL_DB-shm"

# --- Phase 1b: the same small database on PostgreSQL -----------------------------------------
# Same binary, same seed (the loader writes the same sessions), same cases; the rows get
# db=pg in results.tsv and "@pg" in their names.
if [ "$PG_ON" = 1 ]; then
    pg_create_db
    CURRENT_DB="$PG_URL"
    DB_KIND=pg
    log "PostgreSQL: database $PG_DB, $SEED sessions loaded, then the cases add their own"
    pg_before=$(pg_settings "$PG_URL")
    migrate "$PG_URL"
    if ! "$LOADER" load --db "$PG_URL" --key "$KEY" --count "$SEED" 2>"$RUN_DIR/loader-pg.log" | sed 's/^/   /'; then
        tail -5 "$RUN_DIR/loader-pg.log" >&2
        exit 1
    fi
    # Write the loaded pages out now, not under the cases (the counterpart of the sync above).
    psql_q "$PG_URL" -c CHECKPOINT >/dev/null 2>&1 || note "(CHECKPOINT refused: needs superuser or pg_checkpoint)"
    start_vouch "$PG_URL" "$RUN_DIR/vouch-pg.log"
    note "vouch pid $VOUCH_PID on $(redact_url "$PG_URL")"
    prepare_ids retrieve >/dev/null
    for c in $SELECTED; do
        bench_case small "$c@pg" "$c" "@prepare"
    done
    metric pg_vmhwm_kb "$(proc_kb "$VOUCH_PID" VmHWM)"
    metric pg_vmrss_end_kb "$(proc_kb "$VOUCH_PID" VmRSS)"
    stop_vouch
    read -r p_sessions p_events p_idem p_bytes < <("$LOADER" stats --db "$PG_URL")
    metric pg_sessions "$p_sessions"
    metric pg_events "$p_events"
    metric pg_idempotency_rows "$p_idem"
    metric pg_db_bytes "$p_bytes"
    note "PostgreSQL db after the run: $p_sessions sessions, $p_events events, $p_idem idempotency rows, $((p_bytes / 1048576)) MiB (tables, indexes, TOAST)"
    pg_after=$(pg_settings "$PG_URL")
    if [ "$pg_before" != "$pg_after" ]; then
        note "WARNING: PostgreSQL settings changed during the run: $pg_before -> $pg_after"
        printf 'pg\tsettings\tPostgreSQL settings changed during the run: %s -> %s\n' "$pg_before" "$pg_after" >>"$RUN_DIR/errors.tsv"
    fi
    digest_log "$RUN_DIR/vouch-pg.log"
    if [ "$KEEP_DB" = 1 ]; then
        note "kept the PostgreSQL database: $(redact_url "$PG_URL") (--keep-db; DROP DATABASE it when done)"
        PG_DB=""
    else
        pg_drop_db
    fi
    DB_KIND=sqlite
fi

# --- Phase 2: the bulk database --------------------------------------------------------------
if [ "$SKIP_BULK" = 0 ]; then
    BULK_DB="$BENCH/results/db/bulk-$BULK.db"
    CURRENT_DB="$BULK_DB"
    POOL=$(( BULK / 1000 > 0 ? BULK / 1000 : 1 ))
    log "bulk database: $BULK_LABEL sessions"
    have=""
    if [ "$REUSE_BULK" = 1 ] && [ -f "$BULK_DB" ] && [ -f "$BULK_DB.complete" ]; then
        have=$("$LOADER" stats --db "$BULK_DB" | cut -d' ' -f1)
    fi
    if [ "$have" = "$BULK" ]; then
        note "reusing $BULK_DB"
    else
        rm -f "$BULK_DB" "$BULK_DB-wal" "$BULK_DB-shm" "$BULK_DB.complete"
        migrate "$BULK_DB"
        t0=$(date +%s.%N)
        "$LOADER" load --db "$BULK_DB" --key "$KEY" --count "$BULK" 2>"$RUN_DIR/loader.log" | sed 's/^/   /'
        sync  # gigabytes of unsynced pages would otherwise be written back under the cases
        t1=$(date +%s.%N)
        metric bulk_load_seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
        touch "$BULK_DB.complete"
    fi
    read -r b_sessions b_events _ < <("$LOADER" stats --db "$BULK_DB")
    b_bytes=$(( $(stat -c %s "$BULK_DB") + $(stat -c %s "$BULK_DB-wal" 2>/dev/null || echo 0) ))
    metric bulk_sessions "$b_sessions"
    metric bulk_events "$b_events"
    metric bulk_db_bytes "$b_bytes"
    note "$b_sessions sessions, $b_events events, $((b_bytes / 1048576)) MiB: $((b_bytes / b_sessions)) bytes per session"
    if command -v sqlite3 >/dev/null; then  # where the bytes go (optional: needs the sqlite3 CLI)
        sqlite3 -readonly "$BULK_DB" \
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC" \
            >"$RUN_DIR/dbstat.txt" 2>/dev/null || rm -f "$RUN_DIR/dbstat.txt"
    fi

    log "start-up time on the $BULK_LABEL database (exec to 200 on /healthz, 5 runs)"
    "$LOADER" startup --runs 5 --url "http://127.0.0.1:$PORT_STARTUP/healthz" -- \
        "$VOUCH" serve --listen "127.0.0.1:$PORT_STARTUP" --database-url "sqlite://$BULK_DB" \
        --api-key "$KEY" | tee "$RUN_DIR/startup.txt" | sed 's/^/   /'
    metric startup_median_ms "$(awk '/^median/ { print $2 }' "$RUN_DIR/startup.txt")"

    # Read the whole file once so the cases start from a warm page cache (as a server whose
    # database fits in RAM would be), and record how much of it stays cached.
    cached "$BULK_DB" bulk_cached_before_warm_pct
    cat "$BULK_DB" >/dev/null
    cached "$BULK_DB" bulk_cached_after_warm_pct
    start_vouch "$BULK_DB" "$RUN_DIR/vouch-bulk.log"
    note "vouch pid $VOUCH_PID on $BULK_DB"
    ids="$RUN_DIR/ids-bulk.txt"
    ids_recent="$RUN_DIR/ids-bulk-recent.txt"
    if selected retrieve; then
        n=$("$LOADER" ids --db "$BULK_DB" --key "$KEY" --shuffle --limit 500000 --out "$ids")
        note "ids for retrieve: $n random sessions"
        # The small database's walk, at this size: as many sessions as it walked (the newest
        # requires_input ones here), so the two differ only in the size of the database.
        walk=$(cat "$RUN_DIR/small-walk.txt" 2>/dev/null || echo "$SEED")
        n=$("$LOADER" ids --db "$BULK_DB" --key "$KEY" --status requires_input --newest "$walk" \
            --shuffle --out "$ids_recent")
        note "ids for retrieve_recent: the $n newest requires_input sessions"
    fi
    if selected retrieve; then
        # Unrecorded warm-up: after a start on a big database, retrieve needs ~30 s of traffic
        # to reach its steady rate (measured: 10k -> 23k req/s over four 8 s runs at 1M).
        warm=$(( DURATION * 3 ))
        note "warm-up: ${warm}s of retrieve, not recorded"
        BENCH_CASE=retrieve BENCH_KEY=$KEY BENCH_IDS=$ids BENCH_THREADS=$THREADS \
            wrk -t"$THREADS" -c"$CONNS" -d"${warm}s" -s "$BENCH/wrk/case.lua" \
            "http://127.0.0.1:$PORT" >"$RUN_DIR/wrk-warmup.txt" 2>&1 || true
    fi
    for c in $READ_CASES; do
        selected "$c" || continue
        bench_case bulk "$c@$BULK_LABEL" "$c" "$ids"
        if [ "$c" = retrieve ]; then
            bench_case bulk "retrieve_recent@$BULK_LABEL" retrieve "$ids_recent"
        fi
    done
    cached "$BULK_DB" bulk_cached_after_cases_pct
    metric bulk_vmhwm_kb "$(proc_kb "$VOUCH_PID" VmHWM)"
    metric bulk_vmrss_end_kb "$(proc_kb "$VOUCH_PID" VmRSS)"
    stop_vouch
    digest_log "$RUN_DIR/vouch-bulk.log"
    rm -f "$ids" "$ids_recent"
    [ "$REUSE_BULK" = 1 ] || rm -f "$BULK_DB" "$BULK_DB-wal" "$BULK_DB-shm" "$BULK_DB.complete"
fi
kill -TERM "$BASE_PID" 2>/dev/null || true
wait "$BASE_PID" 2>/dev/null || true
rm -rf "$RUN_DIR/bin"

# ---------------------------------------------------------------------------------------------
# Summary

"$BENCH/summarize.sh" "$RUN_DIR" | tee "$RUN_DIR/summary.md"
echo
echo "raw wrk outputs and logs: $RUN_DIR"
