//! The GraphQL playground: its page on `GET /graphql` (when it is not a WebSocket upgrade, see
//! subscriptions.rs) and its files on `GET /graphql/assets/{name}`, all embedded in the binary
//! by build.rs (GraphiQL 5 bundled by Vite from `playground/`, gzipped). Nothing comes from
//! another origin, and the page's Content-Security-Policy lets the browser load nothing else.
//! Every URL in the page is relative, so it works wherever orgraph is mounted.
//!
//! `--graphiql false` turns both routes off (404).

use std::io::Read as _;

use axum::{
    extract::{Path, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::HttpState;

/// One file of the playground as build.rs embedded it.
pub struct EmbeddedFile {
    /// Relative to the page: `index.html`, `graphql/assets/<name>-<hash>.<ext>`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub etag: &'static str,
    pub gzip: &'static [u8],
}

mod embedded {
    use super::EmbeddedFile;
    include!(concat!(env!("OUT_DIR"), "/playground_assets.rs"));
}

/// Why this binary serves the fallback page instead of the playground, if it does.
pub fn not_built_reason() -> Option<&'static str> {
    embedded::FALLBACK
}

fn file(path: &str) -> Option<&'static EmbeddedFile> {
    embedded::FILES.iter().find(|f| f.path == path)
}

/// Asset names carry a hash of their content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `GET /graphql`: the page. Revalidated on every visit (`no-cache`, with an ETag) so a new
/// binary's assets are picked up at once.
pub fn page(http: &HttpState, req: &Request) -> Response {
    if !http.app.config.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(index) = file("index.html") else { return StatusCode::NOT_FOUND.into_response() };
    let mut res = serve(index, req.headers(), "no-cache");
    let h = res.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(host(req))) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

/// `GET /graphql/assets/{name}`.
pub async fn asset(State(http): State<HttpState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    if !http.app.config.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    match file(&format!("graphql/assets/{name}")) {
        Some(f) => serve(f, &headers, IMMUTABLE),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The file as stored (gzip) when the client accepts it, else decompressed; 304 when the
/// client's copy is current.
fn serve(f: &'static EmbeddedFile, headers: &HeaderMap, cache_control: &'static str) -> Response {
    let not_modified = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == f.etag || tag == "*");
    let mut res = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else if accepts_gzip(headers) {
        let mut res = f.gzip.into_response();
        res.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        res
    } else {
        let mut plain = Vec::new();
        if let Err(e) = flate2::read::GzDecoder::new(f.gzip).read_to_end(&mut plain) {
            tracing::error!(path = f.path, error = %e, "embedded playground file does not decompress");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        plain.into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(f.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    h.insert(header::ETAG, HeaderValue::from_static(f.etag));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// Whether `Accept-Encoding` allows gzip (`gzip`, `x-gzip` or `*`, with a q-value above 0).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut star = false;
    for value in headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()) {
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match coding.as_str() {
                "gzip" | "x-gzip" => return q > 0.0,
                "*" => star = q > 0.0,
                _ => {}
            }
        }
    }
    star
}

/// The host the page was asked for (`Host`, or the authority of an HTTP/2 request), when it is
/// a plain host[:port].
fn host(req: &Request) -> Option<&str> {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).or_else(|| req.uri().authority().map(|a| a.as_str()))?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']'));
    plain.then_some(host)
}

/// Same origin only. GraphiQL's editor (Monaco) adds `<style>` elements, hence
/// `'unsafe-inline'` for styles (and only for them); its CSS embeds `data:` fonts and images.
/// `'self'` covers same-origin WebSockets in current browsers; the host's `ws:`/`wss:` are
/// named too for older ones.
fn content_security_policy(host: Option<&str>) -> String {
    let ws = host.map(|h| format!(" ws://{h} wss://{h}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'{ws}; \
         style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip(&with_accept("gzip, deflate, br")));
        assert!(accepts_gzip(&with_accept("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&with_accept("*")));
        assert!(!accepts_gzip(&with_accept("gzip;q=0, *")));
        assert!(!accepts_gzip(&with_accept("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn the_page_and_its_assets_are_embedded() {
        let index = file("index.html").expect("index.html");
        let mut html = String::new();
        flate2::read::GzDecoder::new(index.gzip).read_to_string(&mut html).unwrap();
        // Every file the page names is embedded, under a relative URL.
        for src in html.split("=\"./").skip(1).filter_map(|s| s.split('"').next()) {
            assert!(file(src).is_some(), "{src} is named by the page but not embedded");
        }
        assert!(html.contains("./graphql/assets/"), "the page loads its assets by relative URLs");
    }
}
