#!/usr/bin/env bash
# The per-request cost of the lag gate, all in one run on 127.0.0.1:
#
#   nogate   strangler_route /api/orders/ { ... percent 100; }
#   gate     the same route with "max_lag 2s; lag_source FILE;"
#   gate_rw  the same again with "read_your_writes on;" (each request's
#            Cookie header is searched for the rw cookie; none is sent)
#
# percent 100, so every request reaches the gate (the split's service
# side) and passes it: a loop rewrites the lag file every 200 ms with a
# fresh updated_ms and lag_ms=100, as the sink does.  A sanity check
# first asserts each front answers with reason "split" on the service,
# and that the gated fronts send to legacy (reason "lag") while the file
# is stale, so the gate is really evaluated.
#
# Front nginx: 1 worker, upstream keepalive; backend: nginx "return 200".
# wrk -t1 -cCONNS for DURATION s per configuration, ROUNDS rounds
# interleaved (each round starting with the next configuration); printed: the best round's req/s, the front worker's CPU
# time per request over all rounds, and the ratios to nogate.  Then,
# unless VALGRIND=0, each front once more under callgrind, single
# process, VG_REQUESTS pipelined requests: user-space instructions per
# request (undisturbed by other load; the lag file's re-read, at most
# every 100 ms, is amortized in it as in production).  Target: gate within
# 2% of nogate (ratio >= 0.98).
#
# Environment: DURATION (default 3), ROUNDS (default 6), CONNS (default
# 32), VG_REQUESTS (default 3000), NGINX (default /usr/sbin/nginx),
# MODULE (default build/ngx_http_strangler_module.so, the -O2 build).

set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
module=${MODULE:-$top/build/ngx_http_strangler_module.so}
nginx=${NGINX:-/usr/sbin/nginx}
duration=${DURATION:-3}
rounds=${ROUNDS:-6}
conns=${CONNS:-32}
vg_requests=${VG_REQUESTS:-3000}
names="nogate gate gate_rw"

[ -f "$module" ] || { echo "bench_lag_gate: $module is missing: run make module" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench_lag_gate: wrk is missing" >&2; exit 1; }

dir=$(mktemp -d /tmp/strangler-lagbench.XXXXXX)
pids=""
writer=""

cleanup() {
    [ -n "$writer" ] && kill "$writer" 2>/dev/null || true
    for p in $pids; do
        kill -QUIT "$p" 2>/dev/null || true
    done
    sleep 0.3
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

bench=bench_lag_gate
. "$top/tests/bench/lib_nginx.sh"

lagfile=$dir/lag-orders

write_lag() {
    # write_lag AGE_MS: a lag file written AGE_MS ago, lag 100 ms
    now=$(date +%s%3N)
    u=$((now - $1))
    echo "v=1 updated_ms=$u lag_ms=100 watermark_ms=$((u - 100)) pending=0 service=orders" \
        > "$lagfile.tmp"
    mv -f "$lagfile.tmp" "$lagfile"
}

start_writer() {
    ( while :; do write_lag 0; sleep 0.2; done ) &
    writer=$!
}

stop_writer() {
    kill "$writer" 2>/dev/null || true
    wait "$writer" 2>/dev/null || true
    writer=""
}

start_backend

front() {
    # front NAME ROUTE_EXTRA -> port
    fp=$(port)
    start_nginx "$1" "
    upstream legacy  { server 127.0.0.1:$be_port; keepalive 64; }
    upstream service { server 127.0.0.1:$be_port; keepalive 64; }
    strangler_zone strangler 1m;
    strangler_route /api/orders/ {
        service service;
        legacy  legacy;
        percent 100;
$2
    }
    server {
        listen 127.0.0.1:$fp backlog=4096;
        keepalive_requests 1000000;
        location / {
            strangler on;
            proxy_pass http://\$strangler_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            add_header X-Decision \"\$strangler_target \$strangler_reason\";
        }
    }" >/dev/null
    wait_port "$fp"
    echo "$fp"
}

start_writer
p_nogate=$(front nogate "")
p_gate=$(front gate "        max_lag 2s;
        lag_source $lagfile;")
p_gate_rw=$(front gate_rw "        max_lag 2s;
        lag_source $lagfile;
        read_your_writes on;")

port_of() {
    case $1 in
        nogate) echo "$p_nogate" ;;
        gate) echo "$p_gate" ;;
        gate_rw) echo "$p_gate_rw" ;;
    esac
}

decision() {
    curl -sf -o /dev/null -D - "http://127.0.0.1:$(port_of "$1")/api/orders/42" \
        | awk -F': ' 'tolower($1) == "x-decision" { sub("\r", "", $2); print $2 }'
}

sleep 0.3
for n in $names; do
    d=$(decision "$n")
    [ "$d" = "service split" ] || {
        echo "bench_lag_gate: $n decided \"$d\", not \"service split\"" >&2
        exit 1
    }
    echo "0 0 0" > "$dir/$n.res"
done

# the gate is evaluated: a stale file sends the gated fronts to legacy
stop_writer
write_lag 5000
sleep 0.3
for n in gate gate_rw; do
    d=$(decision "$n")
    [ "$d" = "legacy lag" ] || {
        echo "bench_lag_gate: $n with a stale lag file decided \"$d\"" >&2
        exit 1
    }
done
start_writer
sleep 0.3
for n in $names; do
    [ "$(decision "$n")" = "service split" ] || {
        echo "bench_lag_gate: $n not back on the service" >&2; exit 1; }
done

worker_ticks() {
    w=$(pgrep -P "$(cat "$dir/$1/nginx.pid")" | head -1)
    awk '{ print $14 + $15 }' "/proc/$w/stat"
}

for n in $names; do
    wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$(port_of "$n")/api/orders/42" \
        >/dev/null 2>&1
done

r=1
while [ "$r" -le "$rounds" ]; do
    line="round $r:"
    # each round starts with the next configuration: no fixed order bias
    case $(( (r - 1) % 3 )) in
        0) order="nogate gate gate_rw" ;;
        1) order="gate gate_rw nogate" ;;
        *) order="gate_rw nogate gate" ;;
    esac
    for n in $order; do
        t0=$(worker_ticks "$n")
        out=$(wrk -t1 -c"$conns" -d"${duration}s" \
              "http://127.0.0.1:$(port_of "$n")/api/orders/42" 2>&1)
        t1=$(worker_ticks "$n")
        if echo "$out" | grep -q "Non-2xx"; then
            echo "bench_lag_gate: $n answered non-2xx:" >&2
            echo "$out" >&2
            exit 1
        fi
        rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
        reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
        read -r best tot ticks < "$dir/$n.res"
        awk -v b="$best" -v t="$tot" -v k="$ticks" -v rps="$rps" \
            -v q="$reqs" -v d=$((t1 - t0)) \
            'BEGIN { print (rps > b ? rps : b), t + q, k + d }' \
            > "$dir/$n.res"
        line="$line $n $rps"
    done
    echo "$line"
    r=$((r + 1))
