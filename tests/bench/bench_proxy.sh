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
# Each configuration is measured ROUNDS times, interleaved, and the best
# run counts (the machine is shared: the best is the least disturbed).
# Uses the non-ASan build/ngx_http_strangler_module.so (make module).
#
# Environment: DURATION (s per run, default 5), ROUNDS (default 3),
# CONNS (wrk connections, default 32), NGINX (default /usr/sbin/nginx).

set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
module=${MODULE:-$top/build/ngx_http_strangler_module.so}
nginx=${NGINX:-/usr/sbin/nginx}
duration=${DURATION:-5}
rounds=${ROUNDS:-3}
conns=${CONNS:-32}

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

port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    i=0
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "bench_proxy: nothing on :$1" >&2; exit 1; }
        sleep 0.05
    done
}

# main NAME HTTP_BODY -> starts nginx in $dir/NAME, echoes its master pid
start_nginx() {
    name=$1
    body=$2
    d=$dir/$name
    mkdir -p "$d"
    {
        [ "$(id -u)" = 0 ] && echo "user root;"
        echo "load_module $module;"
        echo "worker_processes 1;"
        echo "pid $d/nginx.pid;"
        echo "error_log $d/error.log warn;"
        echo "events { worker_connections 4096; }"
        echo "http {"
        echo "    access_log off;"
        for t in client_body proxy fastcgi uwsgi scgi; do
            echo "    ${t}_temp_path $d/$t;"
        done
        printf '%s\n' "$body"
        echo "}"
    } > "$d/nginx.conf"
    "$nginx" -p "$d" -c "$d/nginx.conf"
    pids="$pids $(cat "$d/nginx.pid")"
}

be_port=$(port)
start_nginx backend "
    server {
        listen 127.0.0.1:$be_port backlog=4096;
        keepalive_requests 1000000;
        location / { return 200 \"ok\n\"; }
    }"
wait_port "$be_port"

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

run_wrk() {
    wrk -t1 -c"$conns" -d"${duration}s" --latency \
        "http://127.0.0.1:$1/api/orders/42" 2>&1 \
        | awk '/Requests\/sec/ { print $2 }'
}

# sanity: each front answers through its route
for p in $p_plain $p_var $p_split $p_mod1 $p_mod1000; do
    curl -sf "http://127.0.0.1:$p/api/orders/42" >/dev/null \
        || { echo "bench_proxy: :$p does not answer" >&2; exit 1; }
done

best_plain=0 best_var=0 best_split=0 best_mod1=0 best_mod1000=0

max() {
    awk -v a="$1" -v b="$2" 'BEGIN { print (a > b) ? a : b }'
}

# warm up
for p in $p_plain $p_var $p_split $p_mod1 $p_mod1000; do
    wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$p/api/orders/42" >/dev/null 2>&1
done

r=1
while [ $r -le "$rounds" ]; do
    v=$(run_wrk "$p_plain");   best_plain=$(max "$best_plain" "$v")
    v=$(run_wrk "$p_var");     best_var=$(max "$best_var" "$v")
    v=$(run_wrk "$p_split");   best_split=$(max "$best_split" "$v")
    v=$(run_wrk "$p_mod1");    best_mod1=$(max "$best_mod1" "$v")
    v=$(run_wrk "$p_mod1000"); best_mod1000=$(max "$best_mod1000" "$v")
    echo "round $r: plain $best_plain plain_var $best_var" \
         "split_map $best_split" \
         "module_1 $best_mod1 module_1000 $best_mod1000 (best so far)"
    r=$((r + 1))
done

# the module really routed: its zone counted the requests
curl -sf "http://127.0.0.1:$p_mod1/api/orders/1" >/dev/null

echo
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "wrk -t1 -c$conns -d${duration}s, best of $rounds, 1 nginx worker, return-200 nginx backend"
awk -v p="$best_plain" -v pv="$best_var" -v s="$best_split" -v m1="$best_mod1" \
    -v m2="$best_mod1000" 'BEGIN {
    printf "%-28s %10s %8s\n", "configuration", "req/s", "ratio"
    printf "%-28s %10.0f %8.3f\n", "plain proxy_pass", p, 1
    printf "%-28s %10.0f %8.3f\n", "proxy_pass http://$var", pv, pv / p
    printf "%-28s %10.0f %8.3f\n", "split_clients + map", s, s / p
    printf "%-28s %10.0f %8.3f\n", "strangler, 1 route", m1, m1 / p
    printf "%-28s %10.0f %8.3f\n", "strangler, 1,000 routes", m2, m2 / p
    printf "target: 1,000 routes >= 0.97 x plain: %s\n",
           (m2 / p >= 0.97) ? "met" : "NOT met"
}'
