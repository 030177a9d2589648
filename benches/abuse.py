#!/usr/bin/env python3
"""Measure what hostile requests cost a running orgraph binary (see docs/reference/limits.md).

    python3 benches/abuse.py [path/to/orgraph]   (default: target/release/orgraph)

Starts the binary on a fresh SQLite file (and, with DATABASE_URL=postgres://..., on a fresh
PostgreSQL database), sends each attack, and prints wall time, the server's CPU time and its
resident memory (peak and growth) from /proc. Run it against two builds to compare them.
"""

import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/orgraph"
POOL, SECRET = "abusepool", "abuse-secret-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_stats(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) // 1024
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) // 1024
    return cpu, rss, hwm


def post(port, path, body, token=None, timeout=600):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Server:
    def __init__(self, db_url, extra_env=None, args=(), allow_loopback=True):
        self.port = free_port()
        env = dict(os.environ, ORGRAPH_LOG="warn", ORGRAPH_BOOTSTRAP_POOL_ID=POOL, ORGRAPH_BOOTSTRAP_POOL_SECRET=SECRET,
                   ORGRAPH_MAX_IMPORT_BYTES=str(256 << 20), **(extra_env or {}))
        if allow_loopback:
            env["ORGRAPH_WEBHOOK_ALLOW_HOSTS"] = "127.0.0.1"
        self.proc = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{self.port}", "--database-url", db_url, *args],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1)
                break
            except Exception:
                time.sleep(0.05)

    def token(self, pool=POOL, secret=SECRET):
        _, r = post(self.port, "/graphql", {"query": "query($p: String!, $s: String!) { accessToken(userPoolId: $p, secret: $s) { accessToken } }",
                                             "variables": {"p": pool, "s": secret}})
        return r["data"]["accessToken"]["accessToken"]

    def measure(self, label, action):
        cpu0, rss0, _ = proc_stats(self.proc.pid)
        t0 = time.time()
        result = action()
        wall = time.time() - t0
        cpu1, rss1, hwm = proc_stats(self.proc.pid)
        print(f"  {label}: {wall*1000:,.0f} ms wall, {(cpu1-cpu0)*1000:,.0f} ms CPU, RSS {rss0} -> {rss1} MiB (peak {hwm} MiB); {result}")
        return result

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def summary(answer):
    if isinstance(answer, tuple):
        status, body = answer
        if isinstance(body, dict) and body.get("errors"):
            e = body["errors"][0]
            return f"HTTP {status} {e.get('extensions', {}).get('code')}: {str(e.get('message'))[:80]}"
        if isinstance(body, dict) and body.get("code") not in (None, 200):
            return f"HTTP {status} {body.get('errorCode')}: {body.get('message', '')[:80]}"
        return f"HTTP {status} ok"
    return str(answer)[:120]


def fragments(levels):
    doc = "fragment F1 on Query { __typename } "
    for i in range(2, levels + 1):
        doc += f"fragment F{i} on Query {{ ...F{i-1} ...F{i-1} }} "
    return doc + f"query {{ ...F{levels} }}"


def endless_receiver(size):
    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-length", str(size))
            self.end_headers()
            chunk = b"x" * (1 << 20)
            try:
                for _ in range(size >> 20):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def broom(leaves, spine):
    """A spine `spine` deep with `leaves` leaves under its end: about leaves x (spine + 2)
    closure rows."""
    bottom = {"name": f"s{spine}", "code": f"s{spine}", "children": [{"name": f"l{i}", "code": f"l{i}"} for i in range(leaves)]}
    node = bottom
    for d in range(spine - 1, 0, -1):
        node = {"name": f"s{d}", "code": f"s{d}", "children": [node]}
    return {"name": "Broom", "code": "broom", "children": [node]}


