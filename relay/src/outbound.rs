//! Requests the relay makes to addresses others chose (a profile's webhooks, the
//! knowledge crawler): only to public addresses, unless the config's
//! `outbound_allow` names the network.
//!
//! A name is resolved once, every address it gives is checked, and the connection
//! goes to the checked addresses (the client's own resolver does both, so there is no
//! second lookup to rebind). Addresses written into the URL are checked before the
//! request and on every redirect. The AI provider's base URL is the admin's own
//! choice and is not held to this.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A network written as `ADDRESS` or `ADDRESS/PREFIX` (`127.0.0.1/32`, `10.0.0.0/8`,
/// `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("\"{text}\" is not an IP address or network"))?;
        let most = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= most)
                .ok_or_else(|| format!("\"{text}\" has no valid prefix length (0 to {most})"))?,
            None => most,
        };
        Ok(Self { address, prefix })
    }
}

impl<'de> serde::Deserialize<'de> for Network {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => within(
                u128::from(u32::from(network)),
                u128::from(u32::from(ip)),
                32,
                self.prefix,
            ),
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                within(u128::from(network), u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn within(network: u128, ip: u128, bits: u8, prefix: u8) -> bool {
    let shift = u32::from(bits - prefix);
    prefix == 0 || (network >> shift) == (ip >> shift)
}

/// Why an address is not one the relay calls, in words for the log and the profile
/// check; `None` for a public address.
pub fn private_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => private_v4(ip),
        IpAddr::V6(ip) => private_v6(ip),
    }
}

fn private_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (100, 64..=127, _) => "shared (carrier-grade NAT)",
        (169, 254, _) => "link-local (cloud metadata lives here)",
        (192, 0, 0) => "IETF protocol assignments",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18 | 19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved or broadcast",
        _ => return None,
    })
}

fn private_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return private_v4(v4);
    }
    let segments = ip.segments();
    let embedded_v4 =
        |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    Some(match segments {
        [0, 0, 0, 0, 0, 0, 0, 0] => "unspecified",
        [0, 0, 0, 0, 0, 0, 0, 1] => "loopback",
        // IPv4-compatible (deprecated), NAT64 and 6to4 addresses carry an IPv4 one.
        [0, 0, 0, 0, 0, 0, high, low] | [0x64, 0xff9b, 0, 0, 0, 0, high, low] => {
            return private_v4(embedded_v4(high, low));
        }
        [0x2002, high, low, ..] => return private_v4(embedded_v4(high, low)),
        [first, ..] if first & 0xfe00 == 0xfc00 => "unique local",
        [first, ..] if first & 0xffc0 == 0xfe80 => "link-local",
        [first, ..] if first & 0xffc0 == 0xfec0 => "site-local",
        [first, ..] if first & 0xff00 == 0xff00 => "multicast",
        [0x2001, 0xdb8, ..] => "documentation",
        [0x2001, 0, ..] => "Teredo",
        [0x100, 0, 0, 0, ..] => "discard",
        _ => return None,
    })
}

/// Which addresses outbound requests may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Networks allowed although not public (the config's `outbound_allow`).
    pub allowed: Vec<Network>,
}

/// Why a request was not made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("\"{0}\" is not an http(s) URL")]
    NotHttp(String),
    #[error(
        "{host} is a {kind} address ({ip}); the relay only calls public addresses (see outbound_allow)"
    )]
    Private {
        host: String,
        ip: IpAddr,
        kind: &'static str,
    },
    #[error("{0} does not resolve to any address")]
    Unresolved(String),
}

impl OutboundPolicy {
    /// `None` when `ip` may be called.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        let kind = private_kind(ip)?;
        (!self.allowed.iter().any(|network| network.contains(ip))).then_some(kind)
    }

    /// Checks what the URL itself says: its scheme, and its host when that is an
    /// address (names are checked when they are resolved).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::NotHttp(url.to_string()));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(Refused::NotHttp(url.to_string())),
        };
        match self.refusal(ip) {
            Some(kind) => Err(Refused::Private {
                host: url.host_str().unwrap_or_default().to_owned(),
                ip,
                kind,
            }),
            None => Ok(()),
        }
    }

    /// Resolves `host` and checks every address it gives (the profile check's way to
    /// name a refused host before any chat calls it).
    pub async fn check_host(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refused> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| Refused::Unresolved(host.to_owned()))?
            .collect();
        if addrs.is_empty() {
            return Err(Refused::Unresolved(host.to_owned()));
        }
        for addr in &addrs {
            if let Some(kind) = self.refusal(addr.ip()) {
                return Err(Refused::Private {
                    host: host.to_owned(),
                    ip: addr.ip(),
                    kind,
                });
            }
        }
        Ok(addrs)
    }

    /// Checks a URL as a request to it would: its own words, then its name resolved.
    pub async fn check(&self, url: &Url) -> Result<(), Refused> {
        self.check_url(url)?;
        if let Some(url::Host::Domain(name)) = url.host() {
            self.check_host(name, url.port_or_known_default().unwrap_or(80))
                .await?;
        }
        Ok(())
    }
}

