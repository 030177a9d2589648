//! Users: create, read, list, update, delete, with their rules and errors.

use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::harness::{Client, TestServer};

pub const USER_FIELDS: &str = "id arn userPoolId status username email emailVerified phone phoneVerified
    unionid openid nickname registerSource photo password oauth token tokenExpiredAt loginsCount
    lastLogin lastIP signedUp blocked isDeleted device browser company name givenName familyName
    middleName profile preferredUsername website gender birthdate zoneinfo locale address formatted
    streetAddress locality region postalCode city province country createdAt updatedAt externalId
    phoneCountryCode identities { provider userIdInIdp openid isSocial connectionId userPoolId }
    customData { key value dataType label }";

pub async fn create(c: &Client, info: Value) -> Value {
    let q = format!("mutation($u: CreateUserInput!) {{ createUser(userInfo: $u) {{ {USER_FIELDS} }} }}");
    c.data(&q, json!({ "u": info })).await["createUser"].clone()
}

async fn count(c: &Client) -> i64 {
    c.data("{ users { totalCount } }", json!({})).await["users"]["totalCount"].as_i64().unwrap()
}

#[tokio::test]
async fn create_and_read_back_every_field() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let u = create(&c, json!({
        "username": "alice", "email": "Alice@Example.com", "phone": "+86 188 0000 0001",
        "phoneCountryCode": "+86", "nickname": "Al", "name": "Alice Liddell", "gender": "F",
        "company": "Wonder", "lastIP": "10.0.0.1", "loginsCount": 3,
        "signedUp": "2020-10-15T17:55:37+08:00", "registerSource": ["import:manual"],
        "externalId": "ext-1", "status": "Suspended", "customData": { "school": "Oxford", "age": 22 },
    })).await;
    assert_eq!(u["username"], "alice");
    assert_eq!(u["email"], "alice@example.com", "e-mail is stored lower-cased");
    assert_eq!(u["userPoolId"], s.pool_id.as_str());
    assert_eq!(u["arn"], format!("arn:cn:authing:{}:user:{}", s.pool_id, u["id"].as_str().unwrap()));
    assert_eq!(u["status"], "Suspended");
    assert_eq!(u["gender"], "F");
    assert_eq!(u["lastIP"], "10.0.0.1");
    assert_eq!(u["loginsCount"], 3);
    assert_eq!(u["signedUp"], "2020-10-15T09:55:37.000Z");
    assert_eq!(u["registerSource"], json!(["import:manual"]));
    assert_eq!(u["password"], Value::Null);
    assert_eq!(u["token"], Value::Null);
    assert_eq!(u["isDeleted"], false);
    let custom: Vec<(String, String, String)> = u["customData"].as_array().unwrap().iter()
        .map(|d| (d["key"].as_str().unwrap().into(), d["value"].as_str().unwrap().into(), d["dataType"].as_str().unwrap().into()))
        .collect();
    assert!(custom.contains(&("school".into(), "Oxford".into(), "STRING".into())), "{custom:?}");
    assert!(custom.contains(&("age".into(), "22".into(), "NUMBER".into())), "{custom:?}");

    let q = format!("query($id: String) {{ user(id: $id) {{ {USER_FIELDS} }} }}");
    let read = c.data(&q, json!({ "id": u["id"] })).await["user"].clone();
    assert_eq!(read, u, "read back equals what create returned");

    // The REST detail route of the SDK, in the v2 envelope.
    let res = c.get(&format!("/api/v2/users/{}", u["id"].as_str().unwrap())).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], 200);
    assert_eq!(body["data"]["username"], "alice");
    assert_eq!(body["data"]["lastIP"], "10.0.0.1");
}

