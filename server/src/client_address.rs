//! Who the client is, for the failed-authentication limit: the TCP peer;
//! or, when the peer is a trusted proxy, the right-most hop of the
//! forwarding header that is not itself a trusted proxy. Anything to the
//! left of that hop was written by the client and may be made up, so it is
//! never read. A peer that is not trusted may send any forwarding header it
//! likes: it is ignored.
//!
//! Addresses are grouped before they are counted: an IPv6 client is counted
//! per /64, because one host is usually given a whole /64 and could
//! otherwise take a fresh address for every guess.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    str::FromStr,
};

use axum::http::HeaderMap;

/// A network of trusted proxies, written as a CIDR (`10.0.0.0/8`,
/// `fd00::/8`) or as a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedNetwork {
    /// The network's first address: host bits are cleared when parsed.
    network: IpAddr,
    prefix_length: u8,
}

impl TrustedNetwork {
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => mask_v4(address, self.prefix_length) == network,
            (IpAddr::V6(network), IpAddr::V6(address)) => mask_v6(address, self.prefix_length) == network,
            _ => false,
        }
    }
}

impl FromStr for TrustedNetwork {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix_length) = match text.split_once('/') {
            Some((address, prefix_length)) => (address, Some(prefix_length)),
            None => (text, None),
        };
        let address: IpAddr =
            address.parse().map_err(|_| format!("`{text}` is not an IP address or a CIDR such as 10.0.0.0/8"))?;
        let address = address.to_canonical();
        let most = if address.is_ipv4() { 32 } else { 128 };
        let prefix_length = match prefix_length {
            None => most,
            Some(digits) => digits
                .parse::<u8>()
                .ok()
                .filter(|length| *length <= most && !digits.starts_with('+'))
                .ok_or_else(|| format!("`{text}`: the prefix length must be a number from 0 to {most}"))?,
        };
        let network = match address {
            IpAddr::V4(address) => IpAddr::V4(mask_v4(address, prefix_length)),
            IpAddr::V6(address) => IpAddr::V6(mask_v6(address, prefix_length)),
        };
        Ok(Self { network, prefix_length })
    }
}

impl fmt::Display for TrustedNetwork {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.network, self.prefix_length)
    }
}

fn mask_v4(address: Ipv4Addr, prefix_length: u8) -> Ipv4Addr {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix_length)).unwrap_or(0);
    Ipv4Addr::from_bits(address.to_bits() & mask)
}

fn mask_v6(address: Ipv6Addr, prefix_length: u8) -> Ipv6Addr {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix_length)).unwrap_or(0);
    Ipv6Addr::from_bits(address.to_bits() & mask)
}

/// The trusted proxies' networks, as `APPDECK_TRUSTED_PROXIES` lists them:
/// comma-separated, empty entries (and an empty list) allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<TrustedNetwork>);

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',').filter(|entry| !entry.trim().is_empty()).map(str::parse).collect::<Result<_, _>>().map(Self)
    }
}

/// Which header a trusted proxy writes the client's address into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`
    #[value(name = "x-forwarded-for")]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239)
    #[value(name = "forwarded")]
    Forwarded,
}

/// How a request's client address is found.
#[derive(Debug, Clone)]
pub struct ClientAddressing {
    trusted_proxies: TrustedProxies,
    header: ForwardedHeader,
}

impl ClientAddressing {
    pub fn new(trusted_proxies: TrustedProxies, header: ForwardedHeader) -> Self {
        Self { trusted_proxies, header }
    }

    fn is_trusted(&self, address: IpAddr) -> bool {
        self.trusted_proxies.0.iter().any(|network| network.contains(address))
    }

    /// The client behind a request that came from `peer`.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in self.hops(headers).into_iter().rev() {
            // A hop that is not an address (`unknown`, an obfuscated name,
            // garbage) ends the walk: the hop to its right, which a trusted
            // proxy wrote, is the best that is known.
            let Some(hop) = hop else { return client };
            client = hop.to_canonical();
            if !self.is_trusted(client) {
                return client;
            }
        }
        client
    }

    /// Every hop of the forwarding header, left to right, across repeated
    /// header lines; `None` for a hop that is not an address.
    fn hops(&self, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
        let name = match self.header {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        };
        let mut hops = Vec::new();
        for value in headers.get_all(name) {
            let Ok(value) = value.to_str() else {
                hops.push(None);
                continue;
            };
            for element in value.split(',') {
                let node = match self.header {
                    ForwardedHeader::XForwardedFor => Some(element),
                    ForwardedHeader::Forwarded => forwarded_for(element),
                };
                hops.push(node.and_then(parse_node));
            }
        }
        hops
    }
}

/// The `for=` parameter of one `Forwarded` element, unquoted.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"'))
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(address) = node.parse::<SocketAddr>() {
        return Some(address.ip());
    }
    node.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

