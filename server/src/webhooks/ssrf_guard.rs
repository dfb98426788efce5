//! The SSRF guard: a delivery reaches only public addresses, checked after
//! DNS, unless `APPDECK_WEBHOOK_ALLOWED_HOSTS` allows the host or address.
//!
//! The check lives in the HTTP client's resolver (`GuardedResolver`), so the
//! connection goes to the very addresses that were checked: a second lookup
//! could answer otherwise (DNS rebinding). The client skips its resolver for
//! a URL whose host is an address, so `check_url_host` vets those first.

use std::{
    error::Error,
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::allowed_hosts::AllowedHosts;

/// Names that reach a cloud provider's instance metadata, whatever they
/// resolve to from here.
const METADATA_HOST_NAMES: &[&str] =
    &["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"];

/// Why a delivery was not sent; its text is the attempt's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(String);

impl fmt::Display for Refused {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "refused: {}", self.0)
    }
}

impl Error for Refused {}

impl Refused {
    /// The refusal somewhere in an error's chain of causes, if any.
    pub fn in_chain<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a Refused> {
        let mut cause = Some(error);
        while let Some(current) = cause {
            if let Some(refused) = current.downcast_ref::<Refused>() {
                return Some(refused);
            }
            cause = current.source();
        }
        None
    }
}

/// What kind of internal address this is, or `None` for a public one.
/// An IPv4 address inside IPv6 is judged as IPv4: mapped (`::ffff:10.0.0.1`),
/// the deprecated compatible form (`::10.0.0.1`), and the NAT64 well-known
/// prefix (`64:ff9b::10.0.0.1`), which a NAT64 gateway forwards to it.
pub fn internal_kind(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(address) => internal_v4_kind(address),
        IpAddr::V6(address) => match embedded_v4(address) {
            Some(embedded) => internal_v4_kind(embedded),
            None => internal_v6_kind(address),
        },
    }
}

fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = address.segments();
    let [low, high] = [segments[6], segments[7]];
    let v4 = Ipv4Addr::from((u32::from(low) << 16) | u32::from(high));
    match segments[..6] {
        [0, 0, 0, 0, 0, 0xffff] | [0x64, 0xff9b, 0, 0, 0, 0] => Some(v4),
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0] if low != 0 => Some(v4),
        _ => None,
    }
}

fn internal_v4_kind(address: Ipv4Addr) -> Option<&'static str> {
    let [first, second, ..] = address.octets();
    if address.is_loopback() {
        Some("a loopback address")
    } else if address.is_private() {
        Some("a private address")
    } else if address.is_link_local() {
        Some("a link-local address (cloud metadata lives there)")
    } else if first == 100 && (64..128).contains(&second) {
        Some("a shared (carrier-grade NAT) address")
    } else if first == 0 {
        Some("an unspecified address")
    } else if address.is_multicast() || address.is_broadcast() || first >= 240 {
        Some("a multicast, broadcast or reserved address")
    } else {
        None
    }
}

fn internal_v6_kind(address: Ipv6Addr) -> Option<&'static str> {
    let first_segment = address.segments()[0];
    if address.is_loopback() {
        Some("a loopback address")
    } else if address.is_unspecified() {
        Some("an unspecified address")
    } else if first_segment & 0xfe00 == 0xfc00 {
        Some("a private address")
    } else if first_segment & 0xffc0 == 0xfe80 {
        Some("a link-local address (cloud metadata lives there)")
    } else if address.is_multicast() {
        Some("a multicast, broadcast or reserved address")
    } else {
        None
    }
}

/// Refuses an internal address the allowed list does not name.
pub fn check_address(allowed: &AllowedHosts, address: IpAddr) -> Result<(), Refused> {
    match internal_kind(address) {
        Some(kind) if !allowed.allows_address(address) => Err(Refused(format!("{address} is {kind}"))),
        _ => Ok(()),
    }
}

/// Vets a URL's host before the request: an address literal is checked
/// here (the resolver never sees it), and a metadata name is refused
/// unless allowed by name. Any other name is checked by `GuardedResolver`.
pub fn check_url_host(allowed: &AllowedHosts, url: &reqwest::Url) -> Result<(), Refused> {
    let host = url.host_str().ok_or_else(|| Refused("the URL has no host".to_owned()))?;
    // The URL parser has already turned every spelling of an address
    // (`2130706433`, `0x7f.1`, `[::ffff:7f00:1]`) into its plain form.
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(address) => check_address(allowed, address),
        Err(_) => check_name(allowed, host),
    }
}

fn check_name(allowed: &AllowedHosts, name: &str) -> Result<(), Refused> {
    let normalized = name.trim_end_matches('.').to_ascii_lowercase();
    if METADATA_HOST_NAMES.contains(&normalized.as_str()) && !allowed.allows_host(name) {
        return Err(Refused(format!("{normalized} is a cloud metadata name")));
    }
    Ok(())
}

/// The HTTP client's resolver: the system's lookup, then every address
/// checked; one internal address refuses the host, so the answer cannot
/// mix a public address with an internal one.
#[derive(Clone)]
pub struct GuardedResolver {
    allowed: Arc<AllowedHosts>,
}

