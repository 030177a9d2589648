"""Drives PyPI authing==5.1.0 (GenAuth v3, bearer token from get-management-token) against orgraph as
a v3-only user: organizations, departments (move, leaders, status, open ids), users, members, a
user's departments; bad input on each group; then deletes it all. Asserts on every value returned.
Prints one JSON line; exits non-zero on the first failed assertion."""
import json
import os
import sys

from authing import ManagementClient

c = ManagementClient(
    access_key_id=os.environ["ORGRAPH_POOL_ID"],
    access_key_secret=os.environ["ORGRAPH_POOL_SECRET"],
    host=os.environ["ORGRAPH_HOST"],
)


def ok(r):
    assert r["statusCode"] == 200, r
    return r["data"]


def refused(r, status, text=None):
    assert r["statusCode"] == status, r
    assert isinstance(r["apiCode"], int) and r["requestId"], r
    assert len(r["message"]) > 3, r
    if text:
        assert text in r["message"], r
    return r


# Organizations (metadata first, as the SDK orders its arguments; keywords are safer).
acme = ok(c.create_organization(metadata={}, organization_name="Acme", organization_code="acme", description="HQ"))
assert (acme["organizationCode"], acme["organizationName"], acme["status"]) == ("acme", "Acme", "Active"), acme
root = acme["departmentId"]

# Departments.
eng = ok(c.create_department(organization_code="acme", name="Eng", parent_department_id="root", metadata={}, code="eng",
                             open_department_id="ext-eng", custom_data={"floor": 3}, i18n={"name": {"en-US": {"enabled": True, "value": "Engineering"}}}))
assert eng["parentDepartmentId"] == root and eng["customData"] == {"floor": 3}, eng
assert eng["i18n"]["name"]["en-US"]["value"] == "Engineering", eng
dev = ok(c.create_department(organization_code="acme", name="Dev", parent_department_id="eng", department_id_type="code", metadata={}, code="dev"))
sales = ok(c.create_department(organization_code="acme", name="Sales", parent_department_id="root", metadata={}, code="sales"))

# Users and members.
ann = ok(c.create_user(username="ann", email="ann@example.com", department_ids=[eng["departmentId"]]))
ben, cat = ok(c.create_users_batch(list=[{"username": "ben"}, {"username": "cat", "phone": "13900000000"}]))
ok(c.add_department_members(user_ids=[ben["userId"], cat["userId"]], organization_code="acme", department_id=dev["departmentId"]))
ok(c.remove_department_members(user_ids=[cat["userId"]], organization_code="acme", department_id="dev", department_id_type="code"))
everyone = ok(c.list_department_members(organization_code="acme", department_id="root", include_children_departments=True, with_department_ids=True))
assert everyone["totalCount"] == 2 and sorted(u["username"] for u in everyone["list"]) == ["ann", "ben"], everyone
assert ok(c.list_department_member_ids(organization_code="acme", department_id="dev", department_id_type="code")) == [ben["userId"]]
found = ok(c.search_department_members(organization_code="acme", department_id="root", keywords="ann", include_children_departments=True))
assert [u["username"] for u in found["list"]] == ["ann"], found
assert ok(c.is_user_in_department(user_id=ben["userId"], organization_code="acme", department_id="eng", department_id_type="code",
                                  include_children_departments=True))["inDepartment"] is True

# Move Dev under Sales, with two leaders, and disable Sales.
moved = ok(c.update_department(organization_code="acme", department_id=dev["departmentId"], parent_department_id=sales["departmentId"],
                               leader_user_ids=[ann["userId"], ben["userId"]], description="moved"))
