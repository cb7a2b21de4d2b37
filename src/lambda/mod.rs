//! ENTRY: the handler (one log line per invocation), the dispatch of a recognised event to the
//! one job its trigger names, the init-error report, and logging.

pub mod handler;
pub mod init_error;
pub mod logging;
pub mod worker;

pub use handler::{Handler, Invocation};
pub use worker::Worker;
