//! Receives orgraph's webhooks: verifies the signature, handles each webhook-id once, answers
//! 204 at once and does the work after. WEBHOOK_SECRET is the webhook's whsec_ secret.
use std::{collections::HashSet, sync::{Arc, Mutex}};

use axum::{Router, body::Bytes, extract::State, http::{HeaderMap, StatusCode}, routing::post};
use standardwebhooks::Webhook;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

#[derive(Clone)]
struct Receiver {
    wh: Arc<Webhook>,
    seen: Arc<Mutex<HashSet<String>>>, // in production: a table with a unique key on the id
    jobs: UnboundedSender<(String, serde_json::Value)>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if r.wh.verify(&body, &headers).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    let id = headers["webhook-id"].to_str().unwrap_or_default().to_string();
    if r.seen.lock().unwrap().insert(id.clone()) {
        let event = serde_json::from_slice(&body).unwrap_or_default();
        let _ = r.jobs.send((id, event));
    } else {
        println!("{}", serde_json::json!({ "duplicate": id })); // a retry of one already handled
    }
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() {
    let wh = Webhook::new(&std::env::var("WEBHOOK_SECRET").expect("WEBHOOK_SECRET")).expect("a whsec_ secret");
    let (jobs, mut queue) = unbounded_channel::<(String, serde_json::Value)>();
    tokio::spawn(async move {
        while let Some((id, event)) = queue.recv().await {
            println!("{}", serde_json::json!({ "id": id, "eventName": event["eventName"] })); // the real work
        }
    });
    let state = Receiver { wh: Arc::new(wh), seen: Default::default(), jobs };
    let app = Router::new().route("/", post(receive)).with_state(state);
    let port = std::env::var("PORT").unwrap_or_else(|_| "8000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await.unwrap();
    println!("{}", serde_json::json!({ "listening": listener.local_addr().unwrap().port() }));
    axum::serve(listener, app).await.unwrap();
}
