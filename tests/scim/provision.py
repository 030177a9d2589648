"""Provisions orgraph over SCIM with PyPI scim2-client the way Okta and Entra ID do, one step
per line read from standard input; after each step it prints one JSON line (ids and what it
saw), so that the Rust test can check orgraph's GraphQL in between.
Environment: ORGRAPH_SCIM_URL (…/scim/v2), ORGRAPH_SCIM_TOKEN."""
import json
import os
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import PatchOp, PatchOperation, SCIMException, SearchRequest

http = Client(
    base_url=os.environ["ORGRAPH_SCIM_URL"],
    headers={"Authorization": f"Bearer {os.environ['ORGRAPH_SCIM_TOKEN']}"},
    timeout=30,
)
scim = SyncSCIMClient(http)
scim.discover()
User = scim.get_resource_model("User")
Group = scim.get_resource_model("Group")
Ent = User.get_extension_model("EnterpriseUser")
GroupExt = Group.get_extension_model("OrgraphGroup")

N_USERS = 50
users = {}   # index -> id
groups = {}  # name -> id


def lookup_user(user_name):
    """Okta's lookup before a create: GET /Users?filter=userName eq "..."&startIndex=1&count=100."""
    found = scim.query(User, query_parameters=SearchRequest(filter=f'userName eq "{user_name}"', start_index=1, count=100))
    return found.resources or []


def push_users():
    manager = None
    for i in range(N_USERS):
        user_name = f"user{i:02d}@example.com"
        assert lookup_user(user_name) == [], f"{user_name} exists before its push"
        u = User(
            user_name=user_name,
            display_name=f"User {i:02d}",
            active=True,
            external_id=f"00u{i:04d}",
            emails=[{"value": user_name, "type": "work"}],
            name={"given_name": f"Given{i:02d}", "family_name": f"Family{i:02d}"},
        )
        ent = Ent(employee_number=str(1000 + i), department="Engineering" if i < 25 else "Sales",
                  cost_center=f"CC{i % 3}", organization="Acme", division="EMEA")
        if manager is not None:
            ent.manager = {"value": manager}
        u[Ent] = ent
        created = scim.create(u)
        users[i] = created.id
        if i == 0:
            manager = created.id
    # Okta's import pages through every user, 20 at a time.
    seen, start = [], 1
    while True:
        page = scim.query(User, query_parameters=SearchRequest(start_index=start, count=20))
        seen += [r.id for r in page.resources or []]
        if start + 20 > page.total_results:
            break
        start += 20
    assert seen == [users[i] for i in range(N_USERS)], "paging gives every user once, in creation order"
    again = lookup_user("USER07@example.com")
    assert [r.id for r in again] == [users[7]], "userName is compared case-insensitively"
    assert again[0][Ent].employee_number == "1007"
    return {"users": [users[i] for i in range(N_USERS)]}


def push_groups():
    # Okta: the group first, then its members by PATCH (Entra ID does the same).
    eng = scim.create(Group(display_name="Engineering", external_id="grp-eng", members=[]))
    groups["Engineering"] = eng.id
    add = PatchOp[Group](operations=[PatchOperation(op="add", path="members", value=[{"value": users[i]} for i in range(0, 10)])])
    scim.modify(Group, eng.id, add)
    # A group created with its members, and one under another (orgraph's parent extension).
    sales = scim.create(Group(display_name="Sales", external_id="grp-sales", members=[{"value": users[i]} for i in range(10, 20)]))
    groups["Sales"] = sales.id
    platform = Group(display_name="Platform", members=[{"value": users[i]} for i in range(20, 25)])
    platform[GroupExt] = GroupExt(parent={"value": eng.id})
    platform = scim.create(platform)
    groups["Platform"] = platform.id
    found = scim.query(Group, query_parameters=SearchRequest(filter='displayName eq "Sales"'))
    assert [g.id for g in found.resources] == [sales.id]
    got = scim.query(Group, eng.id)
    assert sorted(m.value for m in got.members) == sorted(users[i] for i in range(10))
    return {"groups": groups}


def rename_group():
    op = PatchOp[Group](operations=[PatchOperation(op="replace", path="displayName", value="Research & Development")])
    renamed = scim.modify(Group, groups["Engineering"], op)
    return {"displayName": renamed.display_name if renamed else None}


def move_user():
    # Out of Sales, into Engineering: two PATCHes, as Okta sends them.
    moving = users[15]
    out = PatchOp[Group](operations=[PatchOperation(op="remove", path=f'members[value eq "{moving}"]')])
    scim.modify(Group, groups["Sales"], out)
    into = PatchOp[Group](operations=[PatchOperation(op="add", path="members", value=[{"value": moving}])])
    scim.modify(Group, groups["Engineering"], into)
    return {"user": moving}


def deactivate_user():
    target = users[7]
    op = PatchOp[User](operations=[PatchOperation(op="replace", path="active", value=False)])
    scim.modify(User, target, op)
    got = scim.query(User, target)
    inactive = scim.query(User, query_parameters=SearchRequest(filter="active eq false"))
    return {"user": target, "active": got.active, "inactive": [r.id for r in inactive.resources or []]}


def delete_group():
    scim.delete(Group, groups["Sales"])
    try:
        scim.query(Group, groups["Sales"])
        gone = False
    except SCIMException as exc:
        gone = str(exc.to_error().status) == "404"
    remaining = scim.query(Group, query_parameters=SearchRequest(start_index=1, count=100))
    return {"gone": gone, "groups": sorted(g.display_name for g in remaining.resources or [])}


STEPS = {
    "users": push_users,
    "groups": push_groups,
    "rename": rename_group,
    "move": move_user,
    "deactivate": deactivate_user,
    "delete_group": delete_group,
}

for line in sys.stdin:
    step = line.strip()
    if not step:
        continue
    try:
        result = {"step": step, "ok": True, **STEPS[step]()}
    except Exception as exc:  # the Rust test prints it
        result = {"step": step, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result), flush=True)
