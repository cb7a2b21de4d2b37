//! Secrets Manager: reading the function's secrets ([`read`]) and changing them ([`write`]).

mod read;
mod write;

pub use read::*;
pub use write::*;