/// The key a client's failures are counted under: an IPv4 address as is,
/// an IPv6 address by its /64.
pub fn counted_as(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(address) => IpAddr::V6(mask_v6(address, 64)),
        address => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(text: &str) -> TrustedNetwork {
        text.parse().unwrap_or_else(|error| panic!("{error}"))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn cidrs_parse_and_clear_their_host_bits() {
        assert_eq!(network("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(network(" 192.0.2.7 ").to_string(), "192.0.2.7/32");
        assert_eq!(network("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert_eq!(network("2001:db8::1/32").to_string(), "2001:db8::/32");
        assert_eq!(network("::1").to_string(), "::1/128");
        assert_eq!(network("::ffff:10.0.0.1/32").to_string(), "10.0.0.1/32");
        for bad in ["", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/+8", "10.0.0/8", "host/8", "/8"] {
            assert!(bad.parse::<TrustedNetwork>().is_err(), "`{bad}` is refused");
        }
    }

    #[test]
    fn a_list_of_networks_may_be_empty_or_have_empty_entries() {
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::default()));
        assert_eq!(" , ".parse::<TrustedProxies>(), Ok(TrustedProxies::default()));
        let listed: TrustedProxies = "10.0.0.0/8, ,fd00::/8,".parse().unwrap();
        assert_eq!(listed, TrustedProxies(vec![network("10.0.0.0/8"), network("fd00::/8")]));
        assert!("10.0.0.0/8,nonsense".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn a_network_contains_its_addresses_only() {
        let private = network("10.0.0.0/8");
        assert!(private.contains(ip("10.255.0.1")));
        assert!(private.contains(ip("::ffff:10.0.0.1")), "an IPv4-mapped IPv6 peer is the IPv4 address");
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(!private.contains(ip("::a00:1")), "an IPv6 address is never in an IPv4 network");
        let documentation = network("2001:db8::/32");
        assert!(documentation.contains(ip("2001:db8:ffff::1")));
        assert!(!documentation.contains(ip("2001:db9::1")));
        assert!(network("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(network("::/0").contains(ip("2001:db8::1")));
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let addressing =
            ClientAddressing::new(TrustedProxies(vec![network("10.0.0.0/8")]), ForwardedHeader::XForwardedFor);
        let forwarded = headers("x-forwarded-for", &["203.0.113.9"]);
        assert_eq!(addressing.client_address(ip("198.51.100.1"), &forwarded), ip("198.51.100.1"));
        assert_eq!(addressing.client_address(ip("10.0.0.2"), &forwarded), ip("203.0.113.9"));
        assert_eq!(addressing.client_address(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
        let untrusting = ClientAddressing::new(TrustedProxies::default(), ForwardedHeader::XForwardedFor);
        assert_eq!(untrusting.client_address(ip("10.0.0.2"), &forwarded), ip("10.0.0.2"));
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        let addressing =
            ClientAddressing::new(TrustedProxies(vec![network("10.0.0.0/8")]), ForwardedHeader::XForwardedFor);
        let peer = ip("10.0.0.2");
        let spoofed = headers("x-forwarded-for", &["1.1.1.1, 203.0.113.9, 10.0.0.7"]);
        assert_eq!(addressing.client_address(peer, &spoofed), ip("203.0.113.9"));
        let across_lines = headers("x-forwarded-for", &["1.1.1.1", "203.0.113.9:4711", "10.0.0.7"]);
        assert_eq!(addressing.client_address(peer, &across_lines), ip("203.0.113.9"));
        let all_trusted = headers("x-forwarded-for", &["10.0.0.9, 10.0.0.7"]);
        assert_eq!(addressing.client_address(peer, &all_trusted), ip("10.0.0.9"));
        let garbage = headers("x-forwarded-for", &["203.0.113.9, not-an-address, 10.0.0.7"]);
        assert_eq!(addressing.client_address(peer, &garbage), ip("10.0.0.7"), "the last trusted hop, not the garbage");
        let empty = headers("x-forwarded-for", &[""]);
        assert_eq!(addressing.client_address(peer, &empty), peer);
    }

    #[test]
    fn the_forwarded_header_is_read_when_chosen() {
        let addressing = ClientAddressing::new(TrustedProxies(vec![network("10.0.0.0/8")]), ForwardedHeader::Forwarded);
        let peer = ip("10.0.0.2");
        let forwarded = headers(
            "forwarded",
            &[r#"for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https, For=10.0.0.7;by=10.0.0.2"#],
        );
        assert_eq!(addressing.client_address(peer, &forwarded), ip("2001:db8:cafe::17"));
        let unknown = headers("forwarded", &["for=203.0.113.9, for=unknown, for=10.0.0.7"]);
        assert_eq!(addressing.client_address(peer, &unknown), ip("10.0.0.7"));
        let ignored = headers("x-forwarded-for", &["203.0.113.9"]);
        assert_eq!(addressing.client_address(peer, &ignored), peer, "X-Forwarded-For is not read");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(counted_as(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(counted_as(ip("2001:db8:1:2:bbbb::2")), counted_as(ip("2001:db8:1:2::9")));
        assert_ne!(counted_as(ip("2001:db8:1:2::1")), counted_as(ip("2001:db8:1:3::1")));
        assert_eq!(counted_as(ip("192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(counted_as(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }
}
