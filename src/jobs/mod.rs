//! ORCHESTRATION, one file per thing the function does: [`create`], [`follow`], [`retire`],
//! [`hint`], [`sweep`] (with `replica`) and [`organization`], the rotation guard every write passes (`guard`),
//! and the small context they share ([`Job`]).

pub mod create;
pub mod follow;
mod guard;
pub mod hint;
pub mod organization;
pub mod plan;
mod replica;
pub mod retire;
pub mod sweep;

use std::sync::Arc;
use std::time::Duration;

use crate::aws::Clients;
use crate::config::Config;
use crate::model::secret::SecretState;
use crate::model::Place;

/// Time kept back from the invocation's deadline when waiting for a database: enough for
/// GetParameter and CreateSecret after the wait.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(15);

/// What every job shares: the configuration, the place it runs in, and that place's clients.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Job {
    pub(in crate::jobs) config: Arc<Config>,
    pub(in crate::jobs) clients: Clients,
    /// The account and region the job runs in: the function's own, or (hub mode) the
    /// database's.
    pub(in crate::jobs) place: Place,
    /// The function's secrets here with the copies tag, listed at most once per job (the
    /// sweep asks for each database without a password parameter); `None` when it failed.
    pub(in crate::jobs) copies_listing: Arc<tokio::sync::OnceCell<Option<Vec<SecretState>>>>,
}

impl Job {
    /// The context for jobs at `place` with its `clients`. A replica region equal to the
    /// place's region is left out there (a secret cannot have a replica in its own region).
    pub fn new(config: &Arc<Config>, clients: Clients, place: &Place) -> Job {
        let region = place.region.as_str();
        let config = if config.options.replicas.iter().any(|r| r.region == region) {
            let mut c = (**config).clone();
            c.options.replicas.retain(|r| r.region != region);
            Arc::new(c)
        } else {
            config.clone()
        };
        Job {
            config,
            clients,
            place: place.clone(),
            copies_listing: Arc::default(),
        }
    }

    /// The account and region the job runs in.
    pub fn place(&self) -> &Place {
        &self.place
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn clients(&self) -> &Clients {
        &self.clients
    }
}
