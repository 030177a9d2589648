"""Drives PyPI authing==5.1.0 (GenAuth v3, bearer token from get-management-token) against orgraph:
webhooks (create, list, get, update, a real delivery and its log, trigger, delete), the event list,
event apps and custom event types, publishing one (verify_event, put_event, pub_user_event) and
receiving it on the event socket (sub_event, HMAC header). Bad input gets its statusCode and changes
nothing. Prints one JSON line; exits non-zero on a failed assertion. The Rust test
(tests/api/v3_events.rs) owns the receiver, checks what it got and bounds the run's time."""
import io
import json
import os
import sys
import threading
import time

from authing import ManagementClient

env = os.environ
host = env["ORGRAPH_HOST"]
app = env["ORGRAPH_APP"]
event_type = app + ".invoice.sent"
receiver = env["ORGRAPH_RECEIVER"]
client = ManagementClient(
    access_key_id=env["ORGRAPH_POOL_ID"],
    access_key_secret=env["ORGRAPH_POOL_SECRET"],
    host=host,
    websocket_host=host.replace("http", "ws", 1),
)


def ok(r, what):
    assert r["statusCode"] == 200, (what, r)
    assert r["message"] == "", (what, r)
    return r.get("data")


def refused(r, status, what):
    """A refusal: the envelope with its status (also the HTTP status for this SDK), a message, no data."""
    assert r["statusCode"] == status, (what, r)
    assert r["message"] and isinstance(r["apiCode"], int) and r["requestId"], (what, r)
    assert r["data"] is None, (what, r)


def until(what, check, seconds=20):
    deadline = time.time() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


class Watch(io.TextIOBase):
    """sub_event prints "connected " once its socket is open, and nothing else tells: watch stdout."""

    def __init__(self, out):
        self.out = out
        self.connected = threading.Event()

    def write(self, text):
        if text.startswith("connected"):
            self.connected.set()
        return self.out.write(text)

    def flush(self):
        self.out.flush()


# The event list: built-in names in their v3 spelling, by category.
listed = ok(client.get_webhook_event_list(), "get_webhook_event_list")
values = [e["value"] for e in listed["events"]]
for name in ["user:created", "organization:member-added", "role:deleted", "unusual-location:login"]:
    assert name in values, name
assert "role:delete" not in values
categories = {c["value"] for c in listed["categories"]}
assert all(e["category"] in categories for e in listed["events"])

# An app and a custom event type.
ok(client.create_event_app(logo="", name="Billing", identifier=app), "create_event_app")
apps = ok(client.list_event_apps(), "list_event_apps")
assert apps == {"totalCount": 1, "list": [{"identifier": app, "name": "Billing", "logo": ""}]}, apps
ok(client.define_event(event_description="An invoice was sent", event_type=event_type), "define_event")
events = ok(client.list_events(page=1, limit=10, app=app), "list_events")
assert events["totalCount"] == 1 and events["list"][0]["code"] == event_type, events
assert ok(client.list_events(app="other"), "list_events other")["totalCount"] == 0

# A webhook for the custom type, as a form.
hook = ok(
    client.create_webhook(
        content_type="application/x-www-form-urlencoded", events=[event_type], url=receiver, name="billing hook",
        enabled=True, secret="py-hook-secret",
    ),
    "create_webhook",
)
hook_id = hook["webhookId"]
assert hook["contentType"] == "application/x-www-form-urlencoded" and hook["events"] == [event_type], hook
assert "secret" not in hook
assert ok(client.get_webhook(webhook_id=hook_id), "get_webhook") == hook
listed_hooks = ok(client.list_webhooks(page=1, limit=10), "list_webhooks")
assert listed_hooks["totalCount"] == 1 and listed_hooks["list"][0]["webhookId"] == hook_id
updated = ok(client.update_webhook(webhook_id=hook_id, content_type="application/json", enabled=True), "update_webhook")
assert updated["contentType"] == "application/json" and updated["name"] == "billing hook", updated

