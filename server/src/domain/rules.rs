//! Field rules shared by the domain types. Each returns the value to store
//! (trimmed, lower-cased) or a sentence naming the field.

use std::{collections::HashSet, sync::LazyLock};

use regex::Regex;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{ObjectBuilder, RefOr, Schema, Type},
};

use super::ValidationError;

pub const NAME_MAX_CHARS: usize = 100;
pub const URL_MAX_CHARS: usize = 2048;
pub const AUTHORIZED_DOMAINS_MAX: usize = 100;
pub const RETENTION_DAYS_MIN: i32 = 1;
pub const RETENTION_DAYS_MAX: i32 = 3650;

/// What a name must contain besides its length: a character that is not
/// white space, as `str::trim` understands it (Unicode `White_Space`). The
/// class is spelled out because `\s` differs between regex engines.
pub const NON_BLANK_PATTERN: &str = r"[^\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

/// A name of 1-100 characters with something besides white space, stored
/// trimmed; `what` is the sentence's subject. The length is the sent one, as
/// the spec's `maxLength` counts it.
pub fn trimmed_name(value: &str, what: &str) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || value.chars().count() > NAME_MAX_CHARS {
        return Err(ValidationError::new(format!(
            "{what} is required and must be 1-{NAME_MAX_CHARS} characters, not only white space"
        )));
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

// What follows the scheme in both URL patterns.
macro_rules! url_after_scheme {
    () => {
        r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?([/?]([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$"
    };
}

/// An absolute http(s) URL as the spec's `pattern` states it, so that what
/// a client may validate before sending is exactly what the server accepts:
/// a host name (no user info, no IP-literal brackets), an optional port of
/// 0-65535, then an optional path and query of RFC 3986 characters with
/// well-formed percent escapes; no fragment.
pub const HTTP_URL_PATTERN: &str = concat!("^https?://", url_after_scheme!());
/// [`HTTP_URL_PATTERN`] with https only.
pub const HTTPS_URL_PATTERN: &str = concat!("^https://", url_after_scheme!());

/// The request schema of an http(s) URL field: [`HTTP_URL_PATTERN`], at most
/// 2,048 characters.
pub struct HttpUrl;

/// The request schema of an https URL field: [`HTTPS_URL_PATTERN`].
pub struct HttpsUrl;

fn url_schema(pattern: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).max_length(Some(URL_MAX_CHARS)).pattern(Some(pattern)).into()
}

impl PartialSchema for HttpUrl {
    fn schema() -> RefOr<Schema> {
        url_schema(HTTP_URL_PATTERN)
    }
}

impl ToSchema for HttpUrl {}

impl PartialSchema for HttpsUrl {
    fn schema() -> RefOr<Schema> {
        url_schema(HTTPS_URL_PATTERN)
    }
}

impl ToSchema for HttpsUrl {}

/// Which schemes a URL field accepts.
#[derive(Clone, Copy)]
pub enum Schemes {
    HttpOrHttps,
    HttpsOnly,
}

impl Schemes {
    fn pattern(self) -> &'static Regex {
        static HTTP: LazyLock<Regex> = LazyLock::new(|| Regex::new(HTTP_URL_PATTERN).expect("a valid pattern"));
        static HTTPS: LazyLock<Regex> = LazyLock::new(|| Regex::new(HTTPS_URL_PATTERN).expect("a valid pattern"));
        match self {
            Self::HttpOrHttps => &HTTP,
            Self::HttpsOnly => &HTTPS,
        }
    }
}

/// An optional absolute URL (see [`HTTP_URL_PATTERN`]) of at most 2,048 characters.
pub fn optional_url(value: Option<String>, field: &str, schemes: Schemes) -> Result<Option<String>, ValidationError> {
    let Some(url) = value else { return Ok(None) };
    if url.len() <= URL_MAX_CHARS && schemes.pattern().is_match(&url) {
        return Ok(Some(url));
    }
    let kind = match schemes {
        Schemes::HttpOrHttps => "http(s)",
        Schemes::HttpsOnly => "https",
    };
    Err(ValidationError::new(format!("`{field}` must be an absolute {kind} URL of at most {URL_MAX_CHARS} characters")))
}

/// One `authorized_domains` entry: an RFC 1123 host name (labels of letters,
/// digits and inner hyphens, at most 63 characters each), optionally
/// starting with `*.`; at most [`AUTHORIZED_DOMAIN_MAX_CHARS`] in all.
pub const AUTHORIZED_DOMAIN_PATTERN: &str =
    r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$";
pub const AUTHORIZED_DOMAIN_MAX_CHARS: usize = 253;

/// The request schema of an `authorized_domains` entry.
pub struct AuthorizedDomain;

impl PartialSchema for AuthorizedDomain {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(AUTHORIZED_DOMAIN_MAX_CHARS))
            .pattern(Some(AUTHORIZED_DOMAIN_PATTERN))
            .into()
    }
}

