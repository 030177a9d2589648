//! The one live event stream behind every surface (the Authing event socket, GraphQL
//! subscriptions): a reader that pauses while thousands of events commit gets every one of them,
//! in commit order, once; an event the in-process bus carried late or never is read from the
//! outbox; the event socket resumes after an event id.

use std::time::Instant;

use futures_util::future::join_all;
use orgraph::domain::events::{EventName, Outbox};
use sea_orm::TransactionTrait;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;

use crate::{
    harness::TestServer,
    subscriptions::{next_event, recv, subscribe},
};

/// The event the readers ask for, and one they do not (mixed in, so catching up filters too).
const WANTED: EventName = EventName::Login;
const OTHER: EventName = EventName::Register;

/// Commit `n` events named [`WANTED`] (data `{"n": i}`), with an [`OTHER`] one after every tenth,
/// in `transactions` transactions (concurrent, when more than one). Answers the ids of the wanted
/// events in commit order.
async fn burst(s: &TestServer, n: usize, transactions: usize) -> Vec<String> {
    burst_events(s, n, transactions).await.into_iter().map(|e| e.id).collect()
}

/// [`burst`], answering the wanted events themselves, in commit order.
async fn burst_events(s: &TestServer, n: usize, transactions: usize) -> Vec<entity::event::Model> {
    let pool = s.pool().await;
    let per = n.div_ceil(transactions);
    let writes = (0..transactions).map(|t| {
        let (pool, writer) = (pool.clone(), s.state.writer.clone());
        async move {
            writer
                .write_events(&pool, async |_, outbox| {
                    for i in t * per..((t + 1) * per).min(n) {
                        outbox.record_published(WANTED, None, json!({ "n": i }));
                        if i % 10 == 0 {
                            outbox.record_published(OTHER, None, json!({}));
                        }
                    }
                    Ok(())
                })
                .await
                .expect("the burst commits")
        }
    });
    let mut events: Vec<_> = join_all(writes).await.into_iter().flatten().filter(|e| e.event_name == WANTED.as_str()).collect();
    events.sort_by_key(|e| e.seq);
    events
}

/// Read `expected.len()` events with `next` and check they are exactly `expected`, in order.
async fn read_all(expected: &[String], mut next: impl AsyncFnMut() -> Value) {
    for (i, want) in expected.iter().enumerate() {
        let got = next().await;
        assert_eq!(got["id"].as_str(), Some(want.as_str()), "event {i} of {}: {got}", expected.len());
    }
}

fn socket_url(s: &TestServer, token: &str, after: Option<&str>) -> String {
    let base = s.url.replacen("http", "ws", 1);
    let after = after.map(|a| format!("&after={a}")).unwrap_or_default();
    format!("{base}/events/v1/management/sub?code={}&token={token}{after}", WANTED.as_str())
}

#[tokio::test]
async fn a_paused_event_socket_reader_gets_every_event_of_a_burst_in_order() {
    let s = TestServer::start().await;
    let token = s.admin().await.token.expect("a token");
    let (mut ws, _) = connect_async(socket_url(&s, &token, None)).await.expect("connects");
    s.wait_for_subscriptions(1).await;
    let started = Instant::now();
    // The reader reads nothing while 10,000 events commit at once: far more than the bus holds.
    let mut expected = burst(&s, 10_000, 1).await;
    let committed = started.elapsed();
    read_all(&expected[..5_000], async || recv(&mut ws).await.expect("an event")).await;
    // Halfway, more commit from concurrent writers, while the reader is still behind.
    expected.extend(burst(&s, 1_000, 20).await);
    read_all(&expected[5_000..], async || recv(&mut ws).await.expect("an event")).await;
    eprintln!("{} events: committed in {committed:?}, all read in {:?}", expected.len(), started.elapsed());

    // A listener that reconnects with the last id it saw resumes right after it.
    let (mut again, _) = connect_async(socket_url(&s, &token, Some(&expected[10_499]))).await.expect("reconnects");
    read_all(&expected[10_500..], async || recv(&mut again).await.expect("an event")).await;
    let next = burst(&s, 1, 1).await;
    read_all(&next, async || recv(&mut again).await.expect("a live event")).await;
    read_all(&next, async || recv(&mut ws).await.expect("a live event")).await;
    // An unknown `after` is refused before the upgrade.
    assert!(connect_async(socket_url(&s, &token, Some("not-an-event"))).await.is_err());
}

#[tokio::test]
async fn a_paused_graphql_subscriber_gets_every_event_of_a_burst_in_order() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    // Live only (no `after`): the stream's cursor is where it started, not an event it sent.
    let mut ws = subscribe(&s, &c, "/graphql/ws", json!({ "names": [WANTED.as_str()] })).await;
    s.wait_for_subscriptions(1).await;
    let expected = burst(&s, 10_000, 1).await;
    read_all(&expected, async || next_event(&mut ws).await).await;
}

/// Commit one event without handing it to the bus (as when a writer is cancelled between its
/// commit and its publish, or the PostgreSQL relay reconnects).
async fn commit_unpublished(s: &TestServer, n: usize) -> entity::event::Model {
    let pool = s.pool().await;
    let txn = s.state.db.begin().await.expect("begin");
    let mut outbox = Outbox::new(&pool);
    outbox.record_published(WANTED, None, json!({ "n": n }));
    let events = outbox.flush(&txn).await.expect("flush");
    txn.commit().await.expect("commit");
    events.into_iter().next().expect("one event")
}

#[tokio::test]
async fn events_the_bus_carries_late_or_never_come_in_commit_order() {
    let s = TestServer::start().await;
    let token = s.admin().await.token.expect("a token");
    let (mut ws, _) = connect_async(socket_url(&s, &token, None)).await.expect("connects");
    s.wait_for_subscriptions(1).await;
    let bus = s.state.writer.bus();

    // Published in the wrong order: the later one waits for the earlier.
    let (first, second) = (commit_unpublished(&s, 0).await, commit_unpublished(&s, 1).await);
    let ids = vec![first.id.clone(), second.id.clone()];
    bus.publish(vec![second]);
    bus.publish(vec![first]);
    read_all(&ids, async || recv(&mut ws).await.expect("an event")).await;

    // Never published: read from the outbox when the next one shows the gap.
    let lost = commit_unpublished(&s, 2).await;
    let mut ids = vec![lost.id];
    ids.extend(burst(&s, 1, 1).await);
    read_all(&ids, async || recv(&mut ws).await.expect("an event")).await;
}

#[tokio::test]
async fn a_paused_reader_on_one_instance_gets_both_instances_events_in_commit_order() {
    let s1 = TestServer::start().await;
    if !s1.db.is_postgres() {
        eprintln!("skipped: several instances share a PostgreSQL database, not a SQLite file");
        return;
    }
    let s2 = s1.second().await;
    let token = s2.admin().await.token.expect("a token");
    let (mut ws, _) = connect_async(socket_url(&s2, &token, None)).await.expect("connects");
    s2.wait_for_subscriptions(1).await;
    // Both instances write at once: instance 2's own events reach its bus at commit, instance 1's
    // through the relay, later; the reader must get them in commit order all the same.
    let (mut expected, from_2) = tokio::join!(burst_events(&s1, 2_000, 20), burst_events(&s2, 2_000, 20));
    expected.extend(from_2);
    expected.sort_by_key(|e| e.seq);
    let expected: Vec<String> = expected.into_iter().map(|e| e.id).collect();
    read_all(&expected, async || recv(&mut ws).await.expect("an event")).await;
}
