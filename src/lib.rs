//! db-secret-provisioner: stores database credentials in AWS Secrets Manager when a database or
//! database user is created, and keeps them true while the database changes.
//!
//! The folders are the floors, top to bottom (`tests/it/house.rs` enforces who may import
//! whom):
//! - `main.rs`: wiring only.
//! - [`lambda`] (ENTRY): the handler, the dispatch on the trigger's action, the init-error
//!   report, logging.
//! - [`jobs`] (ORCHESTRATION): one file per thing the function does: create, follow, retire,
//!   sweep, organization.
//! - [`rules`] (DECISIONS): pure and unit-tested, one question per file.
//! - [`event`] and [`config`] (INPUT): triggers recognised from the payload; the environment
//!   read once at init.
//! - [`aws`] (ADAPTERS): AWS calls only, model types in and out.
//! - [`model`] (VOCABULARY): the types every floor speaks; imports nothing above it.

pub mod aws;
pub mod config;
pub mod event;
pub mod jobs;
pub mod lambda;
pub mod model;
pub mod rules;

pub use model::error::{Error, Result};