impl GuardedResolver {
    pub fn new(allowed: Arc<AllowedHosts>) -> Self {
        Self { allowed }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            check_name(&allowed, &host)?;
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allowed.allows_host(&host) {
                for address in &addresses {
                    check_address(&allowed, address.ip())?;
                }
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(allowed: &AllowedHosts, address: &str) -> Option<String> {
        check_address(allowed, address.parse().unwrap()).err().map(|refused| refused.to_string())
    }

    #[test]
    fn internal_addresses_are_refused_with_their_kind() {
        let none = AllowedHosts::default();
        let cases = [
            ("10.0.0.5", "refused: 10.0.0.5 is a private address"),
            ("172.16.0.1", "refused: 172.16.0.1 is a private address"),
            ("192.168.1.1", "refused: 192.168.1.1 is a private address"),
            ("127.0.0.1", "refused: 127.0.0.1 is a loopback address"),
            ("169.254.169.254", "refused: 169.254.169.254 is a link-local address (cloud metadata lives there)"),
            ("100.100.100.200", "refused: 100.100.100.200 is a shared (carrier-grade NAT) address"),
            ("0.0.0.0", "refused: 0.0.0.0 is an unspecified address"),
            ("255.255.255.255", "refused: 255.255.255.255 is a multicast, broadcast or reserved address"),
            ("224.0.0.1", "refused: 224.0.0.1 is a multicast, broadcast or reserved address"),
            ("::1", "refused: ::1 is a loopback address"),
            ("::", "refused: :: is an unspecified address"),
            ("fd00:ec2::254", "refused: fd00:ec2::254 is a private address"),
            ("fe80::1", "refused: fe80::1 is a link-local address (cloud metadata lives there)"),
            ("ff02::1", "refused: ff02::1 is a multicast, broadcast or reserved address"),
            ("::ffff:10.0.0.5", "refused: ::ffff:10.0.0.5 is a private address"),
            ("::10.0.0.5", "refused: ::a00:5 is a private address"),
            ("64:ff9b::a9fe:a9fe", "refused: 64:ff9b::a9fe:a9fe is a link-local address (cloud metadata lives there)"),
            (
                "::ffff:169.254.169.254",
                "refused: ::ffff:169.254.169.254 is a link-local address (cloud metadata lives there)",
            ),
        ];
        for (address, expected) in cases {
            assert_eq!(refusal(&none, address).as_deref(), Some(expected), "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        let none = AllowedHosts::default();
        let public = [
            "93.184.215.14",
            "100.128.0.1",
            "172.32.0.1",
            "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
            "64:ff9b::5db8:d70e",
        ];
        for address in public {
            assert_eq!(refusal(&none, address), None, "{address}");
        }
    }

    #[test]
    fn an_allowed_network_lets_its_addresses_through_and_no_other() {
        let allowed: AllowedHosts = "127.0.0.0/8,fd00::/8".parse().unwrap();
        assert_eq!(refusal(&allowed, "127.0.0.1"), None);
        assert_eq!(refusal(&allowed, "::ffff:127.0.0.1"), None);
        assert_eq!(refusal(&allowed, "fd00::5"), None);
        assert!(refusal(&allowed, "10.0.0.5").is_some());
        assert!(refusal(&allowed, "169.254.169.254").is_some());
    }

    #[test]
    fn address_literals_and_metadata_names_are_checked_in_the_url() {
        let none = AllowedHosts::default();
        let check = |allowed: &AllowedHosts, url: &str| {
            check_url_host(allowed, &url.parse().unwrap()).err().map(|refused| refused.to_string())
        };
        assert_eq!(
            check(&none, "http://10.0.0.5:8080/hook").as_deref(),
            Some("refused: 10.0.0.5 is a private address")
        );
        assert_eq!(check(&none, "http://[::1]/hook").as_deref(), Some("refused: ::1 is a loopback address"));
        assert_eq!(
            check(&none, "http://[::ffff:7f00:1]/hook").as_deref(),
            Some("refused: ::ffff:127.0.0.1 is a loopback address")
        );
        assert_eq!(
            check(&none, "http://Metadata.Google.Internal./computeMetadata/v1/").as_deref(),
            Some("refused: metadata.google.internal is a cloud metadata name")
        );
        assert_eq!(check(&none, "http://2130706433/").as_deref(), Some("refused: 127.0.0.1 is a loopback address"));
        assert_eq!(check(&none, "https://hooks.example.com/appdeck"), None, "names are checked after DNS");
        let allowed: AllowedHosts = "metadata.google.internal".parse().unwrap();
        assert_eq!(check(&allowed, "http://metadata.google.internal/"), None);
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_that_resolves_inside_unless_it_is_allowed() {
        let resolve = |allowed: &str| {
            let resolver = GuardedResolver::new(Arc::new(allowed.parse().unwrap()));
            async move {
                match resolver.resolve("localhost".parse().unwrap()).await {
                    Ok(addresses) => Ok(addresses.map(|address| address.ip()).collect::<Vec<_>>()),
                    Err(error) => Err(Refused::in_chain(error.as_ref()).map(ToString::to_string)),
                }
            }
        };
        let refused = resolve("").await.unwrap_err().expect("a refusal, not a lookup failure");
        assert!(refused.starts_with("refused: ") && refused.contains("loopback"), "{refused}");
        let addresses = resolve("localhost").await.unwrap();
        assert!(!addresses.is_empty() && addresses.iter().all(IpAddr::is_loopback), "{addresses:?}");
        let addresses = resolve("127.0.0.0/8,::1").await.unwrap();
        assert!(!addresses.is_empty(), "allowed by address");
    }
}
