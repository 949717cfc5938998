#!/usr/bin/env bash
# Prints the Markdown summary of one bench/run.sh run: the per-case table (vouch next to the
# baseline measured right before it; each small-database SQLite row followed by the same case on
# PostgreSQL), the targets with PASS/MISS (judged on the SQLite figures, the PostgreSQL ratios
# shown alongside), and the other metrics.
#
#   bench/summarize.sh bench/results/latest
#
# Reads results.tsv, metrics.tsv, errors.tsv, params.env and machine.md of that directory.
# A MISS is reported, never turned into a failing exit status.

set -euo pipefail

DIR=${1:?usage: bench/summarize.sh RESULTS_DIR}
# shellcheck disable=SC1091
. "$DIR/params.env"

metric() { awk -F'\t' -v k="$1" '$1 == k { v = $2 } END { print v }' "$DIR/metrics.tsv"; }
# Runs before the db column (17) existed are all SQLite.
HAVE_PG=$(awk -F'\t' 'NR > 1 && $17 == "pg" { print 1; exit }' "$DIR/results.tsv")
PGCELL=""   # the PostgreSQL column of the targets table, for rows it does not apply to
[ -n "$HAVE_PG" ] && PGCELL=" — |"

echo "## vouch benchmark — $(basename "$(cd "$DIR" && pwd)")"
echo
rounds=""
[ "${REPEAT:-1}" -gt 1 ] && rounds=" Each pair ran $REPEAT times; the round where vouch was fastest is shown (all rounds: rounds.tsv)."
echo "\`$COMMAND\` — wrk -t$THREADS -c$CONNS, ${DURATION} s per case; baseline measured right before each vouch case.$rounds"
if [ -n "${PG_STATUS:-}" ] && [ "$PG_STATUS" != on ]; then
    echo
    echo "PostgreSQL phase: $PG_STATUS."
fi
echo
cat "$DIR/machine.md"
echo

