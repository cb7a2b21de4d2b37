//! The one integration-test binary: every suite is a module, sharing one moto server (the
//! local AWS), the fixtures, event builders and mocks in [`support`].
//!
//! | module | what it proves |
//! |---|---|
//! | `rds` | RDS/Aurora through the handler and each adapter, against moto |
//! | `triggers` | DocumentDB, Redshift, CloudTrail, restores and user events, against moto |
//! | `options` | secret options, replication, concurrency, `update`, parameter deletion, the sweep |
//! | `lifecycle` | secrets follow port changes, retire with their database, come back with it; the sweep repairs, retires and re-replicates from bulk listings |
//! | `mocked` | what moto cannot do, with aws-smithy-mocks |
//! | `hub` | hub mode as deployed: keys by alias, membership proofs, a refused organization listing, the per-place retire rule, answered refusals |
//! | `work_queue` | the hub's plan and its workers: one message per place, partial batch answers, the DLQ, duplicate deliveries, untrusted messages, refused entries |
//! | `organization` | a hub serving member accounts and regions through their role, and the organization sweep, through the built binary |
//! | `real_account` | rotation per engine, decisions before waits, replicas, Serverless polling, missing parameters, a sweep whose listings fail one by one |
//! | `faults` | throttling, 5xx, a hung endpoint, moto gone, concurrency across databases |
//! | `hostile` | the hostile-input table through the built binary |
//! | `databases` | the stored secrets open a real PostgreSQL and MariaDB (Debian's packages) |
//! | `e2e` | the built binary through the Lambda Runtime API |
//! | `provenance` | what is written into an existing secret: never over a value that is not a JSON object |
//! | `replicated` | regional connection keys of cross-region replicas, added and removed by the sweep; reader endpoints |
//! | `samples` | every file in `events/` is recognised as named |
//! | `security` | the eight attacks of the trust review, each refused and leaving the account as it was |
//! | `house` | the layout rules: no module cycles, no long files, no broken doc links |

use it_support as support;

mod databases;
mod demo;
mod e2e;
mod faults;
mod hostile;
mod house;
mod hub;
mod lifecycle;
mod mocked;
mod mocked_aws_rules;
mod options;
mod organization;
mod pinning;
mod port_changes;
mod provenance;
mod rds;
mod recreation;
mod replicated;
mod resets;
mod restores;
mod retirement;
mod rotation_guard;
mod samples;
mod security;
mod triggers;
mod work_queue;