#[tokio::test]
async fn identifiers_are_unique_within_the_pool() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    create(&c, json!({ "username": "bob", "email": "bob@x.io", "phone": "13800000000", "externalId": "e1" })).await;
    for (info, field) in [
        (json!({ "username": "bob" }), "username"),
        (json!({ "email": "BOB@X.IO" }), "email"),
        (json!({ "phone": "13800000000" }), "phone"),
        (json!({ "username": "other", "externalId": "e1" }), "externalId"),
    ] {
        let res = c.gql("mutation($u: CreateUserInput!) { createUser(userInfo: $u) { id } }", json!({ "u": info })).await;
        assert_eq!(res["errors"][0]["extensions"]["code"], "CONFLICT", "{info}");
        assert_eq!(res["errors"][0]["extensions"]["field"], field, "{info}");
    }
    assert_eq!(count(&c).await, 1, "nothing was created");
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    for (info, field) in [
        (json!({ "email": "not-an-email" }), Some("email")),
        (json!({ "phone": "call me" }), Some("phone")),
        (json!({ "username": "u", "gender": "X" }), Some("gender")),
        (json!({ "username": "u", "lastLogin": "yesterday" }), Some("lastLogin")),
        (json!({ "username": "x".repeat(300) }), Some("username")),
        (json!({ "username": "u", "loginsCount": -1 }), Some("loginsCount")),
        (json!({ "username": "u", "customData": [1, 2] }), Some("customData")),
        (json!({ "nickname": "nobody" }), None),
    ] {
        let res = c.gql("mutation($u: CreateUserInput!) { createUser(userInfo: $u) { id } }", json!({ "u": info })).await;
        assert_eq!(res["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{info}: {res}");
        if let Some(field) = field {
            assert_eq!(res["errors"][0]["extensions"]["field"], field, "{info}");
        }
    }
    // A value of the wrong GraphQL type is refused by the schema, also with a code.
    let res = c.gql("mutation { createUser(userInfo: { username: 5 }) { id } }", json!({})).await;
    assert!(res["errors"][0]["extensions"]["code"].is_string(), "{res}");
    assert_eq!(count(&c).await, 0);
}

#[tokio::test]
async fn passwords_are_hashed_never_returned_and_may_come_encrypted() {
    use rsa::{Pkcs1v15Encrypt, RsaPublicKey, pkcs8::DecodePublicKey};
    let s = TestServer::start().await;
    let c = s.admin().await;

    let plain = create(&c, json!({ "username": "plain", "password": "s3cret-pass" })).await;
    assert_eq!(plain["password"], Value::Null);

    // Encrypt as authing-js-sdk does: RSA PKCS#1 v1.5 with the key of /api/v2/.well-known.
    let wk: Value = s.anonymous().get("/api/v2/.well-known").await.json().await.unwrap();
    assert_eq!(wk["code"], 200);
    let pem = wk["data"]["publicKey"].as_str().expect("publicKey");
    let key = RsaPublicKey::from_public_key_pem(pem).expect("SPKI PEM");
    let sealed = key.encrypt(&mut rand::rngs::OsRng, Pkcs1v15Encrypt, b"enc-pass-123").unwrap();
    let sealed = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, sealed);
    let enc = create(&c, json!({ "username": "enc", "password": sealed })).await;

    for (user, clear) in [(&plain, "s3cret-pass"), (&enc, "enc-pass-123")] {
        let row = entity::user::Entity::find_by_id(user["id"].as_str().unwrap().to_string())
            .one(&s.state.db).await.unwrap().unwrap();
        let hash = row.password_hash.expect("a hash is stored");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(clear));
        assert!(orgraph::security::secret_hash::Hasher::new(1).verify(clear.into(), Some(hash)).await.unwrap());
    }

    // Update with a new (encrypted) password.
    let sealed = key.encrypt(&mut rand::rngs::OsRng, Pkcs1v15Encrypt, b"changed-1").unwrap();
    let sealed = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, sealed);
    c.data("mutation($id: String, $p: String) { updateUser(id: $id, input: { password: $p }) { id } }",
        json!({ "id": enc["id"], "p": sealed })).await;
    let row = entity::user::Entity::find_by_id(enc["id"].as_str().unwrap().to_string())
        .one(&s.state.db).await.unwrap().unwrap();
    assert!(orgraph::security::secret_hash::Hasher::new(1).verify("changed-1".into(), row.password_hash).await.unwrap());
}