awk -F'\t' -v bulk="$BULK_LABEL" -v havepg="$HAVE_PG" -v cores="$(awk '/^- cpu:/ { print $3 }' "$DIR/machine.md")" '
    function fmt_rps(x) { return sprintf("%.0f", x) }
    function pass(ok) { return ok ? "PASS" : "MISS" }
    NR == 1 { next }
    {
        key = $2
        if (!(key in seen)) {
            seen[key] = 1; order[++n] = key; phase[key] = $1; db[key] = ($17 == "" ? "sqlite" : $17)
        }
        rps[key, $3] = $4; p50[key, $3] = $5; p99[key, $3] = $6; reqs[key, $3] = $7
        non2xx[key, $3] = $8; sock[key, $3] = $9; wrapped[key, $3] = $10
        scpu[key, $3] = $11; other[key, $3] = $13; rss[key, $3] = $16; pgcpu[key, $3] = $18 + 0
    }
    END {
        target["create"] = 0.35; target["retrieve"] = 0.60; target["update"] = 0.35; target["list"] = 0.45
        # Display order: each small-database SQLite case, then the same case on PostgreSQL
        # ("<case>@pg"), then everything else (the bulk phase) in run order.
        m = 0
        for (i = 1; i <= n; i++) {
            k = order[i]
            if (phase[k] != "small" || db[k] != "sqlite") continue
            shown[++m] = k; placed[k] = 1
            if ((k "@pg") in seen) { shown[++m] = k "@pg"; placed[k "@pg"] = 1 }
        }
        for (i = 1; i <= n; i++) if (!(order[i] in placed)) shown[++m] = order[i]
        for (i = 1; i <= n; i++) {
            k = order[i]; b = rps[k, "baseline"]
            ratio[k] = (b > 0 ? rps[k, "vouch"] / b : 0)
        }
        print "| case | db | vouch req/s | p50 ms | p99 ms | vouch CPU | baseline req/s | ratio | target | result | other load |"
        print "|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|"
        for (i = 1; i <= m; i++) {
            k = shown[i]
            b = rps[k, "baseline"]; v = rps[k, "vouch"]
            name = k; sub(/@.*/, "", name)
            t = "—"; r = ""
            if (phase[k] == "small" && db[k] == "sqlite" && (k in target)) {
                t = sprintf("≥ %.2f", target[k]); r = pass(ratio[k] >= target[k])
                res[k] = r
            } else if (db[k] == "pg" && (name in target)) {
                t = sprintf("(≥ %.2f)", target[name]); r = "not judged"
            }
            dbl = (db[k] == "pg" ? "pg" : (phase[k] == "small" ? "sqlite" : "sqlite " bulk))
            cpu = sprintf("%.2f", scpu[k, "vouch"])
            if (db[k] == "pg") cpu = cpu sprintf(" + %.2f pg", pgcpu[k, "vouch"])
            errs = ""
            if (non2xx[k, "vouch"] > 0) errs = errs sprintf(" **%d non-2xx**", non2xx[k, "vouch"])
            if (sock[k, "vouch"] > 0) errs = errs sprintf(" **%d socket errors**", sock[k, "vouch"])
            if (wrapped[k, "vouch"] > 0 && name == "cancel") errs = errs " (ids ran out: some cancels were no-ops)"
            if (other[k, "vouch"] > 0.25 || other[k, "baseline"] > 0.25) { errs = errs " (noisy)"; noisy++ }
            printf "| %s | %s | %s | %.2f | %.2f | %s | %s | %.2f | %s | %s%s | %.2f / %.2f |\n", name, dbl, fmt_rps(v), p50[k, "vouch"], p99[k, "vouch"], cpu, fmt_rps(b), ratio[k], t, r, errs, other[k, "baseline"], other[k, "vouch"]
        }
        print ""
        print "vouch CPU: cores vouch used during its run (of " cores "; wrk uses the rest). other load: cores"
        print "used by every other process (other work on the machine, i.e. noise) during the baseline / vouch runs."
        if (havepg) {
            print "db pg: the same binary on PostgreSQL, same seed and cases; \"+ x pg\" is the cores the PostgreSQL"
            print "server used for it (this database'"'"'s backends and the server'"'"'s own processes), not counted as other load."
        }
        if (noisy) print "(noisy): more than 0.25 cores of other load during the case; its figures are less reliable."
        print ""
        print "### Targets"
        print ""
        if (havepg) {
            print "Judged on the SQLite figures; the PostgreSQL column is the same ratio for vouch on PostgreSQL"
            print "(same run, same cases), shown for comparison and not judged."
            print ""
            print "| target | measured (SQLite) | result | PostgreSQL |"
            print "|---|---|---|---|"
        } else {
            print "| target | measured | result |"
            print "|---|---|---|"
        }
        for (i = 1; i <= n; i++) {
            k = order[i]
            if (phase[k] == "small" && db[k] == "sqlite" && (k in target)) {
                pgr = ""
                if (havepg) pgr = ((k "@pg") in seen ? sprintf(" %.2f |", ratio[k "@pg"]) : " — |")
                printf "| %s ≥ %.2f × baseline | %.2f | %s |%s\n", k, target[k], ratio[k], res[k], pgr
            }
        }
        pgcell = (havepg ? " — |" : "")
        for (i = 1; i <= n; i++) {
            k = order[i]
            if (phase[k] != "bulk") continue
            name = k; sub(/@.*/, "", name)
            # retrieve_recent: the walk of the small database (as many of the newest sessions);
            # retrieve: random ids among all of them.
            small = name; sub(/_recent$/, "", small)
            if (small != "retrieve" && small != "list") continue
            label = name
            if (name == "retrieve") label = "retrieve (random ids among all)"
            if (name == "retrieve_recent") label = "retrieve (the small db'"'"'s walk: as many of the newest)"
            if ((small, "vouch") in rps) {
                rel = (ratio[small] > 0 ? ratio[k] / ratio[small] : 0)
                raw = (rps[small, "vouch"] > 0 ? rps[k, "vouch"] / rps[small, "vouch"] : 0)
                printf "| %s at %s within 10%% of the small db (ratio to baseline) | %.2f vs %.2f = %.0f%% (raw req/s: %.0f%%) | %s |%s\n", label, bulk, ratio[k], ratio[small], rel * 100, raw * 100, pass(rel >= 0.9), pgcell
            }
            printf "| %s at %s p99 < 10 ms | %.2f ms | %s |%s\n", label, bulk, p99[k, "vouch"], pass(p99[k, "vouch"] < 10), pgcell
        }
    }' "$DIR/results.tsv"

