#!/usr/bin/env bash
# benches/idle.sh — the console at rest in a real pty: bytes/s and writes/s on the terminal,
# CPU, RSS, and time to the first frame. Every figure comes from ../shared/tools/ptybytes.py
# (a pty of the given size; bytes and write bursts from the reader's side; CPU and VmRSS/VmHWM
# of the child from /proc).
#
#   benches/idle.sh                         # everything, 200x50, 30 s windows, once
#   REPEAT=3 benches/idle.sh                # three runs of each case (medians in the summary)
#   CASES="demo closed" benches/idle.sh     # some cases only
#   BACKLOGS="10000 50000" benches/idle.sh  # console RSS against an external simulator
#
# Cases (CASES, default all):
#   demo    `socdeck --demo --rate 0 --backlog $DEMO_BACKLOG`: time to the first frame (table
#           header on screen), time until the whole backlog is shown, then $SECS s at rest —
#           every visible row has a running countdown (the per-second redraw cost).
#   closed  the same demo, then `s` pressed three times (status filter open → in progress →
#           closed); measured from 2 s after the keys: no countdown visible.
#   replay  `--demo --replay FILE` of $REPLAY_ALERTS alerts that are all CLOSED: no running
#           clock anywhere (header included), the 0 B/s case.
#   sim     for each N in $BACKLOGS: `socdeck sim --orgs 1 --rate 0 --backlog N` in its own
#           process, then the console against it (CBC_URL/CBC_TOKEN/CBC_ORG_KEY, --ca-file):
#           time to first frame, time to loaded, then $SECS s at rest — the console's own CPU
#           and RSS (the --demo figures include the in-process simulator's data).
#
# Environment: SIZE (200x50), SECS (30, measured window at rest), REPEAT (1), DEMO_BACKLOG
# (10000), BACKLOGS ("10000 100000"), REPLAY_ALERTS (2000), LOAD_TIMEOUT (60 s; the "loaded"
# probe's window), OUT (target/bench-idle: one JSON per ptybytes run + summary.json),
# SOCDECK (binary, default target/release/socdeck), PTYBYTES (default ../shared/tools/ptybytes.py),
# NO_BUILD=1 (do not run `cargo build --release`), SUMMARY_ONLY=1 (print the summary of the
# runs already in $OUT).
#
# "Loaded" is the footer's alert count reaching N on screen: the diff renderer sends only the
# changed cells, so the regex wants the count right after a cursor move or SGR (H or m) and
# followed by " alerts" or the next escape — a stray log line cannot match.
# HOME and the XDG directories point at a fresh temporary directory: no user config, keymap,
# theme or log file takes part. Goals (issue): idle ≤ 300 B/s and ≤ 1 write/s with countdowns,
# 0 B/s with none visible, idle CPU ≤ 0.3 % of a core, RSS ≤ 24 MB at 10k and ≤ 96 MB at 100k,
# first interactive frame ≤ 30 ms. The machine's load average is recorded with every run.
set -euo pipefail

cd "$(dirname "$0")/.."
SIZE=${SIZE:-200x50}
SECS=${SECS:-30}
REPEAT=${REPEAT:-1}
DEMO_BACKLOG=${DEMO_BACKLOG:-10000}
BACKLOGS=${BACKLOGS:-"10000 100000"}
REPLAY_ALERTS=${REPLAY_ALERTS:-2000}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-60}
CASES=${CASES:-"demo closed replay sim"}
OUT=${OUT:-target/bench-idle}
SOCDECK=${SOCDECK:-target/release/socdeck}
PTYBYTES=${PTYBYTES:-../shared/tools/ptybytes.py}
# The table's header row: on screen means the first interactive frame is drawn.
HEADER_RE='SLA +Level'

if [ -n "${SUMMARY_ONLY:-}" ]; then
    # Only print the summary of the JSON already in $OUT.
    NO_BUILD=1
    CASES=""
    REPEAT=0
fi
if [ -z "${NO_BUILD:-}" ]; then
    cargo build --release --quiet
