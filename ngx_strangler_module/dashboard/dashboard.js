/*
 * strangler dashboard.  Plain JS, no dependencies.  Polls the module's
 * status JSON and the lag files, draws a table of routes and one inline
 * SVG chart per service.  Each rendered element carries data-* attributes
 * with the raw values (data-route, data-percent, data-fallbacks,
 * data-errors-legacy/-service, data-service, data-lag-ms) so that tests
 * and scripts can read what the page shows.
 */
"use strict";

(function () {
    var params = new URLSearchParams(location.search);
    var STATUS_URL = params.get("status") || "status";
    var LAG_URL = params.get("lag") || "lag/";
    var REFRESH_MS = 1000 * (parseFloat(params.get("refresh")) || 2);
    var WINDOW_MS = 15 * 60 * 1000;
    var STORE_KEY = "strangler.lag." + location.host + location.pathname;

    var previous = null;        /* last status sample, for rates */

    function $(sel) { return document.querySelector(sel); }

    function el(tag, attrs, text) {
        var e = document.createElement(tag);
        var k;
        for (k in attrs || {}) {
            e.setAttribute(k, attrs[k]);
        }
        if (text !== undefined) {
            e.textContent = text;
        }
        return e;
    }

    function svgEl(tag, attrs) {
        var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
        var k;
        for (k in attrs || {}) {
            e.setAttribute(k, attrs[k]);
        }
        return e;
    }

    function fmtPercent(p) {
        return (Math.round(p * 100) / 100).toString() + "%";
    }

    function fmtLag(ms) {
        if (ms === null || ms === undefined || ms < 0) {
            return "unknown";
        }
        return ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(2) + " s";
    }

    /*
     * The module's status JSON, reduced to
     *   [{route, percent, service, legacy, req: [l, s], err: [l, s],
     *     fallbacks}]
     * where req/err are cumulative counts (err: 5xx answers of the side
     * itself; an error_page fallback's answer is in fallbacks).
     */
    function parseStatus(doc) {
        var out = [];
        var routes = doc.routes || [];
        routes.forEach(function (r) {
            var t = r.targets || r;
            var row = {
                route: r.route !== undefined ? r.route : r.name,
                percent: Number(r.percent) || 0,
                service: r.service || (t.service && t.service.upstream) || "",
                legacy: r.legacy || (t.legacy && t.legacy.upstream) || "",
                req: [0, 0],
                err: [0, 0],
                fallbacks: Number(r.fallbacks) || 0
            };
            ["legacy", "service"].forEach(function (side, i) {
                var s = t[side];
                if (s && typeof s === "object") {
                    row.req[i] = Number(s.requests) || 0;
                    row.err[i] = Number((s.responses || {})["5xx"]) || 0;
                }
            });
            out.push(row);
        });
        return out;
    }

    function renderRoutes(rows, now) {
        var tbody = $("#routes tbody");
        var prev = previous;
        var dt = prev ? (now - prev.time) / 1000 : 0;

        tbody.textContent = "";

        rows.forEach(function (r) {
            var tr = el("tr", {"class": "route", "data-route": r.route,
                               "data-percent": String(r.percent),
                               "data-requests-legacy": String(r.req[0]),
                               "data-requests-service": String(r.req[1]),
                               "data-fallbacks": String(r.fallbacks)});
            var p = prev && prev.rows[r.route];
            var bar = el("div", {"class": "bar"});
            var fill = el("div");
            var i, rate, d, e, since, attrs;

            fill.style.width = Math.max(0, Math.min(100, r.percent)) + "%";
            bar.appendChild(fill);

            tr.appendChild(el("td", {"class": "name"}, r.route));
            tr.appendChild(el("td", {"class": "percent num"},
                              fmtPercent(r.percent)));
            tr.appendChild(el("td")).appendChild(bar);

            for (i = 0; i < 2; i++) {
                if (p && dt > 0) {
                    rate = Math.max(0, r.req[i] - p.req[i]) / dt;
                    tr.appendChild(el("td", {"class": "num rate"},
                                      rate.toFixed(1) + " ("
                                      + r.req[i] + " total)"));
                } else {
                    tr.appendChild(el("td", {"class": "num rate muted"},
                                      String(r.req[i]) + " total"));
                }
            }

            /* 5xx share between refreshes; when a side had no requests
               in that interval, the share since the zone started */
            for (i = 0; i < 2; i++) {
                d = p ? r.req[i] - p.req[i] : 0;
                e = p ? r.err[i] - p.err[i] : 0;
                since = d <= 0;
                if (since) {
                    d = r.req[i];
                    e = r.err[i];
                }
                rate = d > 0 ? 100 * e / d : 0;
                attrs = {"class": "num errors" + (rate > 1 ? " bad" : "")
                                  + (since ? " total" : ""),
                         "title": since ? "since start" : "last interval"};
                attrs["data-errors-" + (i ? "service" : "legacy")] =
                    rate.toFixed(2);
                tr.appendChild(el("td", attrs, rate.toFixed(2) + "%"));
            }

            /* answers of an error_page fallback after a failed answer */
            if (p && dt > 0) {
                rate = Math.max(0, r.fallbacks - p.fallbacks) / dt;
                tr.appendChild(el("td", {"class": "num fallbacks"
                                                  + (rate > 0 ? " bad" : "")},
                                  rate.toFixed(1) + " (" + r.fallbacks
                                  + " total)"));
            } else {
                tr.appendChild(el("td", {"class": "num fallbacks muted"},
                                  String(r.fallbacks) + " total"));
            }

            tbody.appendChild(tr);
        });

        previous = {time: now, rows: {}};
        rows.forEach(function (r) { previous.rows[r.route] = r; });
    }

    /* lag file text "v=1 updated_ms=… lag_ms=… …" -> object of numbers */
    function parseLag(text) {
        var out = {};
        text.trim().split(/\s+/).forEach(function (kv) {
            var i = kv.indexOf("=");
            if (i > 0) {
                var k = kv.slice(0, i), v = kv.slice(i + 1);
                out[k] = k === "service" ? v : Number(v);
            }
        });
        if (out.v !== 1 || isNaN(out.updated_ms) || isNaN(out.lag_ms)) {
            return null;
        }
        return out;
    }

    function loadHistory() {
        try {
            return JSON.parse(localStorage.getItem(STORE_KEY)) || {};
        } catch (e) {
            return {};
        }
    }

    function saveHistory(h) {
        try {
            localStorage.setItem(STORE_KEY, JSON.stringify(h));
        } catch (e) {
            /* private mode or full: the chart still works for this page */
        }
    }

    function chart(points, now) {
        var W = 600, H = 140, L = 44, B = 18;
        var svg = svgEl("svg", {"class": "chart",
                                "viewBox": "0 0 " + W + " " + H,
                                "preserveAspectRatio": "none"});
        var max = 1000, d = "", i, x, y, t;

        points.forEach(function (p) { if (p[1] > max) { max = p[1]; } });

        svg.appendChild(svgEl("line", {"class": "axis", x1: L, y1: H - B,
                                       x2: W, y2: H - B}));
        svg.appendChild(svgEl("line", {"class": "axis", x1: L, y1: 0,
                                       x2: L, y2: H - B}));

        t = svgEl("text", {x: 2, y: 10});
        t.textContent = fmtLag(max);
        svg.appendChild(t);
        t = svgEl("text", {x: 2, y: H - B});
        t.textContent = "0";
        svg.appendChild(t);
        t = svgEl("text", {x: L, y: H - 4});
        t.textContent = "-15 min";
        svg.appendChild(t);
        t = svgEl("text", {x: W - 24, y: H - 4});
        t.textContent = "now";
        svg.appendChild(t);

        for (i = 0; i < points.length; i++) {
            if (points[i][1] < 0) {
                continue;
            }
            x = L + (W - L) * (1 - (now - points[i][0]) / WINDOW_MS);
            y = (H - B) * (1 - points[i][1] / max);
            d += (d ? " L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
        }

        if (d) {
            svg.appendChild(svgEl("path", {"class": "line", d: d}));
        }

        return svg;
    }

    function renderServices(lags, now) {
        var box = $("#services");
        var hist = loadHistory();
        var names = Object.keys(lags).sort();

        names.forEach(function (n) {
            var l = lags[n];
            var pts = hist[n] || [];
            pts.push([now, l && l.fresh ? l.lag_ms : -1]);
            hist[n] = pts;
        });

        Object.keys(hist).forEach(function (n) {
            hist[n] = hist[n].filter(function (p) {
                return now - p[0] <= WINDOW_MS;
            });
            if (hist[n].length === 0) {
                delete hist[n];
            }
        });

        saveHistory(hist);
        box.textContent = "";

        if (names.length === 0) {
            box.appendChild(el("p", {"class": "muted"},
                               "no lag files found at " + LAG_URL));
        }

        names.forEach(function (n) {
            var l = lags[n];
            var ok = l && l.fresh;
            var div = el("div", {"class": "service" + (ok ? "" : " stale"),
                                 "data-service": n,
                                 "data-lag-ms": ok ? String(l.lag_ms) : "",
                                 "data-pending": l ? String(l.pending) : "",
                                 "data-points":
                                     String((hist[n] || []).length)});
            div.appendChild(el("h3", null, n));
            div.appendChild(el("span", {"class": "lag"},
                               ok ? fmtLag(l.lag_ms)
                                  : (l ? "stale" : "unreadable")));
            if (l) {
                div.appendChild(el("span", {"class": "muted"},
                    "  pending " + l.pending + ", written "
                    + ((now - l.updated_ms) / 1000).toFixed(1) + " s ago"));
            }
            div.appendChild(chart(hist[n] || [], now));
            box.appendChild(div);
        });
    }

    function getText(url) {
        return fetch(url, {cache: "no-store"}).then(function (r) {
            if (!r.ok) {
                throw new Error(url + ": HTTP " + r.status);
            }
            return r.text();
        });
    }

    /* the lag directory's autoindex JSON, then each file */
    function fetchLags() {
        return getText(LAG_URL).then(function (text) {
            var list = JSON.parse(text).filter(function (f) {
                return f.type === "file" && !/\.tmp$/.test(f.name)
                       && f.name.charAt(0) !== ".";
            });
            return Promise.all(list.map(function (f) {
                return getText(LAG_URL + encodeURIComponent(f.name))
                    .then(parseLag, function () { return null; })
                    .then(function (l) { return [f.name, l]; });
            }));
        }).then(function (pairs) {
            var out = {}, now = Date.now();
            pairs.forEach(function (p) {
                if (p[1]) {
                    p[1].fresh = now - p[1].updated_ms < 10000
                                 && p[1].lag_ms >= 0;
                }
                out[p[0]] = p[1];
            });
            return out;
        });
    }

    function refresh() {
        var now = Date.now();
        var errors = [];

        var st = getText(STATUS_URL).then(function (t) {
            renderRoutes(parseStatus(JSON.parse(t)), now);
        }).catch(function (e) { errors.push("status: " + e.message); });

        var lg = fetchLags().then(function (lags) {
            renderServices(lags, now);
        }).catch(function (e) { errors.push("lag: " + e.message); });

        return Promise.all([st, lg]).then(function () {
            var err = $("#error");
            $("#updated").textContent = "updated "
                + new Date(now).toLocaleTimeString();
            $("#updated").setAttribute("data-updated-ms", String(now));
            err.hidden = errors.length === 0;
            err.textContent = errors.join("; ");
            document.body.setAttribute("data-ready", "1");
        });
    }

    function loop() {
        refresh().then(function () { setTimeout(loop, REFRESH_MS); });
    }

    loop();
}());
