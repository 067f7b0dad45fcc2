#!/usr/bin/python3
"""The demo's shop traffic: keeps placing orders with POST /api/orders
through nginx (writes always go to the monolith), a few a second.

usage: writer.py NGINX_PORT CUSTOMERS [ORDERS_PER_SECOND]
"""

import json
import random
import sys
import time
import urllib.request

PORT = int(sys.argv[1])
CUSTOMERS = int(sys.argv[2])
RATE = float(sys.argv[3]) if len(sys.argv) > 3 else 4.0
SKUS = ["tea", "coffee", "mug", "kettle", "filter", "beans"]

rnd = random.Random(42)
while True:
    items = [{"sku": rnd.choice(SKUS), "qty": rnd.randint(1, 3),
              "price": "%.2f" % (rnd.randint(150, 4000) / 100)}
             for _ in range(rnd.randint(1, 3))]
    body = json.dumps({"customer_id": rnd.randint(1, CUSTOMERS),
                       "items": items}).encode()
    req = urllib.request.Request(
        "http://127.0.0.1:%d/api/orders" % PORT, data=body, method="POST",
        headers={"Content-Type": "application/json",
                 "Cookie": "uid=writer-%d" % rnd.randint(1, 50)})
    try:
        urllib.request.urlopen(req, timeout=5).read()
    except OSError as e:
        print("writer: %s" % e, file=sys.stderr, flush=True)
    time.sleep(1.0 / RATE)