# Subscribe on the event socket (HMAC header, no token) in a daemon thread: sub_event blocks.
received = []
watch = Watch(sys.stdout)
sys.stdout = watch
threading.Thread(target=client.sub_event, args=(event_type, lambda m: received.append(json.loads(m))), daemon=True).start()
assert watch.connected.wait(20), "the event socket did not open"
sys.stdout = watch.out

# Publish: an object (verify_event), JSON text (put_event), and pub_user_event.
assert ok(client.verify_event(event_type=event_type, event_data={"invoice": 1}), "verify_event") == {"success": True}
ok(client.put_event(event_type, {"invoice": 2}), "put_event")
ok(client.pub_user_event(event_type=event_type, event_data={"invoice": 3}), "pub_user_event")
until("three messages on the socket", lambda: len(received) >= 3)
assert [(m["eventName"], m["data"]) for m in received] == [
    (event_type, {"invoice": 1}), (event_type, {"invoice": 2}), (event_type, {"invoice": 3}),
], received

# Delivered to the webhook: the log shows the requests and the receiver's answers.
def delivered():
    page = ok(client.get_webhook_logs(webhook_id=hook_id, page=1, limit=50), "get_webhook_logs")
    return page if page["totalCount"] >= 3 and all(l["success"] for l in page["list"]) else None


logs = until("three delivered requests in the log", delivered)
assert sorted(l["requestBody"]["data"]["invoice"] for l in logs["list"]) == [1, 2, 3], logs
assert all(l["eventName"] == event_type and l["responseBody"] == {"received": True} for l in logs["list"]), logs

# Trigger it by hand with headers and a body.
triggered = ok(
    client.trigger_webhook(webhook_id=hook_id, request_headers={"X-Trigger": "python"}, request_body={"hello": "python"}),
    "trigger_webhook",
)
assert triggered["response"]["status"] == 200 and triggered["response"]["body"] == {"received": True}, triggered

# Bad input: its status, nothing changed.
absent = "0" * 32
refused(client.create_webhook(content_type="application/json", events=[], url=receiver, name="x"), 400, "no events")
refused(client.create_webhook(content_type="application/json", events=["nope"], url=receiver, name="x"), 400, "bad event")
refused(client.create_webhook(content_type="application/json", events=[event_type], url="http://u:p@example.com/", name="x"), 400, "credentials in url")
refused(client.list_webhooks(page=0), 400, "page")
refused(client.get_webhook(webhook_id=absent), 404, "get unknown")
refused(client.update_webhook(webhook_id=absent, name="x"), 404, "update unknown")
refused(client.update_webhook(webhook_id=hook_id, url="not a url"), 400, "update url")
refused(client.delete_webhook(webhook_ids=[absent]), 404, "delete unknown")
refused(client.get_webhook_logs(webhook_id=hook_id, limit=51), 400, "logs limit")
refused(client.trigger_webhook(webhook_id=hook_id, request_headers=["x"]), 400, "trigger headers")
refused(client.create_event_app(logo="", name="Again", identifier=app), 409, "app taken")
refused(client.define_event(event_description="x", event_type="nosuchapp.y"), 404, "type of no app")
refused(client.define_event(event_description="x", event_type="no-dot"), 400, "type form")
refused(client.verify_event(event_type=app + ".nope", event_data={}), 400, "undefined type")
refused(client.verify_event(event_type=event_type, event_data="[1]"), 400, "data text of a list")
refused(client.list_events(limit=51), 400, "events limit")
assert ok(client.list_webhooks(), "list_webhooks")["totalCount"] == 1
assert ok(client.get_webhook(webhook_id=hook_id), "get_webhook")["contentType"] == "application/json"
assert ok(client.list_events(), "list_events")["totalCount"] == 1
assert ok(client.get_webhook_logs(webhook_id=hook_id), "get_webhook_logs")["totalCount"] == 3, "nothing more was sent"

# Delete it all.
assert ok(client.delete_webhook(webhook_ids=[hook_id]), "delete_webhook") == {"success": True}
assert ok(client.list_webhooks(), "list_webhooks")["totalCount"] == 0

print(json.dumps({"ok": True, "webhookId": hook_id, "eventType": event_type, "socket": received}))
sys.exit(0)
