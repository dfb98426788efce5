//! The token format: `apps_` + 32 random base62 characters + a 6-character
//! base62 CRC32 of the random part; stored as a SHA-256 hash and a masked form.

use sha2::{Digest, Sha256};

use crate::secret::{base62_fixed, is_base62, random_base62};

pub const TOKEN_PREFIX: &str = "apps_";
const RANDOM_CHARS: usize = 32;
const CHECKSUM_CHARS: usize = 6;

/// A freshly made token. `secret` is shown once and then dropped; only
/// `hash` and `masked` are stored.
pub struct IssuedToken {
    pub secret: String,
    pub hash: String,
    pub masked: String,
}

pub fn issue_token() -> IssuedToken {
    let random = random_base62(RANDOM_CHARS);
    let secret = format!("{TOKEN_PREFIX}{random}{}", checksum(&random));
    IssuedToken { hash: hash_token(&secret), masked: mask_token(&secret), secret }
}

/// Base62 CRC32 of the random part, so typos and made-up strings are refused
/// without a database read, and leaked tokens can be recognised by scanners.
fn checksum(random: &str) -> String {
    base62_fixed(u64::from(crc32fast::hash(random.as_bytes())), CHECKSUM_CHARS)
}

/// Whether `candidate` has the prefix, length, alphabet and checksum of a token.
pub fn is_well_formed(candidate: &str) -> bool {
    let Some(body) = candidate.strip_prefix(TOKEN_PREFIX) else { return false };
    if body.len() != RANDOM_CHARS + CHECKSUM_CHARS || !is_base62(body) {
        return false;
    }
    let (random, sum) = body.split_at(RANDOM_CHARS);
    checksum(random) == sum
}

/// Lower-case hex SHA-256: what the database keeps instead of the token.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `apps_AbCd…wXyZ`: enough to recognise a token, far too little to use it.
fn mask_token(token: &str) -> String {
    let head = &token[..TOKEN_PREFIX.len() + 4];
    let tail = &token[token.len() - 4..];
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_are_well_formed_and_distinct() {
        let first = issue_token();
        let second = issue_token();
        assert!(is_well_formed(&first.secret), "{}", first.secret);
        assert_eq!(first.secret.len(), TOKEN_PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS);
        assert_ne!(first.secret, second.secret);
        assert_eq!(first.hash, hash_token(&first.secret));
        assert_eq!(first.hash.len(), 64);
    }

    #[test]
    fn a_changed_character_breaks_the_checksum() {
        let token = issue_token().secret;
        let mut altered: Vec<char> = token.chars().collect();
        let index = TOKEN_PREFIX.len() + 3;
        altered[index] = if altered[index] == 'a' { 'b' } else { 'a' };
        assert!(!is_well_formed(&altered.into_iter().collect::<String>()));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let token = issue_token().secret;
        assert!(!is_well_formed(""));
        assert!(!is_well_formed(&token[1..]));
        assert!(!is_well_formed(&format!("{token}x")));
        assert!(!is_well_formed(&token.replacen("apps_", "appx_", 1)));
        assert!(!is_well_formed(&format!("apps_{}", "!".repeat(38))));
    }

    #[test]
    fn masked_form_shows_only_the_ends() {
        let issued = issue_token();
        assert!(issued.masked.starts_with(&issued.secret[..9]));
        assert!(issued.masked.ends_with(&issued.secret[issued.secret.len() - 4..]));
        assert_eq!(issued.masked.chars().count(), 14);
    }
}
