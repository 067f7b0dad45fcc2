#!/usr/bin/python3
"""The demo's "monolith": the legacy app, reading and writing MariaDB.

    GET  /api/orders/{id}      an order with its items
    GET  /api/customers/{id}   a customer
    POST /api/orders           {"customer_id": N, "items": [{"sku", "qty",
                               "price"}]} -> 201 and the new order
    GET  /                     a small index page

usage: monolith.py PORT MARIADB_PORT
"""

import os
import re
import sys
import threading

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PORT = int(sys.argv[1])
DB_PORT = int(sys.argv[2])
local = threading.local()

INDEX = b"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>strangler demo</title></head><body>
<h1>strangler demo: the monolith</h1>
<p>Reads of <code>/api/orders/</code> are shared between this monolith and
the orders service; the <code>X-Strangler-Target</code> header says which
side answered.</p>
<ul>
<li><a href="/api/orders/1">/api/orders/1</a></li>
<li><a href="/api/customers/1">/api/customers/1</a></li>
<li><a href="/strangler/">/strangler/</a> the dashboard</li>
<li><a href="/strangler/status">/strangler/status</a> the status JSON</li>
</ul></body></html>
"""


def db():
    c = getattr(local, "conn", None)
    if c is None or not c.open:
        c = pymysql.connect(host="127.0.0.1", port=DB_PORT, user="shop",
                            password="shop-pw", database="shop",
                            autocommit=True, charset="utf8mb4")
        local.conn = c
    return c


def load_order(cur, oid):
    cur.execute("SELECT id, customer_id, status, total, created_at "
                "FROM orders WHERE id = %s", (oid,))
    row = cur.fetchone()
    if row is None:
        return None
    cur.execute("SELECT id, sku, qty, price FROM order_items "
                "WHERE order_id = %s ORDER BY id", (oid,))
    return common.order_doc(row, cur.fetchall())


class Handler(common.Handler):
    app_name = "monolith"

    def do_GET(self):
        try:
            self.get()
        except pymysql.MySQLError as e:
            local.conn = None
            self.reply(503, {"error": str(e)})

    do_HEAD = do_GET

    def get(self):
        if self.path == "/":
            self.reply(200, INDEX, "text/html; charset=utf-8")
            return
        m = re.fullmatch(r"/api/orders/(\d+)", self.path)
        if m:
            with db().cursor() as cur:
                doc = load_order(cur, int(m.group(1)))
            self.reply(200 if doc else 404, doc or {"error": "no such order"})
            return
        m = re.fullmatch(r"/api/customers/(\d+)", self.path)
        if m:
            with db().cursor() as cur:
                cur.execute("SELECT id, name, email FROM customers "
                            "WHERE id = %s", (int(m.group(1)),))
                row = cur.fetchone()
            if row is None:
                self.reply(404, {"error": "no such customer"})
            else:
                self.reply(200, {"id": row[0], "name": row[1],
                                 "email": row[2]})
            return
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path.rstrip("/") != "/api/orders":
            self.reply(404, {"error": "not found"})
            return
        try:
            req = self.body_json()
            items = req.get("items") or []
            total = sum(float(i["price"]) * int(i["qty"]) for i in items)
            conn = db()
            conn.begin()
            with conn.cursor() as cur:
                cur.execute("INSERT INTO orders (customer_id, status, total, "
                            "created_at) VALUES (%s, 'new', %s, "
                            "NOW())", (int(req["customer_id"]),
                                       "%.2f" % total))
                oid = cur.lastrowid
                for i in items:
                    cur.execute("INSERT INTO order_items (order_id, sku, "
                                "qty, price) VALUES (%s, %s, %s, %s)",
                                (oid, i["sku"], int(i["qty"]),
                                 "%.2f" % float(i["price"])))
                conn.commit()
                doc = load_order(cur, oid)
            self.reply(201, doc)
        except (KeyError, ValueError, TypeError) as e:
            self.reply(400, {"error": "bad order: %s" % e})
        except pymysql.MySQLError as e:
            local.conn = None
            self.reply(503, {"error": str(e)})


if __name__ == "__main__":
    common.Server(("127.0.0.1", PORT), Handler).serve_forever()