hwm_small=$(metric small_vmhwm_kb)
hwm_bulk=$(metric bulk_vmhwm_kb)
# The memory target is judged on SQLite too (the PostgreSQL phase's peak is listed below).
max_rss_sample=$(awk -F'\t' 'NR > 1 && $3 == "vouch" && $17 != "pg" && $16 > m { m = $16 } END { print m + 0 }' "$DIR/results.tsv")
hwm_max=$(printf '%s\n' "${hwm_small:-0}" "${hwm_bulk:-0}" | sort -n | tail -1)
if [ "${hwm_max:-0}" -gt 0 ]; then
    awk -v h="$hwm_max" -v s="$max_rss_sample" -v c="$PGCELL" 'BEGIN {
        printf "| RSS < 150 MB under load (peak VmHWM of vouch over all cases) | %.1f MB (largest mid-case VmRSS sample %.1f MB) | %s |%s\n",
            h / 1024, s / 1024, (h / 1024 < 150 ? "PASS" : "MISS"), c }'
fi
startup=$(metric startup_median_ms)
if [ -n "$startup" ]; then
    awk -v t="$startup" -v b="$BULK_LABEL" -v c="$PGCELL" 'BEGIN {
        printf "| start-up < 200 ms (%s db, exec to 200 on /healthz, median of 5) | %.1f ms | %s |%s\n",
            b, t, (t < 200 ? "PASS" : "MISS"), c }'
fi
echo

echo "### Other measurements"
echo
b_sessions=$(metric bulk_sessions)
if [ -n "$b_sessions" ]; then
    b_bytes=$(metric bulk_db_bytes)
    awk -v s="$b_sessions" -v e="$(metric bulk_events)" -v by="$b_bytes" -v l="$BULK_LABEL" 'BEGIN {
        printf "- database size per session (%s db, .db + -wal, sessions with their events): %.0f bytes (%d sessions, %d events, %.0f MiB)\n",
            l, by / s, s, e, by / 1048576 }'
    if [ -f "$DIR/dbstat.txt" ]; then
        echo "- where those bytes go (bytes per session, from SQLite's dbstat): $(awk -F'|' -v s="$b_sessions" '
            $2 / s >= 20 { printf "%s%s %.0f", sep, $1, $2 / s; sep = ", " }
            $2 / s < 20 { rest += $2 }
            END { if (rest) printf "%sothers %.0f", sep, rest / s }' "$DIR/dbstat.txt")"
    fi
    c0=$(metric bulk_cached_before_warm_pct); c1=$(metric bulk_cached_after_warm_pct); c2=$(metric bulk_cached_after_cases_pct)
    [ -n "$c1" ] && echo "- share of the $BULK_LABEL database in the OS page cache: ${c0:-?}% before the warm-up read, ${c1}% after it, ${c2:-?}% after the cases"
    lt=$(metric bulk_load_seconds)
    [ -n "$lt" ] && echo "- bulk load of $BULK_LABEL sessions: ${lt} s (bench/loader, direct SQLite inserts)"
fi
s_sessions=$(metric small_sessions)
if [ -n "$s_sessions" ] && [ "$s_sessions" -gt 0 ]; then
    awk -v s="$s_sessions" -v e="$(metric small_events)" -v i="$(metric small_idempotency_rows)" -v by="$(metric small_db_bytes)" 'BEGIN {
        printf "- small db after the run: %d sessions, %d events, %d idempotency rows, %.1f MiB (%.0f bytes per session, all tables)\n",
            s, e, i, by / 1048576, by / s }'
fi
p_sessions=$(metric pg_sessions)
if [ -n "$p_sessions" ] && [ "$p_sessions" -gt 0 ]; then
    awk -v s="$p_sessions" -v e="$(metric pg_events)" -v i="$(metric pg_idempotency_rows)" -v by="$(metric pg_db_bytes)" 'BEGIN {
        printf "- PostgreSQL db after the run: %d sessions, %d events, %d idempotency rows, %.1f MiB (tables, indexes and TOAST; %.0f bytes per session)\n",
            s, e, i, by / 1048576, by / s }'
