//! Deliveries verified by the official Standard Webhooks libraries, unmodified (npm and PyPI
//! `standardwebhooks`): a generated secret, a given `whsec_` one and a plain one (re-encoded, or as
//! raw bytes) verify, a tampered body is refused; `whsec_` secrets are checked; rotation shows the
//! new secret once; the documented receivers run against real deliveries and handle a retry once.

use std::{path::PathBuf, time::Duration};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use orgraph::{delivery::sign::signature, domain::webhooks::secret::signing_key};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};

use crate::{
    harness::{Client, wait_for_value},
    sdk::{run_node, sdk_dir},
    sdk_py::{run_python, venv},
    users::create,
    webhooks::{Received, header, receiver, server, wait_for},
};

/// A webhook for `user:created` at `url`; the createWebhook answer.
async fn create_hook(c: &Client, url: &str, secret: Option<&str>) -> Value {
    let q = "mutation($u: String!, $s: String) {
        createWebhook(name: \"std\", url: $u, secret: $s, events: [\"user:created\"]) { id hasSecret secret } }";
    let d = c.data(q, json!({ "u": url, "s": secret })).await;
    assert_eq!(d["createWebhook"]["hasSecret"], true);
    d["createWebhook"].clone()
}

/// What a receiver got, as the scripts take it: the secret to verify with, the signature headers
/// and the raw body.
fn case(name: &str, secret: &str, raw: Option<&str>, r: &Received) -> Value {
    let mut c = json!({
        "name": name,
        "secret": secret,
        "headers": {
            "webhook-id": header(r, "webhook-id"),
            "webhook-timestamp": header(r, "webhook-timestamp"),
            "webhook-signature": header(r, "webhook-signature"),
        },
        "body": r.body,
    });
    if let Some(raw) = raw {
        c["raw"] = json!(raw);
    }
    c
}

fn given_secret() -> String {
    format!("whsec_{}", STANDARD.encode((0u8..32).map(|b| b.wrapping_mul(37)).collect::<Vec<u8>>()))
}

#[tokio::test(flavor = "multi_thread")]
async fn both_official_libraries_verify_real_deliveries_and_refuse_tampered_ones() {
    let s = server(true).await;
    let c = s.admin().await;
    let ((ra, ua), (rb, ub), (rc, uc)) = (receiver(&[]).await, receiver(&[]).await, receiver(&[]).await);

    // No secret given: a whsec_ one is generated and shown in this answer only.
    let a = create_hook(&c, &ua, None).await;
    let generated = a["secret"].as_str().expect("the generated secret").to_string();
    assert!(generated.starts_with("whsec_") && STANDARD.decode(&generated[6..]).unwrap().len() == 32, "{generated}");
    let again = c.data("query($id: String!) { webhook(id: $id) { hasSecret secret } }", json!({ "id": a["id"] })).await;
    assert_eq!(again["webhook"], json!({ "hasSecret": true, "secret": null }), "shown once");
    // A given whsec_ secret, and a plain one (Authing's style): neither is echoed.
    let given = given_secret();
    assert_eq!(create_hook(&c, &ub, Some(&given)).await["secret"], Value::Null);
    let plain = "authing-style-plain-secret";
    assert_eq!(create_hook(&c, &uc, Some(plain)).await["secret"], Value::Null);

    create(&c, json!({ "username": "verified" })).await;
    let (ga, gb, gc) = (wait_for(&ra, 1).await, wait_for(&rb, 1).await, wait_for(&rc, 1).await);
    assert_eq!(header(&gc[0], "x-authing-webhook-secret"), plain, "the plain secret is still sent as Authing sends it");
    assert_eq!(header(&gb[0], "x-authing-webhook-secret"), given);
    let plain_reencoded = format!("whsec_{}", STANDARD.encode(plain));
    let cases = json!([
        case("generated", &generated, None, &ga[0]),
        case("given", &given, None, &gb[0]),
        case("plain", &plain_reencoded, Some(plain), &gc[0]),
    ])
    .to_string();

    let dir = tokio::task::spawn_blocking(sdk_dir).await.unwrap();
    let env = cases.clone();
    let node = tokio::task::spawn_blocking(move || run_node(&dir, "standard_webhooks.cjs", &[("ORGRAPH_CASES", &env)])).await.unwrap();
    let python = run_python("standard_webhooks.py", &[("ORGRAPH_CASES", &cases)], Duration::from_secs(60)).await;
    for (library, summary) in [("npm standardwebhooks", &node), ("PyPI standardwebhooks", &python)] {
        let results = summary["results"].as_array().expect("results");
        assert_eq!(results.len(), 3, "{library}: {summary}");
        for r in results {
            assert_eq!(r["payload"]["eventName"], "user:created", "{library} {}: {r}", r["name"]);
            assert_eq!(r["payload"]["data"]["user"]["username"], "verified", "{library}: {r}");
            assert_eq!(r["tamperedRefused"], true, "{library} refuses a tampered body: {r}");
        }
        let plain = &results[2];
        assert_eq!(plain["plainAsIsVerifies"], false, "{library}: a plain secret as is is not a key: {plain}");
        assert_eq!(plain["rawFormat"], plain["payload"], "{library}: the plain secret's bytes as the key: {plain}");
    }
    assert_eq!(node["results"][2]["byHand"], true, "the documented check without a library");
}

#[tokio::test]
async fn whsec_secrets_are_checked_and_a_rotated_secret_is_shown_once() {
    let s = server(true).await;
    let c = s.admin().await;
    let (r, url) = receiver(&[]).await;
    let of = |n: usize| format!("whsec_{}", STANDARD.encode(vec![9u8; n]));
    let create_q = "mutation($u: String!, $s: String) { createWebhook(name: \"x\", url: $u, secret: $s, events: [\"user:created\"]) { id } }";
    let unpadded = of(32).trim_end_matches('=').to_string();
    for bad in [of(23), of(65), "whsec_not base64!".to_string(), unpadded] {
        let res = c.gql(create_q, json!({ "u": url, "s": bad })).await;
        let e = &res["errors"][0]["extensions"];
        assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("INVALID_INPUT"), Some("secret")), "{bad}: {res}");
    }
    assert_eq!(c.data("{ webhooks { id } }", json!({})).await["webhooks"], json!([]), "nothing was created");
    for good in [of(24), of(64)] {
        c.data(create_q, json!({ "u": url, "s": good })).await;
    }

    let hook = create_hook(&c, &url, Some("old-plain-secret")).await["id"].as_str().unwrap().to_string();
    let res = c.gql("mutation($id: String!) { updateWebhook(id: $id, secret: \"\") { id } }", json!({ "id": hook })).await;
    assert_eq!(res["errors"][0]["extensions"]["field"], "secret", "a secret cannot be removed: {res}");
    let d = c.data("mutation($id: String!) { rotateWebhookSecret(id: $id) { hasSecret secret } }", json!({ "id": hook })).await;
    let rotated = d["rotateWebhookSecret"]["secret"].as_str().expect("the new secret").to_string();
    assert!(rotated.starts_with("whsec_"), "{rotated}");
    let d = c.data("{ webhooks { secret } }", json!({})).await;
    assert!(d["webhooks"].as_array().unwrap().iter().all(|w| w["secret"].is_null()), "never listed: {d}");
    // The next request signs with the new key.
    c.data("mutation($id: String!) { testWebhook(id: $id) { responseStatus } }", json!({ "id": hook })).await;
    let got = &wait_for(&r, 1).await[0];
    let (id, ts) = (header(got, "webhook-id"), header(got, "webhook-timestamp").parse::<i64>().unwrap());
    assert_eq!(header(got, "webhook-signature"), signature(&signing_key(&rotated), id, ts, &got.body));
    assert_eq!(header(got, "x-authing-webhook-secret"), rotated);
    assert_eq!(c.error("mutation { rotateWebhookSecret(id: \"nope\") { id } }", json!({})).await.0, "NOT_FOUND");

    // Another pool can neither rotate this webhook's secret nor learn it: the webhook keeps signing
    // with the secret its own pool got.
    let (other, other_secret) = s.new_pool("other").await;
    let o = s.client_for(&other, &other_secret).await;
    let rotate_q = "mutation($id: String!) { rotateWebhookSecret(id: $id) { secret } }";
    assert_eq!(o.error(rotate_q, json!({ "id": hook })).await.0, "NOT_FOUND");
    c.data("mutation($id: String!) { testWebhook(id: $id) { responseStatus } }", json!({ "id": hook })).await;
    assert_eq!(header(&wait_for(&r, 2).await[1], "x-authing-webhook-secret"), rotated);
}

