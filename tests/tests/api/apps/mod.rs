//! `/v1/apps`: one module per operation, then what each role may do with
//! apps and what another organization sees of them.

mod create;
mod create_rules;
mod isolation;
mod list;
mod masking;
mod roles;
mod rotate_delete;
mod update;