#[tokio::test]
async fn update_sets_clears_and_keeps_fields() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let u = create(&c, json!({ "username": "carol", "email": "c@x.io", "phone": "13900000000", "nickname": "C",
        "customData": { "a": 1, "b": "two" } })).await;
    let q = "mutation($id: String, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) {
        username email phone nickname company status updatedAt customData { key value } } }";
    let upd = c.data(q, json!({ "id": u["id"], "in": {
        "nickname": "Caroline", "phone": null, "company": "ACME", "status": "Resigned",
        "customData": { "a": null, "c": true } } })).await["updateUser"].clone();
    assert_eq!(upd["nickname"], "Caroline");
    assert_eq!(upd["phone"], Value::Null, "null clears");
    assert_eq!(upd["email"], "c@x.io", "absent keeps");
    assert_eq!(upd["company"], "ACME");
    assert_eq!(upd["status"], "Resigned");
    let keys: Vec<&str> = upd["customData"].as_array().unwrap().iter().map(|d| d["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 2);
    assert!(keys.contains(&"b") && keys.contains(&"c"), "{keys:?}");
    assert!(upd["updatedAt"].as_str().unwrap() >= u["updatedAt"].as_str().unwrap());

    // Conflicts and not-found on update change nothing.
    create(&c, json!({ "username": "dave" })).await;
    let res = c.gql(q, json!({ "id": u["id"], "in": { "username": "dave", "nickname": "X" } })).await;
    assert_eq!(res["errors"][0]["extensions"]["code"], "CONFLICT");
    let again = c.data("query($id: String) { user(id: $id) { username nickname } }", json!({ "id": u["id"] })).await;
    assert_eq!(again["user"], json!({ "username": "carol", "nickname": "Caroline" }));
    let (code, _) = c.error(q, json!({ "id": "nope", "in": { "nickname": "X" } })).await;
    assert_eq!(code, "NOT_FOUND");
    // Clearing the last identifier is refused.
    let (code, _) = c.error(q, json!({ "id": u["id"], "in": { "username": null, "email": null } })).await;
    assert_eq!(code, "INVALID_INPUT");
}

#[tokio::test]
async fn list_pages_and_sorts() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(create(&c, json!({ "username": format!("user{i:02}") })).await["id"].as_str().unwrap().to_string());
    }
    let q = "query($p: Int, $l: Int, $s: SortByEnum) { users(page: $p, limit: $l, sortBy: $s) { totalCount list { id } } }";
    let page = |p: i64, l: i64, sort: &'static str| {
        let c = c.clone();
        async move {
            let d = c.data(q, json!({ "p": p, "l": l, "s": sort })).await;
            let list: Vec<String> = d["users"]["list"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
            (d["users"]["totalCount"].as_i64().unwrap(), list)
        }
    };
    let (total, first) = page(1, 10, "CREATEDAT_ASC").await;
    assert_eq!(total, 25);
    assert_eq!(first, ids[0..10]);
    assert_eq!(page(3, 10, "CREATEDAT_ASC").await.1, ids[20..25]);
    assert_eq!(page(4, 10, "CREATEDAT_ASC").await.1, Vec::<String>::new());
    let mut newest: Vec<String> = ids.clone();
    newest.reverse();
    assert_eq!(page(1, 5, "CREATEDAT_DESC").await.1, newest[0..5]);
    // Default: page 1, limit 10, newest first.
    let d = c.data("{ users { totalCount list { id } } }", json!({})).await;
    assert_eq!(d["users"]["list"].as_array().unwrap().len(), 10);
    assert_eq!(d["users"]["list"][0]["id"], newest[0].as_str());
    // Bad values are refused, not clamped.
    for (p, l) in [(0, 10), (-1, 10), (1, 0), (1, -3), (1, 201)] {
        let (code, _) = c.error(q, json!({ "p": p, "l": l, "s": "CREATEDAT_ASC" })).await;
        assert_eq!(code, "INVALID_INPUT", "page {p} limit {l}");
    }
}

#[tokio::test]
async fn delete_one_and_many_all_or_nothing() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let a = create(&c, json!({ "username": "a" })).await["id"].as_str().unwrap().to_string();
    let b = create(&c, json!({ "username": "b" })).await["id"].as_str().unwrap().to_string();
    let d = create(&c, json!({ "username": "d" })).await["id"].as_str().unwrap().to_string();

    let many = "mutation($ids: [String!]!) { deleteUsers(ids: $ids) { code message } }";
    let (code, msg) = c.error(many, json!({ "ids": [a, "missing-id"] })).await;
    assert_eq!(code, "NOT_FOUND");
    assert!(msg.contains("missing-id"), "{msg}");
    assert_eq!(count(&c).await, 3, "a failed delete deletes nothing");

    let res = c.data(many, json!({ "ids": [a, b] })).await;
    assert_eq!(res["deleteUsers"]["code"], 200);
    assert_eq!(count(&c).await, 1);

    let one = "mutation($id: String!) { deleteUser(id: $id) { code message } }";
    assert_eq!(c.data(one, json!({ "id": d })).await["deleteUser"]["code"], 200);
    assert_eq!(c.error(one, json!({ "id": d })).await.0, "NOT_FOUND");
    let (code, _) = c.error("query($id: String) { user(id: $id) { id } }", json!({ "id": d })).await;
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(count(&c).await, 0);
}
