//! ADAPTERS: AWS calls only, model types in and out. Every SDK client is built here, so every
//! AWS call the function makes goes through this folder (the IAM contract records them).

mod clients;

pub mod accounts;
pub mod database;
pub mod kms;
pub mod organizations;
pub mod parameters;
pub mod queue;
mod recent;
pub mod secrets;

pub use clients::*;
