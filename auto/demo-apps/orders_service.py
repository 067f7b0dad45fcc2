#!/usr/bin/python3
"""The demo's "orders service": the extracted service, reading its own
PostgreSQL database (filled by `cdc-bridge sink --service orders`).

    GET /api/orders/{id}   the same JSON the monolith gives for that order

usage: orders_service.py PORT POSTGRES_DSN
"""

import os
import re
import sys
import threading

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PORT = int(sys.argv[1])
DSN = sys.argv[2]
local = threading.local()


def db():
    c = getattr(local, "conn", None)
    if c is None or c.closed:
        c = psycopg2.connect(DSN)
        c.autocommit = True
        local.conn = c
    return c


class Handler(common.Handler):
    app_name = "orders-service"

    def do_GET(self):
        m = re.fullmatch(r"/api/orders/(\d+)", self.path)
        if not m:
            self.reply(404, {"error": "not found"})
            return
        oid = int(m.group(1))
        try:
            with db().cursor() as cur:
                cur.execute("SELECT id, customer_id, status, total, "
                            "created_at FROM orders WHERE id = %s", (oid,))
                row = cur.fetchone()
                items = []
                if row is not None:
                    cur.execute("SELECT id, sku, qty, price FROM order_items"
                                " WHERE order_id = %s ORDER BY id", (oid,))
                    items = cur.fetchall()
        except psycopg2.Error as e:
            local.conn = None
            self.reply(503, {"error": str(e).strip()})
            return
        if row is None:
            self.reply(404, {"error": "no such order"})
        else:
            self.reply(200, common.order_doc(row, items))

    do_HEAD = do_GET

    def do_POST(self):
        self.reply(405, {"error": "writes go to the monolith"})


if __name__ == "__main__":
    common.Server(("127.0.0.1", PORT), Handler).serve_forever()
