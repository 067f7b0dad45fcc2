# Shared by the nginx benchmarks (sourced, not run): free ports, waiting
# for a listener, and nginx instances in $dir with the module loaded.
# The sourcing script sets: bench (its name, for messages), module, nginx,
# dir, pids (master pids its cleanup stops).

port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    i=0
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "$bench: nothing on :$1" >&2; exit 1; }
        sleep 0.05
    done
}

# start_nginx NAME HTTP_BODY: nginx in $dir/NAME, its master pid in $pids
start_nginx() {
    d=$dir/$1
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
        printf '%s\n' "$2"
        echo "}"
    } > "$d/nginx.conf"
    "$nginx" -p "$d" -c "$d/nginx.conf"
    pids="$pids $(cat "$d/nginx.pid")"
}

# start_backend: an nginx answering "return 200" on $be_port
start_backend() {
    be_port=$(port)
    start_nginx backend "
    server {
        listen 127.0.0.1:$be_port backlog=4096;
        keepalive_requests 1000000;
        location / { return 200 \"ok\n\"; }
    }"
    wait_port "$be_port"
}