fi
[ -x "$SOCDECK" ] || { echo "idle.sh: no $SOCDECK (build it or set SOCDECK)" >&2; exit 2; }
[ -f "$PTYBYTES" ] || { echo "idle.sh: no $PTYBYTES (set PTYBYTES)" >&2; exit 2; }
mkdir -p "$OUT"
[ -n "${SUMMARY_ONLY:-}" ] || rm -f "$OUT"/*.json

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/socdeck-idle.XXXXXX")
SIM_PID=
cleanup() {
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

has_case() { case " $CASES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# A fresh, empty home for each run: no config, no log from an earlier run.
fresh_home() {
    local h
    h=$(mktemp -d "$SCRATCH/home.XXXXXX")
    echo "$h"
}

# run NAME SECONDS FIRST_FRAME [ptybytes options...] -- command...
# Runs ptybytes with a fresh HOME; writes $OUT/NAME.json (ptybytes' JSON + load averages).
# With FIRST_FRAME time:T an empty key is "typed" at T: it writes nothing, but wakes ptybytes'
# reader at T, so the measured window starts at T even when the console is silent then
# (otherwise it would start at the next output, which would be counted as "first frame").
run() {
    local name=$1 secs=$2 ff=$3
    shift 3
    local home load0 json wake=()
    home=$(fresh_home)
    load0=$(loadavg)
    case $ff in time:*) wake=(--key "${ff#time:}:") ;; esac
    json=$(env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME -u XDG_CACHE_HOME -u SOCDECK_LOG \
        HOME="$home" python3 "$PTYBYTES" -s "$SIZE" -t "$secs" --first-frame "$ff" --quit q --json --per-second \
        "${wake[@]}" "$@")
    # A measured window with a second of more than 4 KiB still holds the initial load.
    echo "$json" | jq -c --arg name "$name" --arg l0 "$load0" --arg l1 "$(loadavg)" '
        . + {name: $name, loadavg_before: $l0, loadavg_after: $l1}
        | . + {load_in_window: (((.time_to_first_frame_ms // 0) / 1000 | floor) as $s
               | [.bytes_per_second[$s + 1:][] | select(. > 4096)] | length > 0)}' >"$OUT/$name.json"
    jq -r '"  \(.name): first frame \(.time_to_first_frame_ms) ms (\(.first_frame_bytes) B); rest \(.steady_bytes_per_s) B/s, \(.steady_bursts_per_s) writes/s; CPU \(.steady_cpu_pct)%; RSS \((.rss_kb_at_end // 0) / 1024 | floor) MiB (peak \((.peak_rss_kb // 0) / 1024 | floor) MiB); load \(.loadavg_before)"' \
        "$OUT/$name.json"
    if [ "$(jq -r .load_in_window "$OUT/$name.json")" = true ] && [[ $ff == time:* ]]; then
        echo "  WARNING: $name: the window still holds the initial load (raise the settle time)" >&2
    fi
}

# Seconds to wait before the measured window: 1.3 × the "loaded" probe's time + 5 s (loading
# time varies from run to run; a window that starts before the load ends is flagged below).
settle_after() {
    local ms
    ms=$(jq -r '.time_to_first_frame_ms // empty' "$1")
    if [ -z "$ms" ]; then
        echo "idle.sh: $(basename "$1" .json): never loaded within the probe's window" >&2
        echo "$LOAD_TIMEOUT"
        return
    fi
    python3 -c "import math,sys; print(math.ceil(float(sys.argv[1]) * 1.3 / 1000) + 5)" "$ms"
}

[ -n "${SUMMARY_ONLY:-}" ] || echo "idle.sh: $SIZE, ${SECS} s windows, $REPEAT run(s) per case, load average $(loadavg)"

for r in $(seq 1 "$REPEAT"); do
    if has_case demo || has_case closed; then
        demo=("$SOCDECK" --demo --rate 0 --backlog "$DEMO_BACKLOG")
        echo "run $r: --demo --rate 0 --backlog $DEMO_BACKLOG"
        run "demo-first-frame-$r" 5 "marker:$HEADER_RE" -- "${demo[@]}"
        run "demo-loaded-$r" 20 "marker:[Hm]$DEMO_BACKLOG( alerts|\\x1b\\[)" -- "${demo[@]}"
        settle=$(settle_after "$OUT/demo-loaded-$r.json")
        if has_case demo; then
            run "demo-idle-$r" $((settle + SECS)) "time:$settle" -- "${demo[@]}"
        fi
        if has_case closed; then
            # The keys 2 s before the window; the window starts once their redraws are done.
            k=$((settle - 2))
            run "demo-closed-idle-$r" $((settle + SECS)) "time:$settle" \
                --key "$k:s" --key "$k.3:s" --key "$k.6:s" -- "${demo[@]}"
        fi
    fi

    if has_case replay; then
        replay="$SCRATCH/closed.jsonl"
        python3 - "$replay" "$REPLAY_ALERTS" <<'PY'
import json, sys, datetime as dt
path, n = sys.argv[1], int(sys.argv[2])
# Newest receipt first; the simulator shifts times so the newest backend_timestamp is now.
base = dt.datetime(2026, 11, 30, 9, 0, 0, tzinfo=dt.timezone.utc)
iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
with open(path, "w") as f:
    for i in range(n):
        received = base - dt.timedelta(seconds=20 * i)
        closed = min(base, received + dt.timedelta(minutes=25))
        f.write(json.dumps({
            "id": f"c10sed00-0000-4000-8000-{i:012d}",
            "org_key": ["7DESJ9GN", "K2PQ8XTA", "Q9ZR4MWE"][i % 3],
            "type": "CB_ANALYTICS",
            "severity": 1 + i % 10,
            "reason": "The application powershell.exe invoked another application (cmd.exe).",
            "backend_timestamp": iso(received),
            "backend_update_timestamp": iso(closed),
            "device_id": 100000 + i % 500,
            "device_name": f"WKS-FIN-{i % 500:04d}",
            "device_os": "WINDOWS",
            "device_username": "CORP\\t.sato",
            "device_policy": "Standard",
            "process_name": "c:\\windows\\system32\\cmd.exe",
            "process_cmdline": "cmd.exe /c whoami",
            "workflow": {"status": "CLOSED", "closure_reason": "NO_REASON", "change_timestamp": iso(closed),
                         "changed_by_type": "USER", "changed_by": "a.analyst"},
        }) + "\n")
PY
        rep=("$SOCDECK" --demo --rate 0 --replay "$replay")
        echo "run $r: --demo --rate 0 --replay ($REPLAY_ALERTS closed alerts)"
        run "replay-closed-loaded-$r" 20 "marker:[Hm]$REPLAY_ALERTS( alerts|\\x1b\\[)" -- "${rep[@]}"
        settle=$(settle_after "$OUT/replay-closed-loaded-$r.json")
        run "replay-closed-idle-$r" $((settle + SECS)) "time:$settle" -- "${rep[@]}"
    fi

    if has_case sim; then
        for n in $BACKLOGS; do
            echo "run $r: socdeck sim --orgs 1 --rate 0 --backlog $n, console against it"
            banner="$SCRATCH/sim-$n.json"
            rm -f "$banner"
            t0=$(date +%s.%N)
            "$SOCDECK" sim --listen 127.0.0.1:0 --orgs 1 --rate 0 --backlog "$n" >"$banner" 2>"$SCRATCH/sim-$n.err" &
            SIM_PID=$!
            while [ ! -s "$banner" ]; do
                if ! kill -0 "$SIM_PID" 2>/dev/null; then
                    echo "idle.sh: the simulator exited:" >&2
                    cat "$SCRATCH/sim-$n.err" >&2
                    exit 1
                fi
                sleep 0.05
            done
            sim_start=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$t0" "$(date +%s.%N)")
            sim_rss=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$SIM_PID/status)
            echo "  simulator ready in $sim_start s (peak RSS $sim_rss MiB)"
            echo "{\"backlog\": $n, \"sim_start_s\": $sim_start, \"sim_peak_rss_mib\": $sim_rss}" >"$OUT/sim-start-$n-$r.json"
            export CBC_URL CBC_TOKEN CBC_ORG_KEY
            CBC_URL=$(jq -r .url "$banner")
            CBC_TOKEN=$(jq -r .token "$banner")
            CBC_ORG_KEY=$(jq -r '.orgs[0].org_key' "$banner")
            ca=$(jq -r .ca_file "$banner")
            console=("$SOCDECK" --ca-file "$ca")
            run "sim$n-first-frame-$r" 3 "marker:$HEADER_RE" -- "${console[@]}"
            run "sim$n-loaded-$r" "$LOAD_TIMEOUT" "marker:[Hm]$n( alerts|\\x1b\\[)" -- "${console[@]}"
            settle=$(settle_after "$OUT/sim$n-loaded-$r.json")
            run "sim$n-idle-$r" $((settle + SECS)) "time:$settle" -- "${console[@]}"
            unset CBC_URL CBC_TOKEN CBC_ORG_KEY
            kill "$SIM_PID" 2>/dev/null || true
            wait "$SIM_PID" 2>/dev/null || true
            SIM_PID=
        done
    fi
done

# Summary: medians over the repeats, against the goals.
python3 - "$OUT" "$REPEAT" <<'PY'
import glob, json, os, re, statistics, sys
out = sys.argv[1]
runs = {}
for p in sorted(glob.glob(os.path.join(out, "*.json"))):
    if os.path.basename(p) == "summary.json":
        continue
    m = re.fullmatch(r"(.+)-(\d+)\.json", os.path.basename(p))
    if m:
        runs.setdefault(m.group(1), []).append(json.load(open(p)))

def med(name, key):
    xs = [r.get(key) for r in runs.get(name, []) if r.get(key) is not None]
    return (statistics.median(xs), min(xs), max(xs)) if xs else None

rows = []
def row(what, name, key, goal, unit="", scale=1.0, ok=None):
    v = med(name, key)
    if v is None:
        return
    m, lo, hi = (x * scale for x in v)
    verdict = "" if ok is None else ("MET" if ok(m) else "NOT MET")
    num = lambda x: f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"
    spread = f"{num(lo)}–{num(hi)}" if len(runs[name]) > 1 else ""
    rows.append((what, f"{num(m)} {unit}".strip(), spread, goal, verdict))

mib = 1 / 1024
row("--demo: first byte on the terminal, ms", "demo-first-frame", "time_to_first_byte_ms", "", "ms")
row("--demo: first frame (header drawn), ms", "demo-first-frame", "time_to_first_frame_ms", "≤ 30", "ms", ok=lambda x: x <= 30)
row("--demo: backlog shown, ms", "demo-loaded", "time_to_first_frame_ms", "", "ms")
row("--demo idle, countdowns: B/s", "demo-idle", "steady_bytes_per_s", "≤ 300", ok=lambda x: x <= 300)
row("--demo idle, countdowns: writes/s", "demo-idle", "steady_bursts_per_s", "≤ 1", ok=lambda x: x <= 1)
row("--demo idle: CPU % (console + in-process sim)", "demo-idle", "steady_cpu_pct", "(≤ 0.3)")
row("--demo: RSS at end, MiB (incl. sim data)", "demo-idle", "rss_kb_at_end", "", "MiB", mib)
row("--demo, status closed (no clock): B/s", "demo-closed-idle", "steady_bytes_per_s", "0", ok=lambda x: x == 0)
row("--demo, status closed: writes/s", "demo-closed-idle", "steady_bursts_per_s", "")
row("replay of closed alerts: B/s", "replay-closed-idle", "steady_bytes_per_s", "0", ok=lambda x: x == 0)
row("replay of closed alerts: writes/s", "replay-closed-idle", "steady_bursts_per_s", "")
for n in sorted({int(re.match(r"sim(\d+)-", k).group(1)) for k in runs if re.match(r"sim\d+-", k)}):
    rss_goal = {10000: 24, 100000: 96}.get(n)
    row(f"simulator {n} (own process): ready, s", f"sim-start-{n}", "sim_start_s", "")
    row(f"console vs sim {n}: first byte, ms", f"sim{n}-first-frame", "time_to_first_byte_ms", "", "ms")
    row(f"console vs sim {n}: first frame, ms", f"sim{n}-first-frame", "time_to_first_frame_ms", "≤ 30", "ms", ok=lambda x: x <= 30)
    row(f"console vs sim {n}: loaded, ms", f"sim{n}-loaded", "time_to_first_frame_ms", "", "ms")
    row(f"console vs sim {n}: idle B/s", f"sim{n}-idle", "steady_bytes_per_s", "≤ 300", ok=lambda x: x <= 300)
    row(f"console vs sim {n}: idle writes/s", f"sim{n}-idle", "steady_bursts_per_s", "≤ 1", ok=lambda x: x <= 1)
    row(f"console vs sim {n}: idle CPU %", f"sim{n}-idle", "steady_cpu_pct", "≤ 0.3", ok=lambda x: x <= 0.3)
    row(f"console vs sim {n}: RSS at end, MiB", f"sim{n}-idle", "rss_kb_at_end", f"≤ {rss_goal}" if rss_goal else "", "MiB", mib,
        ok=(lambda x, g=rss_goal: x <= g) if rss_goal else None)
    row(f"console vs sim {n}: peak RSS (VmHWM), MiB", f"sim{n}-idle", "peak_rss_kb", "", "MiB", mib)

repeat = max((len(v) for v in runs.values()), default=0)
loads = sorted({r["loadavg_before"] for rs in runs.values() for r in rs if "loadavg_before" in r})
flagged = sorted(r["name"] for rs in runs.values() for r in rs if r.get("load_in_window") and "idle" in r.get("name", ""))
w = max(len(r[0]) for r in rows) if rows else 10
print()
print(f"{'':<{w}}  {'median':>12}  {'range':>15}  {'goal':>7}")
for what, v, spread, goal, verdict in rows:
    print(f"{what:<{w}}  {v:>12}  {spread:>15}  {goal:>7}  {verdict}")
if flagged:
    print("\nWARNING: the window of these runs still held the initial load: " + ", ".join(flagged))
print(f"\nload averages seen: {loads[0] if loads else '?'} … {loads[-1] if loads else '?'}  ({repeat} run(s); JSON in {out})")
json.dump({"rows": [dict(zip(["what", "median", "range", "goal", "verdict"], r)) for r in rows], "loadavg": loads},
          open(os.path.join(out, "summary.json"), "w"), indent=1)
PY
