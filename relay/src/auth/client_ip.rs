//! The address a request comes from: the peer's, or, when the peer is one of the
//! config's `trusted_proxies`, the nearest address in `X-Forwarded-For` that is not a
//! trusted proxy (the ones further left could be written by anyone); and whether the
//! browser came over https (the config's `public_url`, or a trusted proxy's
//! `X-Forwarded-Proto`).

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::outbound::Network;
use crate::state::AppState;

/// Who is asking, by address, for per-address limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

/// The client's address from the peer's and the forwarding header.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Network]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|network| network.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(*ip))
        .unwrap_or(peer)
}

/// The peer's address. Served by `Relay::run`, every request knows it; a router
/// served otherwise counts every caller as one.
fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(Self(client_ip(
            peer(parts),
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// Whether the browser reached the relay over https (so cookies get `Secure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Https(pub bool);

/// Over https when the relay's public address is, or a trusted proxy says so.
pub fn is_https(
    public_url: Option<&str>,
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[Network],
) -> bool {
    if public_url.is_some_and(|url| url.starts_with("https://")) {
        return true;
    }
    trusted.iter().any(|network| network.contains(peer))
        && headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

impl FromRequestParts<AppState> for Https {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let config = &state.config;
        Ok(Self(is_https(
            config.public_url.as_deref(),
            peer(parts),
            &parts.headers,
            &config.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", forwarded.parse().unwrap());
        headers
    }

    #[test]
    fn only_a_trusted_proxy_may_say_who_the_client_is() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let proxies: Vec<Network> = vec!["10.0.0.0/8".parse().unwrap()];
        // A stranger's header is ignored.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers("1.2.3.4"), &proxies),
            ip("203.0.113.9")
        );
        // Through the proxy: the nearest untrusted address, not one the client wrote.
        assert_eq!(
            client_ip(
                ip("10.0.0.2"),
                &headers("6.6.6.6, 198.51.100.7, 10.0.0.3"),
                &proxies
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &proxies),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers("not an address"), &proxies),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn https_is_the_public_urls_or_a_trusted_proxys_word() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let proxies: Vec<Network> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut forwarded = HeaderMap::new();
        forwarded.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(is_https(
            Some("https://chat.example.com"),
            ip("1.2.3.4"),
            &HeaderMap::new(),
            &[]
        ));
        assert!(!is_https(
            Some("http://localhost:8080"),
            ip("1.2.3.4"),
            &forwarded,
            &[]
        ));
        assert!(is_https(None, ip("10.0.0.2"), &forwarded, &proxies));
        assert!(
            !is_https(None, ip("1.2.3.4"), &forwarded, &proxies),
            "not from a stranger"
        );
        assert!(!is_https(None, ip("10.0.0.2"), &HeaderMap::new(), &proxies));
    }
}
