//! A Blue/Green deployment as DescribeBlueGreenDeployments shows it (the fields the
//! recreation rule reads).

use std::time::SystemTime;

/// A Blue/Green deployment as DescribeBlueGreenDeployments shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub identifier: String,
    /// Its status is `SWITCHOVER_COMPLETED`.
    pub completed: bool,
    /// Its `Source`, `Target` and `SwitchoverDetails` members' ARNs.
    pub arns: Vec<String>,
    pub created: Option<SystemTime>,
}
