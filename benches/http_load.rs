//! Closed-loop HTTP load with every answer checked: `concurrency` clients POST the same JSON body
//! back to back for `seconds`, then each finishes the request it has in flight (so a slow server's
//! requests are counted, not abandoned to keep running in the database meanwhile). Used by
//! `benches/postgraphile/run.sh` to drive orgraph and PostGraphile alike; prints one JSON line:
//! requests, errors (transport, non-200, GraphQL `errors`, failed checks), req/s, p50/p99/max ms.
//!
//!   cargo bench --bench http_load -- --url http://127.0.0.1:3000/graphql/v2 --body '{"query":…}' \
//!     --seconds 10 --concurrency 4 [--bearer TOKEN] --expect /data/x/totalCount=200000 \
//!     --expect-len /data/x/list=10 [--fresh-keys]
//!
//! `--expect POINTER=JSON` compares the value at a JSON pointer with a JSON value; `--expect-len
//! POINTER=N` the length of the array there.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    url: String,
    /// The request body (JSON text).
    #[arg(long)]
    body: String,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    #[arg(long)]
    bearer: Option<String>,
    #[arg(long)]
    expect: Vec<String>,
    #[arg(long)]
    expect_len: Vec<String>,
    /// Per request, in seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Send each request with a new `Idempotency-Key` (the cost of keyed writes).
    #[arg(long)]
    fresh_keys: bool,
    /// Passed by `cargo bench` to harness-less benches; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

enum Check {
    Equals(String, Value),
    Len(String, usize),
}

impl Check {
    fn parse(spec: &str, len: bool) -> anyhow::Result<Self> {
        let (pointer, value) = spec.split_once('=').ok_or_else(|| anyhow::anyhow!("expected POINTER=VALUE, got {spec}"))?;
        Ok(if len { Check::Len(pointer.into(), value.parse()?) } else { Check::Equals(pointer.into(), serde_json::from_str(value)?) })
    }

    fn holds(&self, v: &Value) -> bool {
        match self {
            Check::Equals(p, want) => v.pointer(p) == Some(want),
            Check::Len(p, n) => v.pointer(p).and_then(Value::as_array).map(Vec::len) == Some(*n),
        }
    }
}

struct Outcome {
    times: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut checks = Vec::new();
    for spec in &args.expect {
        checks.push(Check::parse(spec, false)?);
    }
    for spec in &args.expect_len {
        checks.push(Check::parse(spec, true)?);
    }
    let body: Value = serde_json::from_str(&args.body)?;
    // reqwest is built without a TLS provider of its own (plain HTTP here, but a Client needs one).
    orgraph::delivery::sender::install_tls_provider();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let line = rt.block_on(run(args, body, Arc::new(checks)))?;
    println!("{line}");
    Ok(())
}

async fn run(args: Args, body: Value, checks: Arc<Vec<Check>>) -> anyhow::Result<Value> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).timeout(Duration::from_secs(args.timeout)).build()?;
    let body = Arc::new(serde_json::to_vec(&body)?);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let mut tasks = Vec::new();
    for client_no in 0..args.concurrency {
        let (client, url, bearer, body, checks) = (client.clone(), args.url.clone(), args.bearer.clone(), body.clone(), checks.clone());
        let fresh_keys = args.fresh_keys;
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome { times: Vec::new(), errors: 0, first_error: None };
            let run = orgraph::ids::random_hex(4);
            while Instant::now() < deadline {
                let mut req = client.post(&url).header("content-type", "application/json").body(body.to_vec());
                if let Some(b) = &bearer {
                    req = req.bearer_auth(b);
                }
                if fresh_keys {
                    req = req.header("idempotency-key", format!("bench-{run}-{client_no}-{}", out.times.len() + out.errors));
                }
                match answer(req, &checks).await {
                    Ok(elapsed) => out.times.push(elapsed),
                    Err(e) => fail(&mut out, e),
                }
            }
            out
        }));
    }
    let (mut times, mut errors, mut first_error) = (Vec::new(), 0, None);
    for task in tasks {
        let out = task.await?;
        times.extend(out.times);
        errors += out.errors;
        first_error = first_error.or(out.first_error);
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort();
    let pct = |p: f64| if times.is_empty() { None } else { Some(times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0) };
    Ok(json!({
        "requests": times.len(),
        "errors": errors,
        "elapsed_s": elapsed,
        "rps": times.len() as f64 / elapsed,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "first_error": first_error,
    }))
}

/// Sends one request and checks its answer; its time runs until the whole body has arrived (not
/// parsed).
async fn answer(req: reqwest::RequestBuilder, checks: &[Check]) -> Result<Duration, String> {
    let t = Instant::now();
    let res = req.send().await.map_err(|e| format!("transport: {e}"))?;
    let status = res.status();
    let bytes = res.bytes().await.map_err(|e| format!("transport: {e}"))?;
    let elapsed = t.elapsed();
    if status != 200 {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes).chars().take(200).collect::<String>()));
    }
    judge(&bytes, checks)?;
    Ok(elapsed)
}

fn judge(bytes: &[u8], checks: &[Check]) -> Result<(), String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    if v.get("errors").is_some() || !checks.iter().all(|c| c.holds(&v)) {
        return Err(format!("bad answer: {}", v.to_string().chars().take(300).collect::<String>()));
    }
    Ok(())
}

fn fail(out: &mut Outcome, e: String) {
    out.errors += 1;
    out.first_error.get_or_insert(e);
}
