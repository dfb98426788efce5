//! Random base62 strings for tokens, app keys and app secrets; and what
//! `Debug` prints in place of a secret, so that no log line or panic
//! message carries one.

use std::fmt;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Returns `length` characters drawn uniformly from the base62 alphabet.
///
/// Bytes of 248 and above are dropped rather than reduced modulo 62, which
/// would make the first eight characters more likely than the others.
pub fn random_base62(length: usize) -> String {
    let mut out = String::with_capacity(length);
    let mut buffer = [0u8; 64];
    while out.len() < length {
        getrandom::fill(&mut buffer).expect("the operating system's random source failed");
        for byte in buffer {
            if out.len() == length {
                break;
            }
            if byte < 248 {
                out.push(BASE62[usize::from(byte % 62)] as char);
            }
        }
    }
    out
}

/// Encodes `value` in base62, left-padded with `0` to `width` characters.
pub fn base62_fixed(mut value: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits).expect("base62 digits are ASCII")
}

/// Whether every character of `text` is in the base62 alphabet.
pub fn is_base62(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// Printed by `Debug` in place of a secret's value.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A URL that may hold a user name, a password or a token (a database's,
/// Redis'). Its text is reached only through [`SecretUrl::expose`], so that
/// each use is deliberate; `Debug` prints its scheme, which says what it
/// points at, and nothing of the rest.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// The URL itself, for the one call that connects with it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.0.split_once("://").map(|(scheme, _)| scheme).filter(|scheme| {
            scheme.starts_with(|first: char| first.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        match scheme {
            Some(scheme) => write!(f, "\"{scheme}://[redacted]\""),
            None => Redacted.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_base62_has_the_requested_length_and_alphabet() {
        let value = random_base62(40);
        assert_eq!(value.len(), 40);
        assert!(is_base62(&value));
    }

    #[test]
    fn random_base62_differs_between_calls() {
        assert_ne!(random_base62(32), random_base62(32));
    }

    #[test]
    fn base62_fixed_pads_and_encodes() {
        assert_eq!(base62_fixed(0, 6), "000000");
        assert_eq!(base62_fixed(61, 2), "0z");
        assert_eq!(base62_fixed(62, 2), "10");
        assert_eq!(base62_fixed(u64::from(u32::MAX), 6), "4gfFC3");
    }

    #[test]
    fn a_secret_url_shows_its_scheme_and_nothing_else() {
        let url = "postgres://appdeck:hunter2@db.internal:5432/appdeck?password=hunter3";
        assert_eq!(format!("{:?}", SecretUrl::from(url)), r#""postgres://[redacted]""#);
        assert_eq!(format!("{:?}", SecretUrl::from("sqlite://./appdeck.db")), r#""sqlite://[redacted]""#);
        assert_eq!(format!("{:?}", SecretUrl::from("appdeck:hunter2@db.internal")), "[redacted]");
        assert_eq!(format!("{:?}", SecretUrl::from("user:hunter2@db://x")), "[redacted]");
        assert_eq!(SecretUrl::from(url).expose(), url);
    }
}
