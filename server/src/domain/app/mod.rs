//! Apps: the object of API.md's app table (`model`), the bodies that make
//! and change one (`requests`), and the rules a create or a partial update
//! must pass before anything is stored (`changes`), and how one prints in
//! `Debug` without its secrets (`debug`).

mod changes;
mod debug;
mod model;
mod requests;

pub use model::{App, AppFeatures, AppStatus, EmailPlatform, EngagementPlatform, Environment};
pub use requests::{AppFeaturesInput, CreateAppRequest, UpdateAppRequest};

pub use super::rules::Credentials;
