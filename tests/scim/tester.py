"""Runs PyPI scim2-tester (every check it has) against a live orgraph and prints one JSON line:
{"passed", "failed", "skipped", "total", "failures": [...], "skips": [...]}.
Environment: ORGRAPH_SCIM_URL (…/scim/v2, no trailing slash), ORGRAPH_SCIM_TOKEN."""
import json
import os
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

http = Client(
    base_url=os.environ["ORGRAPH_SCIM_URL"],
    headers={"Authorization": f"Bearer {os.environ['ORGRAPH_SCIM_TOKEN']}"},
    timeout=30,
)
# No models given: the tester builds them from what orgraph publishes at /Schemas.
results = check_server(SyncSCIMClient(http))


def describe(r):
    return {"resourceType": r.resource_type, "check": r.title, "reason": str(r.reason or "")[:500]}


failed = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
skipped = [r for r in results if r.status == Status.SKIPPED]
print(json.dumps({
    "passed": sum(r.status == Status.SUCCESS for r in results),
    "failed": len(failed),
    "skipped": len(skipped),
    "total": len(results),
    "failures": [describe(r) for r in failed],
    "skips": [describe(r) for r in skipped],
}))
sys.exit(0)