assert moved["parentDepartmentId"] == sales["departmentId"] and moved["leaderUserIds"] == [ann["userId"], ben["userId"]], moved
assert ok(c.get_parent_department(organization_code="acme", department_id=dev["departmentId"]))["code"] == "sales"
assert ok(c.get_all_departments(organization_code="acme"))["totalCount"] == 3
assert ok(c.get_department(organization_code="acme", department_id="ext-eng", department_id_type="open_department_id"))["code"] == "eng"
assert ok(c.get_department(organization_code="acme", department_code="sales"))["hasChildren"] is True
assert ok(c.get_department_by_id(department_id=eng["departmentId"], with_custom_data=True))["customData"] == {"floor": 3}
assert [d["code"] for d in ok(c.search_departments(keywords="SAL", organization_code="acme"))] == ["sales"]
page = ok(c.search_departments_list(organization_code="acme", page=1, limit=2, sort=[{"field": "name", "order": "asc"}]))
assert [d["name"] for d in page] == ["Acme", "Dev"], page
ok(c.update_node_status(status=False, department_id=sales["departmentId"]))
kids = ok(c.list_children_departments(organization_code="acme", department_id="root", status=True))
assert [d["code"] for d in kids["list"]] == ["eng"], kids

# A user's departments.
ok(c.set_user_departments(user_id="cat", departments=[{"departmentId": eng["departmentId"], "isMainDepartment": True}], options={"userIdType": "username"}))
deps = ok(c.get_user_departments(user_id=cat["userId"], with_department_paths=True))
assert deps["totalCount"] == 1 and deps["list"][0]["isMainDepartment"] is True, deps
assert deps["list"][0]["departmentNamePath"] == ["Acme", "Eng"], deps

# Users.
assert ok(c.get_user(user_id="ann@example.com", user_id_type="email"))["userId"] == ann["userId"]
assert [u["username"] for u in ok(c.get_user_batch(user_ids=[ben["userId"], ann["userId"]]))] == ["ben", "ann"]
assert ok(c.list_users(keywords="cat"))["totalCount"] == 1
assert ok(c.list_users_legacy(page=1, limit=10, status="Activated"))["totalCount"] == 3
updated = ok(c.update_user(user_id=ben["userId"], nickname="Benny", status="Suspended"))
assert (updated["nickname"], updated["status"]) == ("Benny", "Suspended"), updated

# Organizations.
renamed = ok(c.update_organization(organization_code="acme", organization_new_code="acme-py", organization_name="Acme Py"))
assert renamed["organizationCode"] == "acme-py", renamed
assert ok(c.get_organization(organization_code="acme-py", with_custom_data=True))["organizationName"] == "Acme Py"
assert [o["organizationCode"] for o in ok(c.get_organizations_batch(organization_code_list=["acme-py"]))] == ["acme-py"]
assert ok(c.list_organizations(page=1, limit=10))["totalCount"] == 1
assert ok(c.search_organizations(keywords="py"))["totalCount"] == 1
ok(c.update_organization_status(root_node_id=root, status="Inactive"))
assert ok(c.list_organizations(status=True))["totalCount"] == 0
tree = ok(c.create_department_tree(name="Tree", children=["A", {"name": "B", "children": ["B1"]}]))
assert tree["addDepartment"] == 4, tree

# Bad input: clear envelopes (the HTTP status matches statusCode; this SDK reads the body either way).
refused(c.get_organization(organization_code="missing"), 404, "missing")
refused(c.create_department(organization_code="acme-py", name="", parent_department_id="root", metadata={}), 400, "name")
refused(c.update_department(organization_code="acme-py", department_id=eng["departmentId"], parent_department_id=eng["departmentId"]), 400)
refused(c.create_user(username="ann"), 409, "username")
refused(c.create_users_batch(list=[{"username": "ok1"}, {"phone": "not a phone!"}]), 400, "list[1]")
assert ok(c.list_users(keywords="ok1"))["totalCount"] == 0
refused(c.list_department_members(organization_code="acme-py", department_id="root", limit=51), 400, "limit")
refused(c.get_user_departments(user_id="nobody"), 404)
refused(c.is_user_in_department(user_id="nobody", organization_code="acme-py", department_id="root"), 404)
refused(c.delete_users_batch(user_ids=[ann["userId"], "nobody"]), 400)
assert ok(c.get_user(user_id=ann["userId"]))["username"] == "ann", "a refused batch deletes nobody"

# Clean up.
ok(c.delete_department(organization_code="acme-py", department_id="dev", department_id_type="code"))
ok(c.delete_users_batch(user_ids=[ann["userId"], ben["userId"], cat["userId"]]))
ok(c.delete_organization(organization_code="acme-py"))
refused(c.get_organization(organization_code="acme-py"), 404)

print(json.dumps({"ok": True}))
sys.exit(0)