/// The resolver outbound clients use: a name whose addresses are not all allowed
/// fails, so the connection can only go to checked addresses.
struct CheckedResolver(Arc<OutboundPolicy>);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.0);
        Box::pin(async move {
            let addrs = policy.check_host(name.as_str(), 0).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// How an outbound client treats redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// Never followed (webhooks: the answer is the one asked for).
    None,
    /// Followed within the first URL's origin, each hop checked (the crawler).
    SameOrigin,
}

/// A client for requests to addresses others chose, held to the policy: the
/// addresses a URL spells out are checked before it is asked, names as they resolve.
#[derive(Clone)]
pub struct Outbound {
    policy: Arc<OutboundPolicy>,
    client: reqwest::Client,
}

impl Outbound {
    pub fn new(
        policy: &Arc<OutboundPolicy>,
        redirects: Redirects,
        timeout: Duration,
    ) -> reqwest::Result<Self> {
        let redirect = match redirects {
            Redirects::None => reqwest::redirect::Policy::none(),
            Redirects::SameOrigin => same_origin_redirects(Arc::clone(policy)),
        };
        let client = reqwest::Client::builder()
            .user_agent(concat!("porchlight/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect)
            .dns_resolver(Arc::new(CheckedResolver(Arc::clone(policy))))
            // A proxy would resolve names itself, past the check.
            .no_proxy()
            .timeout(timeout)
            .build()?;
        Ok(Self {
            policy: Arc::clone(policy),
            client,
        })
    }

    /// Checks a URL as a request to it would be, without making one.
    pub async fn check(&self, url: &Url) -> Result<(), Refused> {
        self.policy.check(url).await
    }

    pub fn get(&self, url: &Url) -> Result<reqwest::RequestBuilder, Refused> {
        self.policy.check_url(url)?;
        Ok(self.client.get(url.clone()))
    }

    pub fn post(&self, url: &Url) -> Result<reqwest::RequestBuilder, Refused> {
        self.policy.check_url(url)?;
        Ok(self.client.post(url.clone()))
    }
}

/// An error with its causes, as one line: a refused address shows through the
/// HTTP client's "error sending request".
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let said = inner.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = inner.source();
    }
    text
}

/// Follows at most five redirects, each within the first URL's origin and checked.
fn same_origin_redirects(policy: Arc<OutboundPolicy>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let first = attempt.previous().first().map(Url::origin);
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if first.as_ref() != Some(&attempt.url().origin()) {
            let to = attempt.url().to_string();
            attempt.error(format!("redirected to another site: {to}"))
        } else if let Err(refused) = policy.check_url(attempt.url()) {
            attempt.error(refused)
        } else {
            attempt.follow()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> Option<&'static str> {
        let url = Url::parse(url).unwrap();
        match OutboundPolicy::default().check_url(&url) {
            Err(Refused::Private { kind, .. }) => Some(kind),
            Err(other) => panic!("{other}"),
            Ok(()) => None,
        }
    }

    #[test]
    fn every_spelling_of_a_private_address_is_refused() {
        for url in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://0.0.0.0/",
            "http://0/",
            "http://10.1.2.3/",
            "http://172.20.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.100.100.200/",
            "http://[fd00:ec2::254]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2002:7f00:1::]/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
        ] {
            assert!(refused(url).is_some(), "{url} passed");
        }
        assert_eq!(
            refused("http://169.254.169.254/"),
            Some("link-local (cloud metadata lives here)")
        );
        for url in [
            "https://example.com/",
            "http://93.184.215.14/",
            "http://[2606:4700::1111]/",
        ] {
            assert_eq!(refused(url), None, "{url} refused");
        }
    }

    #[test]
    fn the_allow_list_opens_exactly_its_networks() {
        let policy = OutboundPolicy {
            allowed: vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()],
        };
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(policy.refusal(ip("127.0.0.1")), None);
        assert_eq!(policy.refusal(ip("127.0.0.2")), Some("loopback"));
        assert_eq!(policy.refusal(ip("10.200.0.1")), None);
        assert_eq!(policy.refusal(ip("192.168.0.1")), Some("private"));
        assert!("10.0.0.0/33".parse::<Network>().is_err());
        assert!("localhost".parse::<Network>().is_err());
        assert!("::/0".parse::<Network>().unwrap().contains(ip("::1")));
    }

    #[tokio::test]
    async fn names_are_checked_by_what_they_resolve_to() {
        let policy = OutboundPolicy::default();
        let err = policy.check_host("localhost", 80).await.unwrap_err();
        assert!(
            matches!(
                err,
                Refused::Private {
                    kind: "loopback",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("localhost is a loopback address")
        );
        let url = Url::parse("ftp://example.com/").unwrap();
        assert!(matches!(policy.check(&url).await, Err(Refused::NotHttp(_))));
    }
}
