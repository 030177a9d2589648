//! Data of one pool is never visible from another.

use serde_json::{Value, json};

use crate::{harness::TestServer, users::create};

#[tokio::test]
async fn pools_see_only_their_own_users() {
    let s = TestServer::start().await;
    let a = s.admin().await;
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;

    let ua = create(&a, json!({ "username": "same", "email": "same@x.io" })).await;
    // The same identifiers are free in another pool.
    let ub = create(&b, json!({ "username": "same", "email": "same@x.io" })).await;
    assert_eq!(ub["userPoolId"], pool_b.as_str());

    let list = |c: crate::harness::Client| async move {
        let d = c.data("{ users(limit: 50) { totalCount list { id } } }", json!({})).await;
        (d["users"]["totalCount"].clone(), d["users"]["list"].clone())
    };
    assert_eq!(list(a.clone()).await, (json!(1), json!([{ "id": ua["id"] }])));
    assert_eq!(list(b.clone()).await, (json!(1), json!([{ "id": ub["id"] }])));

    // B cannot read, change or delete A's user: to B it does not exist.
    let id = ua["id"].clone();
    for (q, vars) in [
        ("query($id: String) { user(id: $id) { id } }", json!({ "id": id })),
        ("mutation($id: String) { updateUser(id: $id, input: { nickname: \"x\" }) { id } }", json!({ "id": id })),
        ("mutation($id: String!) { deleteUser(id: $id) { code } }", json!({ "id": id })),
        ("mutation($ids: [String!]!) { deleteUsers(ids: $ids) { code } }", json!({ "ids": [id] })),
    ] {
        assert_eq!(b.error(q, vars).await.0, "NOT_FOUND", "{q}");
    }
    let res = b.get(&format!("/api/v2/users/{}", id.as_str().unwrap())).await;
    // v2 REST errors answer HTTP 200 (the SDKs read only 2xx bodies) with Authing's code inside.
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errorCode"], "NOT_FOUND");
    assert_eq!(body["code"], 2004, "Authing's 'user does not exist': {body}");
    assert_eq!(body["statusCode"], 404);

    // A's user is untouched.
    let d = a.data("query($id: String) { user(id: $id) { nickname } }", json!({ "id": id })).await;
    assert_eq!(d["user"]["nickname"], Value::Null);

    // B's token with A's pool header is refused.
    let mut mixed = b.clone();
    mixed.pool_header = Some(s.pool_id.clone());
    assert_eq!(mixed.error("{ users { totalCount } }", json!({})).await.0, "FORBIDDEN");
}