fi
echo "- server CPU per request, µs (vouch / baseline${HAVE_PG:+; on PostgreSQL vouch + the PostgreSQL server}): $(awk -F'\t' '
    NR == 1 { next }
    {
        k = $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        c[k, $3] = ($4 > 0 ? $11 / $4 * 1e6 : 0); pg[k, $3] = ($4 > 0 ? $18 / $4 * 1e6 : 0); db[k] = $17
    }
    END {
        for (i = 1; i <= n; i++) {
            k = order[i]
            v = sprintf("%.0f", c[k, "vouch"])
            if (db[k] == "pg") v = v sprintf(" + %.0f", pg[k, "vouch"])
            printf "%s%s %s / %.0f", (i > 1 ? ", " : ""), k, v, c[k, "baseline"]
        }
    }' "$DIR/results.tsv")"
echo "- vouch file reads per request on SQLite (read/pread syscalls, i.e. SQLite pages not in its own cache; MiB that came from disk): $(awk -F'\t' '
    NR > 1 && $3 == "vouch" && $17 != "pg" { printf "%s%s %s (%s)", sep, $2, $14, $15; sep = ", " }' "$DIR/results.tsv")"
[ -n "$hwm_small" ] && awk -v a="$hwm_small" 'BEGIN { printf "- vouch peak RSS (VmHWM), small-db phase: %.1f MB\n", a / 1024 }'
hwm_pg=$(metric pg_vmhwm_kb)
[ -n "$hwm_pg" ] && awk -v a="$hwm_pg" 'BEGIN { printf "- vouch peak RSS (VmHWM), PostgreSQL phase (not judged): %.1f MB\n", a / 1024 }'
[ -n "$hwm_bulk" ] && awk -v a="$hwm_bulk" -v l="$BULK_LABEL" 'BEGIN { printf "- vouch peak RSS (VmHWM), %s-db phase: %.1f MB\n", l, a / 1024 }'
if [ -f "$DIR/startup.txt" ]; then
    echo "- start-up runs: $(grep '^run' "$DIR/startup.txt" | awk '{ printf "%s%s ms", sep, $3; sep = ", " }')"
fi
for f in "$DIR"/vouch-*.log.statuses; do
    [ -f "$f" ] || continue
    echo "- HTTP statuses in vouch's request log ($(basename "${f%.log.statuses}")): $(awk '{ printf "%s%s × %s", sep, $2, $1; sep = ", " }' "$f")"
done

TSV="$DIR/rounds.tsv"
[ -f "$TSV" ] || TSV="$DIR/results.tsv"
for f in "$DIR"/vouch-*.log.other; do
    [ -f "$f" ] || continue
    n=$(grep -c -E ' (WARN|ERROR) ' "$f" || true)
    [ "${n:-0}" -gt 0 ] && echo "- $n WARN/ERROR lines in vouch's log ($(basename "${f%.log.other}")), first: \`$(grep -m1 -E ' (WARN|ERROR) ' "$f" | cut -c1-200)\`"
done

errors=$(awk -F'\t' 'NR > 1 && $3 == "vouch" && ($8 > 0 || $9 > 0) { printf "- ERROR %s: %d non-2xx, %d socket errors (of %d requests)\n", $2, $8, $9, $7 }' "$TSV")
errors="$errors$(awk -F'\t' '{ printf "\n- ERROR %s: %s\n", $2, $3 }' "$DIR/errors.tsv")"
berrors=$(awk -F'\t' 'NR > 1 && $3 == "baseline" && ($8 > 0 || $9 > 0) { printf "- baseline %s: %d non-2xx, %d socket errors\n", $2, $8, $9 }' "$TSV")
wraps=$(awk -F'\t' 'NR > 1 && $3 == "vouch" && $10 > 0 && $2 ~ /^cancel/ { printf "- WARNING %s: the ids ran out %d times; the repeated cancels were cheap no-ops\n", $2, $10 }' "$TSV")
if [ -n "$(echo "$errors$berrors$wraps" | tr -d '[:space:]')" ]; then
    echo
    echo "### Errors"
    echo
    printf '%s\n' "$errors" "$berrors" "$wraps" | sed '/^$/d'
fi
