"""Drives PyPI authing==5.1.0 (the v3 GenAuth SDK) against orgraph: the management token route
and list_department_members. Prints one JSON line; exits non-zero on a failed assertion."""
import json
import os
import sys

from authing import ManagementClient

host = os.environ["ORGRAPH_HOST"]
client = ManagementClient(
    access_key_id=os.environ["ORGRAPH_POOL_ID"],
    access_key_secret=os.environ["ORGRAPH_POOL_SECRET"],
    host=host,
)
org_code = os.environ["ORGRAPH_ORG_CODE"]

everyone = client.list_department_members(
    organization_code=org_code, department_id="root", include_children_departments=True,
    with_custom_data=True, with_department_ids=True, page=1, limit=50,
)
assert everyone["statusCode"] == 200, everyone
direct = client.list_department_members(organization_code=org_code, department_id="root")
by_code = client.list_department_members(
    organization_code=org_code, department_id="dev", department_id_type="code",
    sort_by="CreatedAt", order_by="Asc", limit=1, page=2,
)
assert by_code["statusCode"] == 200, by_code
too_many = client.list_department_members(organization_code=org_code, department_id="root", limit=51)
assert too_many["statusCode"] == 400, too_many

print(json.dumps({
    "total": everyone["data"]["totalCount"],
    "users": [u["username"] for u in everyone["data"]["list"]],
    "customData": {u["username"]: u.get("customData") for u in everyone["data"]["list"]},
    "departmentIds": {u["username"]: u.get("departmentIds") for u in everyone["data"]["list"]},
    "directTotal": direct["data"]["totalCount"],
    "page2": [u["username"] for u in by_code["data"]["list"]],
    "tooManyCode": too_many.get("errorCode"),
}))
sys.exit(0)
