//! `APPDECK_WEBHOOK_ALLOWED_HOSTS`: the hosts and networks a delivery may
//! reach although they are internal (loopback, private, link-local,
//! metadata), and where a plain `http` endpoint URL is accepted.

use std::{fmt, net::IpAddr, str::FromStr};

use crate::client_address::TrustedNetwork;

/// One entry: a network (a CIDR or an address) or a host name, compared
/// without case and without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Network(TrustedNetwork),
    Host(String),
}

/// The entries of `APPDECK_WEBHOOK_ALLOWED_HOSTS`, comma-separated; empty
/// entries (and an empty list, the default: allow nothing internal) are
/// accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts(Vec<Entry>);

impl AllowedHosts {
    /// Whether the host, as written in an endpoint's URL, is allowed by
    /// name or, when it is an address literal, by network.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = normalized_host(host);
        match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(address) => self.allows_address(address),
            Err(_) => self.0.iter().any(|entry| matches!(entry, Entry::Host(name) if *name == host)),
        }
    }

    /// Whether an address a host resolved to lies in an allowed network.
    pub fn allows_address(&self, address: IpAddr) -> bool {
        self.0.iter().any(|entry| matches!(entry, Entry::Network(network) if network.contains(address)))
    }
}

fn normalized_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl FromStr for AllowedHosts {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                let looks_like_address = entry.contains(':') || entry.contains('/') || entry.parse::<IpAddr>().is_ok();
                if looks_like_address {
                    entry.parse().map(Entry::Network)
                } else if entry.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
                    Ok(Entry::Host(normalized_host(entry)))
                } else {
                    Err(format!("`{entry}` is neither a host name nor an IP address or CIDR such as 10.0.0.0/8"))
                }
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Display for AllowedHosts {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self
            .0
            .iter()
            .map(|entry| match entry {
                Entry::Network(network) => network.to_string(),
                Entry::Host(name) => name.clone(),
            })
            .collect();
        formatter.write_str(&entries.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_networks_are_allowed_as_listed() {
        let allowed: AllowedHosts = "localhost, 127.0.0.0/8,Hooks.Internal.,::1".parse().unwrap();
        assert!(allowed.allows_host("LOCALHOST"));
        assert!(allowed.allows_host("hooks.internal"));
        assert!(allowed.allows_host("127.0.0.2"));
        assert!(allowed.allows_host("[::1]"));
        assert!(allowed.allows_address("127.9.9.9".parse().unwrap()));
        assert!(!allowed.allows_host("10.0.0.1"));
        assert!(!allowed.allows_host("example.com"));
        assert!(!allowed.allows_address("169.254.169.254".parse().unwrap()));
    }

    #[test]
    fn the_default_allows_nothing() {
        let allowed = AllowedHosts::default();
        assert!(!allowed.allows_host("localhost"));
        assert!(!allowed.allows_address("127.0.0.1".parse().unwrap()));
        assert_eq!("".parse::<AllowedHosts>(), Ok(AllowedHosts::default()));
    }

    #[test]
    fn a_malformed_entry_is_refused_with_its_text() {
        let error = "10.0.0.0/40".parse::<AllowedHosts>().unwrap_err();
        assert!(error.contains("10.0.0.0/40"), "{error}");
        let error = "http://x".parse::<AllowedHosts>().unwrap_err();
        assert!(error.contains("http://x"), "{error}");
    }

    #[test]
    fn a_host_name_may_hold_hyphens_but_no_other_punctuation() {
        let allowed: AllowedHosts = "hooks-1.internal".parse().unwrap();
        assert!(allowed.allows_host("hooks-1.internal"));
        let error = "hooks_1.internal".parse::<AllowedHosts>().unwrap_err();
        assert!(error.contains("hooks_1.internal"), "{error}");
    }

    #[test]
    fn the_list_prints_as_it_is_compared() {
        let allowed: AllowedHosts = " Hooks.Internal., 10.0.0.0/8 ,".parse().unwrap();
        assert_eq!(allowed.to_string(), "hooks.internal,10.0.0.0/8");
    }
}
