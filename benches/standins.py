#!/usr/bin/env python3
"""One HTTP stand-in for every service pane of the bundled runbook, for benchmarks only (the
tests use tests/support/*). `standins.py answer|hang`: prints its URL, then serves until killed.

answer: Jenkins' job JSON with no builds, Sentry's and GitHub's issue lists empty, Graphite's
render and Prometheus' query_range with no series: each pane polls and shows "nothing yet".
hang: accepts every connection and never answers (every client waits for its time limit).
"""
import http.server
import json
import socketserver
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if MODE == "hang":
            threading.Event().wait()
        path = self.path.split("?", 1)[0]
        if "/job/" in path:
            body = {"builds": []}
        elif path.endswith("/query_range"):
            body = {"status": "success", "data": {"resultType": "matrix", "result": []}}
        else:
            body = []
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


MODE = sys.argv[1] if len(sys.argv) > 1 else "answer"

if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    print(f"http://127.0.0.1:{srv.server_address[1]}", flush=True)
    srv.serve_forever()
