"""Shared by the demo's stand-in apps: the JSON an order renders to (the
same for the monolith and the orders service, so a client cannot tell which
side answered except by the X-Strangler-Target header nginx adds) and a
small threaded HTTP server."""

import datetime
import decimal
import http.server
import json
import socketserver


def fmt_value(v):
    if isinstance(v, decimal.Decimal):
        return "%.2f" % v
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


def order_doc(order, items):
    """order: (id, customer_id, status, total, created_at);
    items: [(id, sku, qty, price)] ordered by id."""
    oid, cust, status, total, created = order
    return {
        "id": int(oid),
        "customer_id": int(cust),
        "status": fmt_value(status),
        "total": fmt_value(total),
        "created_at": fmt_value(created),
        "items": [{"id": int(i[0]), "sku": fmt_value(i[1]),
                   "qty": int(i[2]), "price": fmt_value(i[3])}
                  for i in items],
    }


def dumps(doc):
    return (json.dumps(doc, sort_keys=True, separators=(",", ":"))
            + "\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    app_name = "app"

    def log_message(self, *a):
        pass

    def reply(self, status, doc, ctype="application/json"):
        body = doc if isinstance(doc, bytes) else dumps(doc)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-App", self.app_name)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