impl ToSchema for AuthorizedDomain {}

/// Host names as [`AUTHORIZED_DOMAIN_PATTERN`] states them; stored
/// lower-case, unique whatever their case.
pub fn authorized_domains(domains: Vec<String>) -> Result<Vec<String>, ValidationError> {
    static PATTERN: LazyLock<Regex> = LazyLock::new(|| Regex::new(AUTHORIZED_DOMAIN_PATTERN).expect("a valid pattern"));
    if domains.len() > AUTHORIZED_DOMAINS_MAX {
        return Err(ValidationError::new(format!(
            "`authorized_domains` may hold at most {AUTHORIZED_DOMAINS_MAX} host names"
        )));
    }
    let mut seen = HashSet::with_capacity(domains.len());
    let mut normalized = Vec::with_capacity(domains.len());
    for domain in domains {
        if domain.len() > AUTHORIZED_DOMAIN_MAX_CHARS || !PATTERN.is_match(&domain) {
            return Err(ValidationError::new(format!(
                "`authorized_domains` entry `{domain}` is not a host name (a leading `*.` is allowed)"
            )));
        }
        let lower = domain.to_ascii_lowercase();
        if !seen.insert(lower.clone()) {
            return Err(ValidationError::new(format!("`authorized_domains` lists `{lower}` more than once")));
        }
        normalized.push(lower);
    }
    Ok(normalized)
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
        assert_eq!(error.0, "App name is required and must be 1-100 characters, not only white space");
        assert!(trimmed_name(&format!(" {}", "a".repeat(100)), "App name").is_err(), "the sent length counts");
        assert!(trimmed_name("\u{3000}\u{85}", "App name").is_err());
    }

    #[test]
    fn the_spec_states_the_patterns_the_rules_check() {
        let document = serde_json::to_value(crate::api::openapi()).unwrap();
        let schemas = &document["components"]["schemas"];
        for (schema, field) in [
            ("CreateAppRequest", "name"),
            ("UpdateAppRequest", "name"),
            ("CreateApiTokenRequest", "label"),
            ("UpdateApiTokenRequest", "label"),
            ("UpdateOrganizationRequest", "name"),
        ] {
            assert_eq!(schemas[schema]["properties"][field]["pattern"], NON_BLANK_PATTERN, "{schema}.{field}");
        }
        assert_eq!(schemas["HttpUrl"]["pattern"], HTTP_URL_PATTERN);
        assert_eq!(schemas["HttpsUrl"]["pattern"], HTTPS_URL_PATTERN);
        assert_eq!(schemas["AuthorizedDomain"]["pattern"], AUTHORIZED_DOMAIN_PATTERN);
    }

    #[test]
    fn the_non_blank_pattern_is_what_trim_keeps() {
        let non_blank = Regex::new(NON_BLANK_PATTERN).unwrap();
        for character in (0..=0x3100).filter_map(char::from_u32) {
            let text = character.to_string();
            assert_eq!(non_blank.is_match(&text), !text.trim().is_empty(), "U+{:04X}", character as u32);
        }
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
        assert!(check("https://example.com:65535/", Schemes::HttpOrHttps).is_ok());
        assert!(check("https://example.com:65536/", Schemes::HttpOrHttps).is_err());
        assert!(check("https://shop.example.com/a%20b/c?x=1&y=%2F", Schemes::HttpOrHttps).is_ok());
        assert!(check("https://shop.example.com/a%2", Schemes::HttpOrHttps).is_err());
        assert!(check("https://user:pw@example.com/", Schemes::HttpOrHttps).is_err());
        assert!(check("https://example.com/#fragment", Schemes::HttpOrHttps).is_err());
        assert!(check("https://-example.com/", Schemes::HttpOrHttps).is_err());
        assert!(check("HTTPS://example.com/", Schemes::HttpOrHttps).is_err());
        assert!(check("https://example.com/\n", Schemes::HttpOrHttps).is_err());
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
        assert!(authorized_domains(vec![" a.com".into()]).is_err(), "no white space, as the pattern says");
        assert!(authorized_domains(vec![format!("{}.com", "a".repeat(64))]).is_err(), "labels of at most 63");
        assert!(authorized_domains(vec![["a".repeat(63).as_str(); 4].join(".")]).is_err(), "at most 253 in all");
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