done

# the file stayed fresh: every front still passes the gate
for n in $names; do
    [ "$(decision "$n")" = "service split" ] || {
        echo "bench_lag_gate: $n left the service during the run" >&2; exit 1; }
done

hz=$(getconf CLK_TCK)
echo
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t1 -c$conns -d${duration}s x $rounds rounds, interleaved;" \
     "1 front nginx worker; return-200 nginx backend; percent 100"
for n in $names; do
    read -r best tot ticks < "$dir/$n.res"
    echo "$n $best $tot $ticks"
done | awk -v hz="$hz" '
    { name[NR] = $1; rps[NR] = $2; us[NR] = $4 / hz * 1e6 / $3 }
    END {
        printf "%-10s %9s %7s %12s %9s\n", "config", "req/s", "ratio",
               "CPU us/req", "CPU ratio"
        for (i = 1; i <= NR; i++) {
            printf "%-10s %9.0f %7.3f %12.2f %9.3f\n", name[i], rps[i],
                   rps[i] / rps[1], us[i], us[1] / us[i]
        }
        printf "target: gate >= 0.98 x nogate: req/s %s, CPU %s\n",
               (rps[2] / rps[1] >= 0.98) ? "met" : "NOT met",
               (us[1] / us[2] >= 0.98) ? "met" : "NOT met"
    }'

[ "${VALGRIND:-1}" = 0 ] && exit 0
command -v valgrind >/dev/null || { echo "(valgrind missing: no Ir figures)"; exit 0; }

ir() {
    # ir NAME -> user-space instructions per request of that front
    d=$dir/$1
    vp_port=$(port)
    sed -e "s|^pid .*|pid $d/vg.pid;|" \
        -e "s|listen 127.0.0.1:[0-9]*|listen 127.0.0.1:$vp_port|" \
        -e "s|^worker_processes 1;|worker_processes 1; daemon off; master_process off;|" \
        "$d/nginx.conf" > "$d/vg.conf"
    valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$d/callgrind.out" \
        "$nginx" -p "$d" -c "$d/vg.conf" > "$d/valgrind.log" 2>&1 &
    vpid=$!
    wait_port "$vp_port"
    load() {
        /usr/bin/python3 -c "
import sys
sys.path.insert(0, '$top/tests/lib')
import harness
r = harness.http_pipeline($vp_port, ['/api/orders/42'] * $1, batch=500)
bad = [x for x in r if x[0] != 200
       or x[1].get('x-decision') != 'service split']
assert not bad, bad[:3]"
    }
    load 200
    callgrind_control -i on "$vpid" >/dev/null 2>&1
    load "$vg_requests"
    callgrind_control -i off "$vpid" >/dev/null 2>&1
    kill -QUIT "$vpid"
    wait "$vpid" || true
    callgrind_annotate "$d/callgrind.out" 2>/dev/null \
        | awk -v n="$vg_requests" '/PROGRAM TOTALS/ {
              gsub(",", "", $1); printf "%d\n", $1 / n }'
}

echo
echo "callgrind: user-space instructions per request ($vg_requests requests" \
     "pipelined, 1 process, every answer checked: service split)"
for n in $names; do
    echo "$n $(ir "$n")"
done | awk '
    { name[NR] = $1; ir[NR] = $2 }
    END {
        printf "%-10s %12s %9s %10s\n", "config", "Ir/request", "Ir ratio",
               "extra Ir"
        for (i = 1; i <= NR; i++) {
            printf "%-10s %12d %9.3f %10d\n", name[i], ir[i], ir[1] / ir[i],
                   ir[i] - ir[1]
        }
        printf "target: gate >= 0.98 x nogate in Ir: %s\n",
               (ir[1] / ir[2] >= 0.98) ? "met" : "NOT met"
    }'
