//! Where webhooks may go: by default not to loopback, private, link-local (which holds cloud
//! metadata, 169.254.169.254), shared, multicast or unspecified addresses, checked on the
//! addresses a name resolves to (the connection then uses exactly those). Hosts and IPs on the
//! allow-list (`--webhook-allow-hosts`) are exempt.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: Arc<Vec<String>>,
}

impl Guard {
    pub fn new(allow: &[String]) -> Self {
        Guard { allow: Arc::new(allow.iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect()) }
    }

    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        self.allow.contains(&host)
    }

    /// May a connection go to `ip` (reached through `host`)?
    pub fn ip_allowed(&self, host: &str, ip: IpAddr) -> bool {
        self.host_allowed(host) || self.host_allowed(&ip.to_string()) || is_public(ip)
    }
}

impl Guard {
    /// Refuse a host whose addresses are all off limits (for requests sent through a proxy,
    /// which resolves the name itself).
    pub async fn check_host(&self, host: &str, port: u16) -> Result<(), String> {
        let addrs: Vec<SocketAddr> =
            tokio::net::lookup_host((host, port)).await.map_err(|e| format!("{host}: {e}"))?.collect();
        if addrs.is_empty() || addrs.iter().any(|a| !self.ip_allowed(host, a.ip())) {
            return Err(format!("{host} resolves to an address webhooks may not reach (see --webhook-allow-hosts)"));
        }
        Ok(())
    }
}

pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))) // shared address space (CGNAT)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80) // link-local
        }
    }
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs.into_iter().filter(|a| guard.ip_allowed(&host, a.ip())).collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves only to addresses webhooks may not reach").into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_metadata_addresses_are_refused_unless_allowed() {
        for ip in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        let g = Guard::new(&["127.0.0.1".into(), "Receiver.local".into()]);
        assert!(g.ip_allowed("127.0.0.1", "127.0.0.1".parse().unwrap()));
        assert!(g.ip_allowed("receiver.local", "10.0.0.1".parse().unwrap()));
        assert!(!g.ip_allowed("other", "10.0.0.1".parse().unwrap()));
    }
}
