"""Receives orgraph's webhooks: verifies the signature, handles each webhook-id once, answers
204 at once and does the work after. WEBHOOK_SECRET is the webhook's whsec_ secret."""
import json
import os
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

wh = Webhook(os.environ["WEBHOOK_SECRET"])
seen, seen_lock = set(), threading.Lock()  # in production: a table with a unique key on the id
jobs = queue.Queue()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = wh.verify(body, dict(self.headers))
        except WebhookVerificationError:
            self.send_response(401)
            self.end_headers()
            return
        msg_id = self.headers["webhook-id"]
        with seen_lock:
            fresh = msg_id not in seen
            seen.add(msg_id)
        if fresh:
            jobs.put((msg_id, event))
        else:
            print(json.dumps({"duplicate": msg_id}), flush=True)  # a retry of one already handled
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def work():
    while True:
        msg_id, event = jobs.get()
        print(json.dumps({"id": msg_id, "eventName": event["eventName"]}), flush=True)  # the real work


threading.Thread(target=work, daemon=True).start()
server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", 8000))), Receiver)
print(json.dumps({"listening": server.server_address[1]}), flush=True)
server.serve_forever()
