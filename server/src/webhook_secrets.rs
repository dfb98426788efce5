//! Webhook signing secrets: born here (`whsec_` + base64 of 32 CSPRNG
//! bytes, as Standard Webhooks has them), and kept at rest sealed with
//! ChaCha20-Poly1305 under the server key `APPDECK_WEBHOOK_SECRET_KEY`, the
//! endpoint's id as associated data, so a sealed secret copied onto another
//! endpoint's row does not open.
//!
//! Why sealed rather than hashed like tokens: the server must sign with
//! the secret, so it needs it back; a database dump alone must not give it.

use std::{fmt, str::FromStr};

use base64::{Engine, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    ChaCha20Poly1305, Key, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use uuid::Uuid;

use crate::secret::Redacted;

pub const SECRET_PREFIX: &str = "whsec_";
const SECRET_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

/// The server key, from `APPDECK_WEBHOOK_SECRET_KEY`: base64 of 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct WebhookSecretKey([u8; 32]);

impl fmt::Debug for WebhookSecretKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        Redacted.fmt(formatter)
    }
}

impl FromStr for WebhookSecretKey {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        STANDARD
            .decode(text.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(Self)
            .ok_or_else(|| "must be base64 of 32 bytes, such as the output of `openssl rand -base64 32`".to_owned())
    }
}

impl WebhookSecretKey {
    /// A key of these bytes, for tests and for embedding programs.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Seals an endpoint's secret for storage.
    pub fn seal(&self, endpoint_id: Uuid, secret: &SigningSecret) -> SealedSecret {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).expect("the operating system's random source failed");
        let ciphertext = ChaCha20Poly1305::new(&Key::from(self.0))
            .encrypt(&Nonce::from(nonce), Payload { msg: secret.0.as_bytes(), aad: endpoint_id.as_bytes() })
            .expect("a secret is far below ChaCha20-Poly1305's message limit");
        SealedSecret { nonce: nonce.to_vec(), ciphertext }
    }

    /// Opens a stored secret; `Err` when this key did not seal it (the key
    /// changed) or the row was altered.
    pub fn open(&self, endpoint_id: Uuid, sealed: &SealedSecret) -> Result<SigningSecret, CannotOpen> {
        let nonce = <[u8; NONCE_BYTES]>::try_from(sealed.nonce.as_slice()).map_err(|_| CannotOpen)?;
        let plaintext = ChaCha20Poly1305::new(&Key::from(self.0))
            .decrypt(&Nonce::from(nonce), Payload { msg: &sealed.ciphertext, aad: endpoint_id.as_bytes() })
            .map_err(|_| CannotOpen)?;
        String::from_utf8(plaintext).map(SigningSecret).map_err(|_| CannotOpen)
    }
}

/// A stored secret could not be opened with the server's key.
#[derive(Debug, thiserror::Error)]
#[error(
    "the endpoint's signing secret cannot be decrypted with APPDECK_WEBHOOK_SECRET_KEY (the key changed?); \
     rotate the endpoint's secret to repair it"
)]
pub struct CannotOpen;

/// A secret as stored: the nonce and the ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// An endpoint's `whsec_…` secret; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl fmt::Debug for SigningSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        Redacted.fmt(formatter)
    }
}

impl SigningSecret {
    /// A new secret from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// The whole `whsec_…` text, for the one answer that shows it and for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_whsec_and_base64_of_32_bytes() {
        let secret = SigningSecret::generate();
        let encoded = secret.expose().strip_prefix(SECRET_PREFIX).unwrap();
        assert_eq!(STANDARD.decode(encoded).unwrap().len(), 32);
        assert_ne!(secret, SigningSecret::generate());
        assert_eq!(format!("{secret:?}"), "[redacted]");
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_endpoint() {
        let key = WebhookSecretKey::from_bytes([7; 32]);
        let (endpoint, secret) = (Uuid::now_v7(), SigningSecret::generate());
        let sealed = key.seal(endpoint, &secret);
        assert_eq!(key.open(endpoint, &sealed).unwrap(), secret);
        assert!(key.open(Uuid::now_v7(), &sealed).is_err(), "another endpoint's row");
        assert!(WebhookSecretKey::from_bytes([8; 32]).open(endpoint, &sealed).is_err(), "a changed key");
        assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains(secret.expose()));
    }

    #[test]
    fn the_key_is_base64_of_32_bytes_and_never_printed() {
        let text = STANDARD.encode([1u8; 32]);
        let key: WebhookSecretKey = text.parse().unwrap();
        assert_eq!(format!("{key:?}"), "[redacted]");
        assert!("c2hvcnQ=".parse::<WebhookSecretKey>().is_err());
        assert!("not base64!".parse::<WebhookSecretKey>().is_err());
    }
}
