//! Which address a request comes from: its TCP peer, or, when that peer is a trusted reverse
//! proxy (`--trusted-proxies`), the address the proxies forwarded in `--forwarded-header`, read
//! from the right past every trusted hop. Computed once per request by the accept loop; the
//! credential throttle, the request log and everything else read it with [`client_address`].
//!
//! From the right, because each proxy appends the address it saw: the rightmost entries are
//! written by proxies we trust, anything left of the first untrusted one was sent by the client
//! and may be made up. The walk is bounded (bytes and hops read), whatever the headers hold.

use std::net::{IpAddr, SocketAddr};

use axum::http::{Extensions, HeaderMap, HeaderName, header};
use ipnet::IpNet;

use crate::config::ForwardedHeader;

/// Bytes of forwarding headers read, from the right; a longer header is cut at an entry.
const MAX_FORWARDED_BYTES: usize = 4096;
/// Entries read, from the right.
const MAX_HOPS: usize = 16;

/// The address a request comes from, as the accept loop computed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// A request's client address, if the accept loop served it (always, outside unit tests).
pub fn client_address(extensions: &Extensions) -> Option<IpAddr> {
    extensions.get::<ClientAddress>().map(|c| c.0)
}

/// The proxies whose forwarding header is believed, and which header that is.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: HeaderName,
    rfc7239: bool,
}

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>, header: ForwardedHeader) -> Self {
        let (header, rfc7239) = match header {
            ForwardedHeader::XForwardedFor => (HeaderName::from_static("x-forwarded-for"), false),
            ForwardedHeader::Forwarded => (header::FORWARDED, true),
        };
        TrustedProxies { networks, header, rfc7239 }
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(&addr))
    }

    /// The client of a request from TCP `peer` with `headers`: the peer itself unless it is
    /// trusted; else the rightmost forwarded address that is not trusted. When the entries run
    /// out, are cut by the bounds, or one cannot be read (`unknown`, an obfuscated name), the
    /// last trusted hop reached is the answer: nothing left of it can be believed.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let mut budget = MAX_FORWARDED_BYTES;
        let mut hops = 0;
        // Several header lines are one list, in order: read the last line first.
        for value in headers.get_all(&self.header).iter().rev() {
            let Ok(line) = value.to_str() else { return client };
            let (text, cut) = match line.len().checked_sub(budget) {
                None | Some(0) => (line, false),
                // Keep the last `budget` bytes, less the entry the cut went through.
                Some(start) => (line.get(start..).and_then(|t| t.split_once(',')).map_or("", |(_, rest)| rest), true),
            };
            budget -= text.len().min(budget);
            let entries = if self.rfc7239 { forwarded_for(text) } else { text.split(',').map(Some).collect() };
            for entry in entries.into_iter().rev() {
                hops += 1;
                let Some(addr) = entry.and_then(parse_node).filter(|_| hops <= MAX_HOPS) else { return client };
                client = addr;
                if !self.trusts(addr) {
                    return addr;
                }
            }
            if cut || budget == 0 {
                return client;
            }
        }
        client
    }
}

/// The `for=` value of each element of an RFC 7239 `Forwarded` line, in order (`None` for an
/// element without one). Commas and semicolons inside quoted strings do not split.
fn forwarded_for(line: &str) -> Vec<Option<&str>> {
    split_unquoted(line, ',')
        .into_iter()
        .map(|element| {
            split_unquoted(element, ';').into_iter().find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| value.trim())
            })
        })
        .collect()
}