def run(db_url):
    print(f"== {BIN} on {db_url.split('?')[0]}")
    s = Server(db_url)
    try:
        token = s.token()
        s.measure("1. 22-level fragment fan-out, no token", lambda: summary(post(s.port, "/graphql", {"query": fragments(22)})))
        aliases = " ".join(f'a{i}: accessToken(userPoolId: "{POOL}", secret: "wrong-{i:04d}-secret") {{ accessToken }}' for i in range(64))
        s.measure("2. 64 accessToken aliases, no token", lambda: summary(post(s.port, "/graphql", {"query": "{ " + aliases + " }"})))
        recv = endless_receiver(512 << 20)
        _, hook = post(s.port, "/graphql", {"query": 'mutation($u: String!) { createWebhook(name: "big", url: $u, events: ["login"]) { id } }',
                                            "variables": {"u": f"http://127.0.0.1:{recv.server_address[1]}/hook"}}, token)
        hook_id = hook["data"]["createWebhook"]["id"]
        def test_hook():
            _, r = post(s.port, "/graphql", {"query": 'mutation($id: String!) { testWebhook(id: $id) { responseStatus responseBody error } }',
                                             "variables": {"id": hook_id}}, token)
            t = r["data"]["testWebhook"]
            return f"status {t['responseStatus']}, kept {len(t['responseBody'] or '')} bytes, error {t['error']}"
        s.measure("3. testWebhook answered with 512 MiB", test_hook)
        recv.shutdown()
        # 5. A 20,000-node tree at depth 60 (1.2 million closure rows) while another pool writes.
        _, other = post(s.port, "/graphql", {"query": "{ __typename }"})
        out = subprocess.run([BIN, "--database-url", db_url, "pool", "create", "--name", "other", "--id", "otherpool",
                              "--secret", "other-secret-0123456789"], capture_output=True, env=dict(os.environ, ORGRAPH_LOG="error"))
        other_token = s.token("otherpool", "other-secret-0123456789")
        tree = broom(19_940, 59)
        result = {}
        def importer():
            t0 = time.time()
            result["import"] = summary(post(s.port, "/api/v2/orgs/import", {"filetype": "json", "file": tree}, token))
            result["import_ms"] = (time.time() - t0) * 1000
        def measure_import():
            t = threading.Thread(target=importer)
            t.start()
            time.sleep(0.3)
            t0 = time.time()
            r = post(s.port, "/graphql", {"query": 'mutation { createUser(userInfo: { username: "meanwhile" }) { id } }'}, other_token)
            other_ms = (time.time() - t0) * 1000
            t.join()
            return f"import {result['import']} in {result['import_ms']:,.0f} ms; other pool's createUser {summary(r)} after {other_ms:,.0f} ms"
        s.measure("5. import of 20,000 nodes at depth 60 + another pool's write", measure_import)
    finally:
        s.stop()
    # The same import where the closure limit lets it through (builds that have the limit).
    s = Server(db_url, {"ORGRAPH_MAX_IMPORT_CLOSURE_ROWS": "2000000"})
    try:
        token, other_token = s.token(), s.token("otherpool", "other-secret-0123456789")
        tree = broom(19_940, 59)
        tree["code"] = "broom2"
        result = {}
        def measure_import2():
            t = threading.Thread(target=lambda: result.update(r=summary(post(s.port, "/api/v2/orgs/import", {"filetype": "json", "file": tree}, token)), t=time.time()))
            t0 = time.time()
            t.start()
            time.sleep(0.3)
            t1 = time.time()
            r = post(s.port, "/graphql", {"query": 'mutation { createUser(userInfo: { username: "meanwhile2" }) { id } }'}, other_token)
            other_ms = (time.time() - t1) * 1000
            t.join()
            return f"import {result['r']} in {(result['t'] - t0) * 1000:,.0f} ms; other pool's createUser {summary(r)} after {other_ms:,.0f} ms"
        s.measure("5b. the same with --max-import-closure-rows 2000000", measure_import2)
    finally:
        s.stop()
    # 4. HTTP_PROXY in the environment.
    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen(16)
    proxy.settimeout(0.5)
    s = Server(db_url, {"HTTP_PROXY": f"http://127.0.0.1:{proxy.getsockname()[1]}", "http_proxy": f"http://127.0.0.1:{proxy.getsockname()[1]}"},
               allow_loopback=False)
    try:
        token = s.token()
        _, hook = post(s.port, "/graphql", {"query": 'mutation { createWebhook(name: "p", url: "http://localhost:9/hook", events: ["login"]) { id } }'}, token)
        _, r = post(s.port, "/graphql", {"query": 'mutation($id: String!) { testWebhook(id: $id) { responseStatus error } }',
                                         "variables": {"id": hook["data"]["createWebhook"]["id"]}}, token)
        try:
            proxy.accept()
            reached = "the proxy was reached"
        except socket.timeout:
            reached = "the proxy was not used"
        print(f"  4. HTTP_PROXY set, webhook to localhost: {reached}; testWebhook error: {r['data']['testWebhook']['error']}")
    finally:
        s.stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite://{tmp}/abuse.db?mode=rwc")
    pg = os.environ.get("DATABASE_URL", "")
    if pg.startswith("postgres"):
        import uuid
        name = "orgraph_abuse_" + uuid.uuid4().hex[:8]
        subprocess.run(["psql", pg, "-qc", f"CREATE DATABASE {name}"], check=True)
        try:
            run(pg.rsplit("/", 1)[0] + "/" + name)
        finally:
            subprocess.run(["psql", pg, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
