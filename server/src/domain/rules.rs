//! Field rules shared by the domain types. Each returns the value to store
//! (trimmed, lower-cased) or a sentence naming the field.

use std::collections::HashSet;

use axum::http::Uri;

use super::ValidationError;

pub const NAME_MAX_CHARS: usize = 100;
pub const URL_MAX_CHARS: usize = 2048;
pub const AUTHORIZED_DOMAINS_MAX: usize = 100;
pub const RETENTION_DAYS_MIN: i32 = 1;
pub const RETENTION_DAYS_MAX: i32 = 3650;

/// A trimmed name of 1-100 characters; `what` is the sentence's subject.
pub fn trimmed_name(value: &str, what: &str) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    let length = trimmed.chars().count();
    if length == 0 || length > NAME_MAX_CHARS {
        return Err(ValidationError::new(format!("{what} is required and must be 1-{NAME_MAX_CHARS} characters")));
    }
    Ok(trimmed.to_owned())
}

/// Optional free text of at most `max_chars` characters.
pub fn optional_text(value: Option<String>, field: &str, max_chars: usize) -> Result<Option<String>, ValidationError> {
    match value {
        Some(text) if text.chars().count() > max_chars => {
            Err(ValidationError::new(format!("`{field}` must be at most {max_chars} characters")))
        }
        other => Ok(other),
    }
}

/// Which schemes a URL field accepts.
#[derive(Clone, Copy)]
pub enum Schemes {
    HttpOrHttps,
    HttpsOnly,
}

/// An optional absolute URL with a host, of at most 2,048 characters.
pub fn optional_url(value: Option<String>, field: &str, schemes: Schemes) -> Result<Option<String>, ValidationError> {
    let Some(url) = value else { return Ok(None) };
    let allowed: &[&str] = match schemes {
        Schemes::HttpOrHttps => &["http", "https"],
        Schemes::HttpsOnly => &["https"],
    };
    let is_valid = url.len() <= URL_MAX_CHARS
        && url.parse::<Uri>().is_ok_and(|uri| {
            uri.scheme_str().is_some_and(|scheme| allowed.contains(&scheme))
                && uri.host().is_some_and(|host| !host.is_empty())
                && uri.authority().is_some_and(|authority| has_valid_port(authority.as_str()))
        });
    if is_valid {
        Ok(Some(url))
    } else {
        let kind = match schemes {
            Schemes::HttpOrHttps => "http(s)",
            Schemes::HttpsOnly => "https",
        };
        Err(ValidationError::new(format!(
            "`{field}` must be an absolute {kind} URL of at most {URL_MAX_CHARS} characters"
        )))
    }
}

/// `Uri` accepts any digits as a port; only 0-65535 can be dialled.
fn has_valid_port(authority: &str) -> bool {
    let host_and_port = authority.rsplit_once('@').map_or(authority, |(_, rest)| rest);
    if host_and_port.ends_with(']') {
        return true;
    }
    match host_and_port.rsplit_once(':') {
        None => true,
        Some((_, port)) => port.parse::<u16>().is_ok(),
    }
}

/// Host names, each optionally starting with `*.`; stored lower-case, unique.
pub fn authorized_domains(domains: Vec<String>) -> Result<Vec<String>, ValidationError> {
    if domains.len() > AUTHORIZED_DOMAINS_MAX {
        return Err(ValidationError::new(format!(
            "`authorized_domains` may hold at most {AUTHORIZED_DOMAINS_MAX} host names"
        )));
    }
    let mut seen = HashSet::with_capacity(domains.len());
    let mut normalized = Vec::with_capacity(domains.len());
    for domain in domains {
        let lower = domain.trim().to_ascii_lowercase();
        let host = lower.strip_prefix("*.").unwrap_or(&lower);
        if !is_host_name(host) {
            return Err(ValidationError::new(format!(
                "`authorized_domains` entry `{domain}` is not a host name (a leading `*.` is allowed)"
            )));
        }
        if !seen.insert(lower.clone()) {
            return Err(ValidationError::new(format!("`authorized_domains` lists `{lower}` more than once")));
        }
        normalized.push(lower);
    }
    Ok(normalized)
}

/// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
}

pub fn retention_days(days: i32) -> Result<i32, ValidationError> {
    if (RETENTION_DAYS_MIN..=RETENTION_DAYS_MAX).contains(&days) {
        Ok(days)
    } else {
        Err(ValidationError::new(format!(
            "`data_retention_days` must be between {RETENTION_DAYS_MIN} and {RETENTION_DAYS_MAX}"
        )))
    }
}

/// An IANA time zone name, such as `Europe/Paris` or `UTC`.
pub fn timezone(name: String) -> Result<String, ValidationError> {
    if name.parse::<chrono_tz::Tz>().is_ok() {
        Ok(name)
    } else {
        Err(ValidationError::new(format!("`timezone` `{name}` is not an IANA time zone name")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(trimmed_name("  Shop ", "App name").unwrap(), "Shop");
        assert!(trimmed_name("   ", "App name").is_err());
        assert!(trimmed_name(&"é".repeat(100), "App name").is_ok());
        let error = trimmed_name(&"a".repeat(101), "App name").unwrap_err();
        assert_eq!(error.0, "App name is required and must be 1-100 characters");
    }

    #[test]
    fn optional_text_counts_characters() {
        assert_eq!(optional_text(None, "description", 3).unwrap(), None);
        assert!(optional_text(Some("ééé".into()), "description", 3).is_ok());
        assert!(optional_text(Some("abcd".into()), "description", 3).is_err());
    }

    #[test]
    fn urls_must_be_absolute_http() {
        let check = |url: &str, schemes| optional_url(Some(url.to_owned()), "website_url", schemes);
        assert!(check("https://example.com/a?b=c", Schemes::HttpOrHttps).is_ok());
        assert!(check("http://example.com", Schemes::HttpOrHttps).is_ok());
        assert!(check("http://example.com", Schemes::HttpsOnly).is_err());
        assert!(check("ftp://example.com", Schemes::HttpOrHttps).is_err());
        assert!(check("/relative/path", Schemes::HttpOrHttps).is_err());
        assert!(check("example.com", Schemes::HttpOrHttps).is_err());
        assert!(check("https://", Schemes::HttpOrHttps).is_err());
        assert!(check("https://exa mple.com", Schemes::HttpOrHttps).is_err());
        assert!(check("https://example.com:8443/", Schemes::HttpOrHttps).is_ok());
        assert!(check("https://example.com:99999/", Schemes::HttpOrHttps).is_err());
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX_CHARS));
        assert!(check(&long, Schemes::HttpOrHttps).is_err());
    }

    #[test]
    fn domains_are_lowercased_and_unique() {
        let domains = authorized_domains(vec!["Shop.Example.com".into(), "*.example.com".into()]).unwrap();
        assert_eq!(domains, vec!["shop.example.com", "*.example.com"]);
        assert!(authorized_domains(vec!["a.com".into(), "A.com".into()]).is_err());
        assert!(authorized_domains(vec!["bad domain".into()]).is_err());
        assert!(authorized_domains(vec!["-bad.com".into()]).is_err());
        assert!(authorized_domains(vec!["*.".into()]).is_err());
        assert!(authorized_domains(vec!["https://a.com".into()]).is_err());
        assert!(authorized_domains((0..101).map(|index| format!("h{index}.com")).collect()).is_err());
        assert!(authorized_domains((0..100).map(|index| format!("h{index}.com")).collect()).is_ok());
    }

    #[test]
    fn retention_is_bounded() {
        assert!(retention_days(0).is_err());
        assert!(retention_days(1).is_ok());
        assert!(retention_days(3650).is_ok());
        assert!(retention_days(3651).is_err());
    }

    #[test]
    fn timezones_are_iana_names() {
        assert!(timezone("UTC".into()).is_ok());
        assert!(timezone("Europe/Paris".into()).is_ok());
        assert!(timezone("Mars/Olympus".into()).is_err());
        assert!(timezone(String::new()).is_err());
    }
}
