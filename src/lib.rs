//! db-secret-provisioner: stores database credentials in AWS Secrets Manager when a database or
//! database user is created.
//!
//! The flow of one invocation ([`handler`]): [`event`] recognises the trigger, [`database`]
//! describes the database while [`password`] reads the initial password from SSM, [`secret`]
//! shapes the secret JSON, [`store`] creates it, and [`outcome`] is the answer. [`config`] and
//! [`aws`] are built once per execution environment.

pub mod aws;
pub mod config;
pub mod database;
pub mod error;
pub mod event;
pub mod handler;
pub mod init;
pub mod outcome;
pub mod password;
pub mod secret;
pub mod store;
pub mod sweep;
pub mod template;

pub use error::{Error, Result};
