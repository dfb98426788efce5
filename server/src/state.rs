//! What every handler shares.

use std::sync::Arc;

use crate::{auth::FailedAuthLimiter, store::Store};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Failed authentications per client address, to slow token guessing.
    pub failed_auth: Arc<FailedAuthLimiter>,
}
