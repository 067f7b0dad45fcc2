#!/usr/bin/env bash
# Throughput of routing in nginx, all in one run on 127.0.0.1, with wrk:
#
#   plain        proxy_pass http://legacy;                      (baseline)
#   plain_var    proxy_pass http://$b; with "set $b legacy;" (what any
#                variable upstream costs, for reference)
#   split_map    split_clients + map choosing the upstream
#   module_1     ngx_strangler_module, 1 route
#   module_1000  ngx_strangler_module, 1,000 routes (longest prefix among
#                1,000, the request's route in the middle of the table)
#
# Front nginx: 1 worker, upstream keepalive; backends: nginx "return 200".
# Each configuration is measured ROUNDS times, interleaved.  Printed: the
# best round's req/s (the machine is shared: the best is the least
# disturbed) and the front worker's CPU time per request over all rounds,
# which other load on the machine disturbs much less; "CPU ratio" is
# plain's CPU per request over this one's (1.0 = costs the same).
# Uses the non-ASan build/ngx_http_strangler_module.so (make module).
#
# Then, unless VALGRIND=0, the same front configurations run once more,
# single-process under valgrind's callgrind, and serve a fixed number of
# requests: user-space instructions per request, which no other load on
# the machine can disturb (kernel time, mostly the sockets, is not in it,
# so these ratios overstate any difference).
#
# Environment: DURATION (s per run, default 3), ROUNDS (default 6),
# CONNS (wrk connections, default 32), NGINX (default /usr/sbin/nginx).

set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
module=${MODULE:-$top/build/ngx_http_strangler_module.so}
nginx=${NGINX:-/usr/sbin/nginx}
duration=${DURATION:-3}
rounds=${ROUNDS:-6}
conns=${CONNS:-32}
vg_requests=${VG_REQUESTS:-3000}

if [ ! -f "$module" ]; then
    echo "bench_proxy: $module is missing: run make module" >&2
    exit 1
fi

command -v wrk >/dev/null || { echo "bench_proxy: wrk is missing" >&2; exit 1; }

dir=$(mktemp -d /tmp/strangler-bench.XXXXXX)
pids=""

cleanup() {
    for p in $pids; do
        kill -QUIT "$p" 2>/dev/null || true
    done
    sleep 0.3
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

bench=bench_proxy
. "$top/tests/bench/lib_nginx.sh"

start_backend

upstreams="
    upstream legacy  { server 127.0.0.1:$be_port; keepalive 64; }
    upstream service { server 127.0.0.1:$be_port; keepalive 64; }"

proxy="
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";"

front() {
    # front NAME HTTP_EXTRA LOCATION_BODY -> port
    fp=$(port)
    start_nginx "$1" "$upstreams
$2
    server {
        listen 127.0.0.1:$fp backlog=4096;
        keepalive_requests 1000000;
        location / {
$3
$proxy
        }
    }" >/dev/null
    wait_port "$fp"
    echo "$fp"
}

routes_1000=$(i=0; while [ $i -lt 1000 ]; do
    if [ $i = 500 ]; then
        echo "    strangler_route /api/orders/ { service service; legacy legacy; percent 25; }"
    else
        echo "    strangler_route /api/r$i/ { service service; legacy legacy; percent 25; }"
    fi
    i=$((i + 1))
done)

p_plain=$(front plain "" "            proxy_pass http://legacy;")

p_var=$(front plain_var "" '            set $b legacy;
            proxy_pass http://$b;')

p_split=$(front split_map '
    map $uri $orders_route {
        ~^/api/orders/  1;
        default         0;
    }
    split_clients "orders${remote_addr}" $orders_side {
        25%  service;
        *    legacy;
    }
    map $orders_route $backend {
        1        $orders_side;
        default  legacy;
    }' '            proxy_pass http://$backend;')

p_mod1=$(front module_1 "
    strangler_zone strangler 1m;
    strangler_route /api/orders/ { service service; legacy legacy; percent 25; }" \
'            strangler on;
            proxy_pass http://$strangler_upstream;')

p_mod1000=$(front module_1000 "
    strangler_zone strangler 4m;
$routes_1000" \
'            strangler on;
            proxy_pass http://$strangler_upstream;')

names="plain plain_var split_map module_1 module_1000"
port_of() {
    case $1 in
        plain) echo "$p_plain" ;;
        plain_var) echo "$p_var" ;;
        split_map) echo "$p_split" ;;
        module_1) echo "$p_mod1" ;;
        module_1000) echo "$p_mod1000" ;;
    esac
}