/// `text` split at each `separator` outside a quoted string (where `\` escapes a character).
fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// An address as proxies write it: `192.0.2.7`, `192.0.2.7:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, `[2001:db8::1]`, optionally in quotes (RFC 7239). Anything else
/// (`unknown`, `_hidden`) is `None`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    let addr = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| text.strip_prefix('[')?.strip_suffix(']')?.parse::<IpAddr>().ok())?;
    Some(addr.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(nets: &[&str], header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().expect("a network")).collect(), header)
    }

    fn client(p: &TrustedProxies, peer: &str, lines: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(p.header.clone(), line.parse().expect("a header value"));
        }
        p.client_of(peer.parse().expect("an address"), &headers).to_string()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let p = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        assert_eq!(client(&p, "198.51.100.1", &["203.0.113.9"]), "198.51.100.1");
        let none = proxies(&[], ForwardedHeader::XForwardedFor);
        assert_eq!(client(&none, "10.0.0.1", &["203.0.113.9"]), "10.0.0.1");
    }

    #[test]
    fn x_forwarded_for_is_read_from_the_right_past_trusted_hops() {
        let p = proxies(&["10.0.0.0/8", "127.0.0.1/32"], ForwardedHeader::XForwardedFor);
        // The client claimed 1.2.3.4; the first proxy saw 203.0.113.9; a second one saw 10.0.0.5.
        assert_eq!(client(&p, "127.0.0.1", &["1.2.3.4, 203.0.113.9, 10.0.0.5"]), "203.0.113.9");
        // Several lines are one list.
        assert_eq!(client(&p, "127.0.0.1", &["1.2.3.4", "203.0.113.9, 10.0.0.5"]), "203.0.113.9");
        // No header: the proxy itself. Only trusted hops: the leftmost.
        assert_eq!(client(&p, "10.0.0.1", &[]), "10.0.0.1");
        assert_eq!(client(&p, "10.0.0.1", &["10.0.0.7, 10.0.0.5"]), "10.0.0.7");
        // An entry that is not an address stops the walk at the last trusted hop.
        assert_eq!(client(&p, "10.0.0.1", &["203.0.113.9, unknown, 10.0.0.5"]), "10.0.0.5");
        assert_eq!(client(&p, "10.0.0.1", &[""]), "10.0.0.1");
        // Ports and brackets, and an IPv4-mapped peer.
        assert_eq!(client(&p, "::ffff:127.0.0.1", &["203.0.113.9:4711"]), "203.0.113.9");
        assert_eq!(client(&p, "127.0.0.1", &["[2001:db8::1]:4711"]), "2001:db8::1");
        assert_eq!(client(&p, "127.0.0.1", &["2001:db8::1"]), "2001:db8::1");
    }

    #[test]
    fn forwarded_is_read_from_its_for_parameters() {
        let p = proxies(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        assert_eq!(client(&p, "10.0.0.1", &["for=1.2.3.4, for=203.0.113.9;proto=https, for=10.0.0.5"]), "203.0.113.9");
        assert_eq!(client(&p, "10.0.0.1", &[r#"For="[2001:db8:cafe::17]:4711";by=10.0.0.1"#]), "2001:db8:cafe::17");
        // A quoted comma does not split an element.
        assert_eq!(client(&p, "10.0.0.1", &[r#"for="x,y", for=203.0.113.9"#]), "203.0.113.9");
        // An element without for=, or obfuscated: stop at the last trusted hop.
        assert_eq!(client(&p, "10.0.0.1", &["for=203.0.113.9, proto=https"]), "10.0.0.1");
        assert_eq!(client(&p, "10.0.0.1", &["for=203.0.113.9, for=_hidden, for=10.0.0.5"]), "10.0.0.5");
        // X-Forwarded-For is not read when Forwarded is the header.
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9".parse().expect("value"));
        assert_eq!(p.client_of("10.0.0.1".parse().expect("addr"), &headers).to_string(), "10.0.0.1");
    }

    #[test]
    fn the_walk_is_bounded() {
        let p = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        // More trusted hops than are read: the last one read.
        let hops: Vec<String> = (1..=40).map(|i| format!("10.0.0.{i}")).collect();
        assert_eq!(client(&p, "10.0.0.1", &[&hops.join(",")]), "10.0.0.25");
        // A huge header: only its tail is read, and the real client is at its right end.
        let long = format!("{}, 203.0.113.9", "1.1.1.1,".repeat(100_000));
        assert_eq!(client(&p, "10.0.0.1", &[&long]), "203.0.113.9");
        // Cut in the middle of trusted hops: the last hop read, never an address left of the cut.
        let long = format!("203.0.113.9,{}", vec!["10.0.0.9"; 1000].join(","));
        assert_eq!(client(&p, "10.0.0.1", &[&long]), "10.0.0.9");
    }
}
