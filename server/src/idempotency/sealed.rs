//! Sealing recorded responses with ChaCha20-Poly1305 under a key only the
//! client holds.
//!
//! Why: the response to `POST /v1/api-tokens` carries the token's secret,
//! which the server otherwise keeps only as a SHA-256 hash. Recording that
//! response in plaintext would undo this. So the body is encrypted under a
//! key derived from the raw `Idempotency-Key` (which is never stored, only
//! its SHA-256): the database alone cannot reveal it, and only a client
//! presenting the same key gets the response back. Every recorded response
//! is sealed this way, so both creates share one code path.

use chacha20poly1305::{
    ChaCha20Poly1305, Key, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Separates this derivation from every other use of SHA-256 over a key.
const KEY_DERIVATION_CONTEXT: &[u8] = b"appdeck idempotency v1";

const NONCE_BYTES: usize = 12;

/// The symmetric key a response recorded under one `Idempotency-Key` of
/// one organization is sealed with.
pub struct SealingKey(Key);

/// A sealed body and the random nonce it was sealed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// The sealed body could not be opened: another key, or altered data.
#[derive(Debug, thiserror::Error)]
#[error("the recorded response cannot be opened with this key")]
pub struct CannotOpen;

impl SealingKey {
    /// SHA-256("appdeck idempotency v1" || organization id || raw key).
    pub fn derive(organization_id: Uuid, raw_key: &str) -> Self {
        let digest = Sha256::new()
            .chain_update(KEY_DERIVATION_CONTEXT)
            .chain_update(organization_id.as_bytes())
            .chain_update(raw_key.as_bytes())
            .finalize();
        Self(Key::from(<[u8; 32]>::from(digest)))
    }

    /// Encrypts `plaintext` with a fresh random nonce. `associated_data` is
    /// authenticated too, so a body cannot be opened as another request's.
    pub fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Sealed {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).expect("the operating system's random source failed");
        let ciphertext = ChaCha20Poly1305::new(&self.0)
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: associated_data })
            .expect("a response body is far below ChaCha20-Poly1305's message limit");
        Sealed { nonce: nonce.to_vec(), ciphertext }
    }

    pub fn open(&self, sealed: &Sealed, associated_data: &[u8]) -> Result<Vec<u8>, CannotOpen> {
        let nonce = <[u8; NONCE_BYTES]>::try_from(sealed.nonce.as_slice()).map_err(|_| CannotOpen)?;
        ChaCha20Poly1305::new(&self.0)
            .decrypt(&Nonce::from(nonce), Payload { msg: &sealed.ciphertext, aad: associated_data })
            .map_err(|_| CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"success":true,"secret":"apps_not_a_real_secret"}"#;

    #[test]
    fn a_sealed_body_opens_with_the_same_key_and_hides_its_content() {
        let organization = Uuid::now_v7();
        let sealed = SealingKey::derive(organization, "retry-key-0123456789").seal(BODY, b"fingerprint");
        assert_eq!(sealed.nonce.len(), NONCE_BYTES);
        assert!(!sealed.ciphertext.windows(6).any(|window| window == b"secret"), "the body is in plaintext");
        let opened = SealingKey::derive(organization, "retry-key-0123456789").open(&sealed, b"fingerprint");
        assert_eq!(opened.unwrap(), BODY);
    }

    #[test]
    fn a_sealed_body_does_not_open_with_another_key_organization_or_request() {
        let organization = Uuid::now_v7();
        let key = SealingKey::derive(organization, "retry-key-0123456789");
        let sealed = key.seal(BODY, b"fingerprint");
        assert!(SealingKey::derive(organization, "retry-key-0123456780").open(&sealed, b"fingerprint").is_err());
        assert!(SealingKey::derive(Uuid::now_v7(), "retry-key-0123456789").open(&sealed, b"fingerprint").is_err());
        assert!(key.open(&sealed, b"another fingerprint").is_err());
        let mut altered = sealed.clone();
        altered.ciphertext[0] ^= 1;
        assert!(key.open(&altered, b"fingerprint").is_err());
    }

    #[test]
    fn every_seal_uses_a_new_nonce() {
        let key = SealingKey::derive(Uuid::now_v7(), "retry-key-0123456789");
        assert_ne!(key.seal(BODY, b"").nonce, key.seal(BODY, b"").nonce);
    }
}
