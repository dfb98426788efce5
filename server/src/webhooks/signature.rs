//! Standard Webhooks signing: the `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` headers of a delivery, so that a receiver can check
//! it with any Standard Webhooks library.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// What every signing secret starts with; the rest is the base64 key.
pub const SECRET_PREFIX: &str = "whsec_";

/// A signing key: the bytes behind an endpoint's `whsec_…` secret.
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    /// Reads a `whsec_…` secret. The error names what is wrong, never the secret.
    pub fn from_secret(secret: &str) -> Result<Self, String> {
        let encoded = secret
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| format!("the signing secret does not start with {SECRET_PREFIX}"))?;
        let key = STANDARD.decode(encoded).map_err(|_| "the signing secret is not valid base64".to_owned())?;
        if key.is_empty() {
            return Err("the signing secret is empty".to_owned());
        }
        Ok(Self(key))
    }

    /// The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of
    /// `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// The three headers of one attempt, in the order they are sent.
    pub fn headers(&self, id: &str, timestamp: i64, body: &[u8]) -> [(&'static str, String); 3] {
        [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", self.sign(id, timestamp, body)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signing test vector of the Standard Webhooks reference libraries
    /// (standard-webhooks/standard-webhooks, `libraries/rust/src/lib.rs`,
    /// `test_sign`; the same values are in its other languages' tests).
    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        let key = SigningKey::from_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let signature = key.sign(
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        );
        assert_eq!(signature, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn the_headers_carry_the_id_the_timestamp_and_the_signature_over_both() {
        let key = SigningKey::from_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"type":"app.created"}"#;
        let [id, timestamp, signature] = key.headers("0193-event", 1_700_000_000, body);
        assert_eq!(id, ("webhook-id", "0193-event".to_owned()));
        assert_eq!(timestamp, ("webhook-timestamp", "1700000000".to_owned()));
        assert_eq!(signature, ("webhook-signature", key.sign("0193-event", 1_700_000_000, body)));
        assert_ne!(signature.1, key.sign("0193-event", 1_700_000_001, body), "the timestamp is signed");
    }

    #[test]
    fn a_malformed_secret_is_refused_without_being_repeated() {
        let cases = [
            ("C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "does not start with whsec_"),
            ("whsec_not*base64", "not valid base64"),
            ("whsec_", "empty"),
        ];
        for (secret, reason) in cases {
            let error = SigningKey::from_secret(secret).err().expect(secret);
            assert!(error.contains(reason), "{error}");
            assert!(!error.contains("C2FV") && !error.contains("not*base64"), "{error}");
        }
    }
}