/// The next JSON line a receiver printed.
async fn next_line(lines: &mut Lines<BufReader<tokio::process::ChildStdout>>, what: &str) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("the receiver printed nothing for {what}"))
        .expect("stdout")
        .unwrap_or_else(|| panic!("the receiver stopped before {what}"));
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{what}: {line:?}: {e}"))
}

async fn delivery_status(c: &Client, hook: &str) -> Value {
    wait_for_value("the delivery to succeed or fail", || async {
        let d = c.data("query($id: String!) { webhook(id: $id) { deliveries { list { id eventId status } } } }", json!({ "id": hook })).await;
        let last = d["webhook"]["deliveries"]["list"][0].clone();
        (last["status"] == "succeeded" || last["status"] == "failed").then_some(last)
    })
    .await
}

/// The webhook receivers guide's Node and Python receivers, exactly as shown, against real
/// deliveries: they verify, handle a delivery sent again (same `webhook-id`) once, and refuse a
/// forged request. The guide shows the Rust one (compiled as an example) as it is too.
#[tokio::test(flavor = "multi_thread")]
async fn the_documented_receivers_verify_and_handle_each_delivery_once() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    const GUIDE: &str = "docs/guides/webhook-receivers.md";
    let guide = std::fs::read_to_string(root.join(GUIDE)).expect(GUIDE);
    let by_hand = std::fs::read_to_string(root.join("tests/sdk/standard_webhooks.cjs")).expect("script");
    let by_hand = by_hand.split("function byHand").nth(1).and_then(|f| f.split("  return ok;").next()).expect("byHand");
    let by_hand: Vec<&str> = by_hand.lines().skip(1).map(|l| l.strip_prefix("  ").unwrap_or(l)).collect();
    assert!(guide.contains(&by_hand.join("\n")), "{GUIDE} shows the check without a library as tested");
    let rust = std::fs::read_to_string(root.join("examples/webhook_receiver.rs")).expect("the Rust receiver");
    assert!(guide.contains(&rust), "{GUIDE} shows examples/webhook_receiver.rs as it is");
    let node_dir = tokio::task::spawn_blocking(sdk_dir).await.unwrap();
    let python = tokio::task::spawn_blocking(venv).await.unwrap().join("bin/python");
    let receivers = [
        ("tests/sdk/webhook_receiver.cjs", PathBuf::from("node"), node_dir.join("webhook_receiver.cjs")),
        ("tests/sdk-py/webhook_receiver.py", python, root.join("tests/sdk-py/webhook_receiver.py")),
    ];
    let s = server(true).await;
    let c = s.admin().await;
    let secret = given_secret();
    for (shown, program, script) in receivers {
        let text = std::fs::read_to_string(root.join(shown)).expect("receiver");
        assert!(guide.contains(&text), "{GUIDE} shows {shown} as it is");
        let mut child = tokio::process::Command::new(&program)
            .arg(&script)
            .env("WEBHOOK_SECRET", &secret)
            .env("PORT", "0")
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{program:?} runs: {e}"));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let port = next_line(&mut lines, "listening").await["listening"].as_u64().expect("a port");
        let url = format!("http://127.0.0.1:{port}/");
        let hook = create_hook(&c, &url, Some(&secret)).await["id"].as_str().unwrap().to_string();

        create(&c, json!({ "username": format!("via-{port}") })).await;
        let handled = next_line(&mut lines, "the delivery").await;
        assert_eq!(handled["eventName"], "user:created", "{shown}: {handled}");
        let delivery = delivery_status(&c, &hook).await;
        assert_eq!(delivery["status"], "succeeded", "{shown} answered 2xx");
        assert_eq!(handled["id"], delivery["eventId"], "webhook-id is the event's id");
        // Sent again with the same webhook-id: answered, not handled twice.
        c.data("mutation($id: String!) { retryDelivery(id: $id) { code } }", json!({ "id": delivery["id"] })).await;
        assert_eq!(next_line(&mut lines, "the retry").await, json!({ "duplicate": delivery["eventId"] }), "{shown}");
        assert_eq!(delivery_status(&c, &hook).await["status"], "succeeded");
        // A request orgraph did not sign is refused.
        let forged = reqwest::Client::new()
            .post(&url)
            .header("webhook-id", "msg_forged")
            .header("webhook-timestamp", chrono::Utc::now().timestamp().to_string())
            .header("webhook-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
            .body("{\"eventName\":\"user:created\",\"data\":{}}")
            .send()
            .await
            .expect("the receiver answers");
        assert_eq!(forged.status(), 401, "{shown}");
        c.data("mutation($id: String!) { deleteWebhook(id: $id) { code } }", json!({ "id": hook })).await;
        child.kill().await.ok();
    }
}
