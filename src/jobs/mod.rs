//! ORCHESTRATION, one file per thing the function does: [`create`], [`follow`], [`retire`],
//! [`sweep`] and [`organization`], and the small context they share ([`Job`]).

pub mod create;
pub mod follow;
pub mod organization;
pub mod retire;
pub mod sweep;

use std::sync::Arc;
use std::time::Duration;

use crate::aws::Clients;
use crate::config::Config;

/// Time kept back from the invocation's deadline when waiting for a database: enough for
/// GetParameter and CreateSecret after the wait.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(15);

/// What every job shares: the configuration, the clients of the place it runs in, and that
/// place's region. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Job {
    pub(in crate::jobs) config: Arc<Config>,
    pub(in crate::jobs) clients: Clients,
    /// The region the jobs run in: the function's own, or (hub mode) the database's.
    pub(in crate::jobs) region: Option<String>,
}

impl Job {
    pub fn new(config: Arc<Config>, clients: Clients) -> Self {
        let region = config.region.clone();
        Job {
            config,
            clients,
            region,
        }
    }

    /// The same context for jobs in `region` with `clients` (hub mode: another account or
    /// region). A replica region equal to `region` is left out there (a secret cannot have a
    /// replica in its own region).
    pub fn at(&self, clients: Clients, region: &str) -> Job {
        let config = if self
            .config
            .options
            .replicas
            .iter()
            .any(|r| r.region == region)
        {
            let mut c = (*self.config).clone();
            c.options.replicas.retain(|r| r.region != region);
            Arc::new(c)
        } else {
            self.config.clone()
        };
        Job {
            config,
            clients,
            region: Some(region.to_string()),
        }
    }

    /// The region the jobs run in.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn clients(&self) -> &Clients {
        &self.clients
    }
}
