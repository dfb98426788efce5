//! What every handler shares.

use std::sync::Arc;

use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
}
