"""PyPI standardwebhooks, unmodified, verifies deliveries orgraph sent (tests/api/standard_webhooks.rs).

ORGRAPH_CASES: [{name, secret, raw?, headers, body}]; `raw` is a plain (Authing-style) secret.
For each: the payload `verify` returns, and whether it refused the body with one byte changed.
"""
import json
import os

from standardwebhooks import Webhook, WebhookVerificationError


def refuses(wh, body, headers):
    try:
        wh.verify(body, headers)
        return False
    except WebhookVerificationError:
        return True


results = []
for case in json.loads(os.environ["ORGRAPH_CASES"]):
    wh = Webhook(case["secret"])
    body, headers = case["body"], case["headers"]
    tampered = body.replace('"eventName"', '"eventNamE"')
    result = {"name": case["name"], "payload": wh.verify(body, headers), "tamperedRefused": refuses(wh, tampered, headers)}
    if "raw" in case:
        # A plain secret as is is not base64 of a key; given as bytes, it is the key.
        try:
            result["plainAsIsVerifies"] = not refuses(Webhook(case["raw"]), body, headers)
        except Exception:
            result["plainAsIsVerifies"] = False
        result["rawFormat"] = Webhook(case["raw"].encode()).verify(body, headers)
    results.append(result)
print(json.dumps({"results": results}))