# CPU ticks (user + system) of the front's worker so far
worker_ticks() {
    w=$(pgrep -P "$(cat "$dir/$1/nginx.pid")" | head -1)
    awk '{ print $14 + $15 }' "/proc/$w/stat"
}

# sanity: each front answers through its route
for n in $names; do
    curl -sf "http://127.0.0.1:$(port_of "$n")/api/orders/42" >/dev/null \
        || { echo "bench_proxy: $n does not answer" >&2; exit 1; }
    echo "0 0 0" > "$dir/$n.res"     # best req/s, requests, CPU ticks
done

# warm up
for n in $names; do
    wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$(port_of "$n")/api/orders/42" \
        >/dev/null 2>&1
done

r=1
while [ "$r" -le "$rounds" ]; do
    line="round $r:"
    for n in $names; do
        t0=$(worker_ticks "$n")
        out=$(wrk -t1 -c"$conns" -d"${duration}s" \
              "http://127.0.0.1:$(port_of "$n")/api/orders/42" 2>&1)
        t1=$(worker_ticks "$n")
        rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
        reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
        if echo "$out" | grep -q "Non-2xx"; then
            echo "bench_proxy: $n answered non-2xx:" >&2
            echo "$out" >&2
            exit 1
        fi
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

hz=$(getconf CLK_TCK)

echo
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "load average before the summary: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t1 -c$conns -d${duration}s x $rounds rounds, interleaved;" \
     "1 front nginx worker; return-200 nginx backend"
echo "req/s: the best round (least disturbed); CPU: front worker CPU time" \
     "per request over all rounds"
for n in $names; do
    read -r best tot ticks < "$dir/$n.res"
    echo "$n $best $tot $ticks"
done | awk -v hz="$hz" '
    { name[NR] = $1; rps[NR] = $2; us[NR] = $4 / hz * 1e6 / $3 }
    END {
        label["plain"] = "plain proxy_pass"
        label["plain_var"] = "proxy_pass http://$var"
        label["split_map"] = "split_clients + map"
        label["module_1"] = "strangler, 1 route"
        label["module_1000"] = "strangler, 1,000 routes"
        printf "%-26s %9s %7s %12s %9s\n", "configuration", "req/s",
               "ratio", "CPU us/req", "CPU ratio"
        for (i = 1; i <= NR; i++) {
            printf "%-26s %9.0f %7.3f %12.2f %9.3f\n", label[name[i]],
                   rps[i], rps[i] / rps[1], us[i], us[1] / us[i]
        }
        printf "target: 1,000 routes >= 0.97 x plain: req/s %s, CPU %s\n",
               (rps[5] / rps[1] >= 0.97) ? "met" : "NOT met",
               (us[1] / us[5] >= 0.97) ? "met" : "NOT met"
    }'

[ "${VALGRIND:-1}" = 0 ] && exit 0
command -v valgrind >/dev/null || { echo "(valgrind missing: no Ir figures)"; exit 0; }

# ir NAME -> user-space instructions per request of that front
ir() {
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
assert all(x[0] == 200 for x in r)"
    }
    load 200                          # warm: connections, first requests
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
     "pipelined, 1 process)"
for n in $names; do
    echo "$n $(ir "$n")"
done | awk '
    { name[NR] = $1; ir[NR] = $2 }
    END {
        printf "%-26s %12s %9s\n", "configuration", "Ir/request", "Ir ratio"
        for (i = 1; i <= NR; i++) {
            printf "%-26s %12d %9.3f\n", name[i], ir[i], ir[1] / ir[i]
        }
    }'
