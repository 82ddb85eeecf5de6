//! Refusing non-public addresses.
//!
//! Article links come from feed content, which anyone can write: a link to
//! `http://169.254.169.254/` or `http://localhost:6379/` must not make a
//! server running secwire talk to its own network. The check runs on the
//! addresses a name resolves to (so a public name that points inside is
//! caught too) and on IP literals in URLs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// True for addresses on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            is_public_v6(v6)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || o[0] == 0                                   // "this network"
        || (o[0] == 100 && (o[1] & 0xC0) == 64)        // 100.64/10 carrier-grade NAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)     // 192.0.0/24 protocol assignments
        || (o[0] == 198 && (o[1] & 0xFE) == 18)        // 198.18/15 benchmarking
        || o[0] >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xFE00) == 0xFC00        // fc00::/7 unique local
        || (s[0] & 0xFFC0) == 0xFE80        // fe80::/10 link-local
        || (s[0] & 0xFFC0) == 0xFEC0        // fec0::/10 site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0DB8) // documentation
        || (s[0] == 0x0064 && s[1] == 0xFF9B)) // NAT64 well-known prefix maps to v4 space
}

/// The error a [`PublicOnlyResolver`] returns; the fetcher finds it in the
/// error chain and reports the URL as refused.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to non-public addresses ({addr})")]
pub struct NonPublicAddress {
    pub host: String,
    pub addr: IpAddr,
}

/// A resolver that drops non-public addresses and fails when none is left.
#[derive(Debug, Default, Clone)]
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let first = addrs.first().map(|a| a.ip());
            let public: Vec<SocketAddr> = addrs.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                let addr = first.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                return Err(Box::new(NonPublicAddress { host, addr }) as _);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(
                !is_public(bad.parse().unwrap()),
                "{bad} should be non-public"
            );
        }
        for good in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(good.parse().unwrap()), "{good} should be public");
        }
    }
}
