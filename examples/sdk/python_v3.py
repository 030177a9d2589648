"""orgraph from the GenAuth v3 Python SDK (PyPI authing 5): an organization, a department, a user
in it, then the department's members. The SDK fetches a management token with the pool id and
secret. Run after `pip install -r examples/sdk/requirements.txt` (in a virtual environment):

    ORGRAPH_POOL_ID=<userPoolId> ORGRAPH_POOL_SECRET=<secret> python3 examples/sdk/python_v3.py
"""
import json
import os
import sys
import time

from authing import ManagementClient


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f"set {name} (printed at orgraph's first start)")
    return value


client = ManagementClient(
    host=env("ORGRAPH_URL", "http://127.0.0.1:3000"),
    access_key_id=env("ORGRAPH_POOL_ID"),
    access_key_secret=env("ORGRAPH_POOL_SECRET"),
)


def ok(answer):
    """Every call answers an envelope: statusCode 200 on success, else a message."""
    if answer["statusCode"] != 200:
        sys.exit(f"{answer['statusCode']} {answer['message']}")
    return answer["data"]


run = format(time.time_ns() // 1_000_000, "x")  # new names on every run
code = f"example-{run}"
# metadata is a required argument of these two methods in this SDK version
org = ok(client.create_organization(metadata={}, organization_name="Example Inc", organization_code=code))
eng = ok(client.create_department(metadata={}, organization_code=code, parent_department_id="root", name="Engineering",
                                  code="eng"))
ada = ok(client.create_user(username=f"ada-{run}", department_ids=[eng["departmentId"]]))
members = ok(client.list_department_members(organization_code=code, department_id="eng", department_id_type="code"))

print(json.dumps({
    "organization": org["organizationCode"],
    "department": eng["name"],
    "user": ada["username"],
    "members": [user["username"] for user in members["list"]],
}))
