//! GraphQL over HTTP on `/graphql`: graphql-http's audit suite, unchanged, and the behaviours
//! it does not check (GET refusals, the playground for browsers, `/graphql/v2` as Authing's).

use serde_json::{Value, json};

use crate::{harness::TestServer, sdk::run_sdk_script};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test(flavor = "multi_thread")]
async fn graphql_http_audits_pass_every_must_and_should() {
    let s = TestServer::start().await;
    let summary = run_sdk_script(&s, "graphql_http_audit.cjs").await;
    eprintln!("graphql-http audits: {} (failed: {})", summary["counts"], summary["failures"]);
    let failures: Vec<&Value> = summary["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter(|f| f["name"].as_str().is_some_and(|n| n.starts_with("MUST") || n.starts_with("SHOULD")))
        .collect();
    assert!(failures.is_empty(), "MUST and SHOULD audits failed: {failures:#?}");
    // Every audit ran: graphql-http 1.23.1 has 13 MUST and 48 SHOULD or MAY audits.
    assert_eq!(summary["total"], 61, "{summary}");
    assert_eq!(summary["counts"]["MUST"]["ok"], 13, "{summary}");
}

async fn post(s: &TestServer, accept: Option<&str>, body: &str) -> reqwest::Response {
    let mut req = reqwest::Client::new().post(format!("{}/graphql", s.url)).header("content-type", "application/json").body(body.to_string());
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    req.send().await.expect("sent")
}

fn content_type(res: &reqwest::Response) -> String {
    res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

#[tokio::test]
async fn request_errors_are_400_without_data_for_graphql_response_json_and_200_for_json() {
    let s = TestServer::start().await;
    for (body, code) in [("{\"query\":\"{ __typename \"}", "GRAPHQL_VALIDATION_FAILED"), ("{\"query\":\"{ noSuchField }\"}", "GRAPHQL_VALIDATION_FAILED")] {
        let res = post(&s, Some(GRAPHQL_RESPONSE), body).await;
        assert_eq!(res.status(), 400, "{body}");
        assert!(content_type(&res).starts_with(GRAPHQL_RESPONSE));
        let v: Value = res.json().await.unwrap();
        assert!(v.get("data").is_none(), "no data when nothing ran: {v}");
        assert_eq!(v["errors"][0]["extensions"]["code"], code, "{v}");

        let res = post(&s, Some("application/json"), body).await;
        assert_eq!(res.status(), 200, "{body}");
        assert!(content_type(&res).starts_with("application/json"));
        let v: Value = res.json().await.unwrap();
        assert!(v.get("data").is_none() && v["errors"][0]["message"].is_string(), "{v}");
    }
    // A variable that does not fit its type is a request error too.
    let body = json!({ "query": "query($id: String!) { nodeById(id: $id) { id } }", "variables": { "id": 5 } }).to_string();
    assert_eq!(post(&s, Some(GRAPHQL_RESPONSE), &body).await.status(), 400);
    // A field error is not: the operation ran, and `data` is there.
    let body = json!({ "query": "{ nodeById(id: \"nope\") { id } }" }).to_string();
    let res = post(&s, Some(GRAPHQL_RESPONSE), &body).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert!(v.get("data").is_some() && v["errors"][0]["path"].is_array(), "{v}");

    // Not a GraphQL request at all: 4xx in either type, nothing run.
    for (accept, body, status) in [
        (GRAPHQL_RESPONSE, "{", 400),
        ("application/json", "{", 400),
        ("application/json", "[1]", 400),
        ("application/json", "{\"query\": 7}", 400),
        ("application/json", "{\"variables\": {}}", 400),
    ] {
        let res = post(&s, Some(accept), body).await;
        assert_eq!(res.status(), status, "{accept} {body}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{v}");
    }
    let res = reqwest::Client::new().post(format!("{}/graphql", s.url)).body("{\"query\":\"{ __typename }\"}").send().await.unwrap();
    assert_eq!(res.status(), 415, "a POST without a content type");
    let res = post(&s, Some("text/csv"), "{\"query\":\"{ __typename }\"}").await;
    assert_eq!(res.status(), 406);
}

#[tokio::test]
async fn a_get_runs_queries_as_json_and_refuses_mutations() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let http = reqwest::Client::new();
    let get = |query: &[(&str, &str)], accept: &str| {
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
        http.get(format!("{}/graphql?{query}", s.url)).bearer_auth(c.token.as_deref().unwrap_or("")).header("accept", accept).send()
    };
    let doc = "query A { orgs { totalCount } } query B { __typename }";
    let res = get(&[("query", doc), ("operationName", "A")], "application/json").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(content_type(&res).starts_with("application/json"));
    let v: Value = res.json().await.unwrap();
    assert_eq!(v, json!({ "data": { "orgs": { "totalCount": 0 } } }), "operationName selects A");
    let v: Value = get(&[("query", doc), ("operationName", "B")], GRAPHQL_RESPONSE).await.unwrap().json().await.unwrap();
    assert_eq!(v["data"]["__typename"], "Query");
    let v: Value = get(&[("query", "query($n: String!) { __type(name: $n) { name } }"), ("variables", "{\"n\":\"Node\"}")], "*/*")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["__type"]["name"], "Node");

    let mutation = "mutation { createOrg(name: \"x\", code: \"x\") { id } }";
    let res = get(&[("query", mutation)], "application/json").await.unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.headers().get("allow").is_some_and(|v| v.to_str().unwrap().contains("POST")));
    let v: Value = post(&s, None, &json!({ "query": "{ orgs { totalCount } }" }).to_string()).await.json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "the anonymous check: {v}");
    let v: Value = get(&[("query", "{ orgs { totalCount } }")], "application/json").await.unwrap().json().await.unwrap();
    assert_eq!(v["data"]["orgs"]["totalCount"], 0, "nothing was created by the refused GET");

    // A browser opening the URL gets the playground, with or without a query in it; a JSON
    // client asking without a query gets the spec's 400.
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for query in [&[][..], &[("query", "{ __typename }")][..]] {
        let res = get(query, browser).await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(content_type(&res).starts_with("text/html"), "{query:?}");
    }
    assert_eq!(get(&[], "application/json").await.unwrap().status(), 400);
}

#[tokio::test]
async fn the_authing_endpoint_keeps_its_own_answers() {
    let s = TestServer::start().await;
    // Authing's SDKs read a 200 with `application/json` and the error object in `message`,
    // whatever the request asked for.
    let res = reqwest::Client::new()
        .post(format!("{}/graphql/v2", s.url))
        .header("accept", GRAPHQL_RESPONSE)
        .json(&json!({ "query": "{ noSuchField }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(content_type(&res).starts_with("application/json"));
    let v: Value = res.json().await.unwrap();
    assert!(v["errors"][0]["message"]["code"].is_i64(), "{v}");
}
