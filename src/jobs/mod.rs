//! ORCHESTRATION, one file per thing the function does: [`create`], [`follow`], [`retire`],
//! [`sweep`] and [`organization`].

pub mod create;
pub mod follow;
pub mod organization;
pub mod retire;
pub mod sweep;

pub use create::{Job, DEADLINE_MARGIN};
