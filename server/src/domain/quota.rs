//! Per-organization quotas: how many apps, live tokens and webhook endpoints
//! an organization may hold, so that one token cannot fill the database.

/// The most apps, live (not revoked) tokens and webhook endpoints an
/// organization may hold; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quotas {
    pub apps: Option<u32>,
    pub tokens: Option<u32>,
    pub webhook_endpoints: Option<u32>,
}

/// A create that would take an organization past one of its quotas.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The organization already holds its quota of {limit} {what}; delete one before creating another")]
pub struct QuotaExceeded {
    pub what: &'static str,
    pub limit: u32,
}

impl Quotas {
    /// Whether an organization holding `held` apps may create one more.
    pub fn allow_app(&self, held: u64) -> Result<(), QuotaExceeded> {
        allow(self.apps, held, "apps")
    }

    /// Whether an organization holding `held` live tokens may create one more.
    pub fn allow_token(&self, held: u64) -> Result<(), QuotaExceeded> {
        allow(self.tokens, held, "live API tokens")
    }

    /// Whether an organization holding `held` webhook endpoints may create one more.
    pub fn allow_webhook_endpoint(&self, held: u64) -> Result<(), QuotaExceeded> {
        allow(self.webhook_endpoints, held, "webhook endpoints")
    }
}

fn allow(limit: Option<u32>, held: u64, what: &'static str) -> Result<(), QuotaExceeded> {
    match limit {
        Some(limit) if held >= u64::from(limit) => Err(QuotaExceeded { what, limit }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_is_allowed_below_the_quota_only() {
        let quotas = Quotas { apps: Some(2), tokens: None, webhook_endpoints: Some(0) };
        assert!(quotas.allow_app(1).is_ok());
        assert_eq!(quotas.allow_app(2), Err(QuotaExceeded { what: "apps", limit: 2 }));
        assert!(quotas.allow_token(1_000_000).is_ok(), "no quota, no limit");
        assert!(quotas.allow_webhook_endpoint(0).is_err());
    }
}
