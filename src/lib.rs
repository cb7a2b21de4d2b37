//! db-secret-provisioner: stores database credentials in AWS Secrets Manager when a database or
//! database user is created.
//!
//! The floors, bottom to top; a module imports only from its own floor or below:
//! 1. **Vocabulary** (pure): [`error`], [`model`] (targets, databases, locations), [`names`]
//!    (AWS naming rules as newtypes), [`template`], [`tags`].
//! 2. **Rules** (pure): [`engine`] (the engine table), [`config`], [`event`] (recognising
//!    triggers), [`trust`] (who may ask), [`assess`] (does a database get a secret),
//!    [`secret`] (shaping), [`existing`] (what to do with an existing secret), [`lifecycle`]
//!    (connection drift, the sweep's join of databases and secrets), [`outcome`].
//! 3. **Adapters** (AWS only): [`aws`] (clients), [`reach`] (clients for other accounts and
//!    regions, member credentials), [`database`] (Describe), [`password`] (SSM), [`store`]
//!    (Secrets Manager).
//! 4. **Pipeline**: [`provision`] runs one job: describe ∥ password → assess → names → shape →
//!    store → after-effects; [`sweep`] runs it for every database.
//! 5. **Entry**: [`handler`] (the Lambda entry and dispatch by trigger), [`init`], [`logging`];
//!    `main.rs` wires them.

pub mod assess;
pub mod aws;
pub mod config;
pub mod database;
pub mod engine;
pub mod error;
pub mod event;
pub mod existing;
pub mod handler;
pub mod init;
pub mod lifecycle;
pub mod logging;
pub mod model;
pub mod names;
pub mod outcome;
pub mod password;
pub mod provision;
pub mod reach;
pub mod secret;
pub mod store;
pub mod sweep;
pub mod tags;
pub mod template;
pub mod trust;

pub use error::{Error, Result};
