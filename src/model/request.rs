//! What a recognised event asks for: the [`Trigger`] it belongs to, its [`Action`], and the
//! [`Request`] the event and config floors hand to the jobs. The event floor builds them.

use crate::model::identifiers::{DbName, Username};
use crate::model::{Location, Target};

/// What a recognised event asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new database or user: store its secret.
    Provision,
    /// The database's port (or endpoint) may have changed: bring its secrets up to date.
    FollowConnection,
    /// The database was deleted: retire its secrets as `ON_DATABASE_DELETED` says.
    Retire,
    /// A restore call was recorded (the database does not exist yet): leave a restore hint
    /// on its secrets, which the availability event or the sweep reads.
    HintRestore,
    /// The master password was reset (or a call asked for it): write the initial-password
    /// parameter's password into the admin secret when it provably is the new one, else flag.
    ResetPassword,
    /// RDS or Redshift manages the master password now: the admin secret is superseded.
    TakeOver,
}

/// The trigger an event belongs to (logged and reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    RdsInstanceCreated,
    RdsClusterCreated,
    RdsInstanceRestored,
    CloudTrailCreateDbInstance,
    CloudTrailCreateDbCluster,
    CloudTrailCreateRedshiftCluster,
    CloudTrailCreateWorkgroup,
    ServerlessWorkgroupCreated,
    DatabaseUserCreated,
    RdsInstanceDeleted,
    RdsClusterDeleted,
    ServerlessWorkgroupDeleted,
    CloudTrailModifyDbInstance,
    CloudTrailModifyDbCluster,
    CloudTrailModifyRedshiftCluster,
    CloudTrailUpdateWorkgroup,
    CloudTrailDeleteDbInstance,
    CloudTrailDeleteDbCluster,
    CloudTrailDeleteRedshiftCluster,
    CloudTrailDeleteWorkgroup,
    CloudTrailRestoreDbInstanceFromSnapshot,
    CloudTrailRestoreDbInstanceToPointInTime,
    CloudTrailRestoreDbClusterFromSnapshot,
    CloudTrailRestoreDbClusterToPointInTime,
    CloudTrailRestoreRedshiftCluster,
    CloudTrailRestoreServerless,
    CloudTrailRestoreDbInstanceFromS3,
    CloudTrailRestoreDbClusterFromS3,
    RdsInstancePasswordReset,
    RdsClusterPasswordReset,
    CloudTrailUpdateNamespace,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::RdsInstanceCreated => "rds-instance-created",
            Trigger::RdsClusterCreated => "rds-cluster-created",
            Trigger::RdsInstanceRestored => "rds-instance-restored",
            Trigger::CloudTrailCreateDbInstance => "cloudtrail-create-db-instance",
            Trigger::CloudTrailCreateDbCluster => "cloudtrail-create-db-cluster",
            Trigger::CloudTrailCreateRedshiftCluster => "cloudtrail-create-redshift-cluster",
            Trigger::CloudTrailCreateWorkgroup => "cloudtrail-create-workgroup",
            Trigger::ServerlessWorkgroupCreated => "redshift-serverless-workgroup-created",
            Trigger::DatabaseUserCreated => "database-user-created",
            Trigger::RdsInstanceDeleted => "rds-instance-deleted",
            Trigger::RdsClusterDeleted => "rds-cluster-deleted",
            Trigger::ServerlessWorkgroupDeleted => "redshift-serverless-workgroup-deleted",
            Trigger::CloudTrailModifyDbInstance => "cloudtrail-modify-db-instance",
            Trigger::CloudTrailModifyDbCluster => "cloudtrail-modify-db-cluster",
            Trigger::CloudTrailModifyRedshiftCluster => "cloudtrail-modify-redshift-cluster",
            Trigger::CloudTrailUpdateWorkgroup => "cloudtrail-update-workgroup",
            Trigger::CloudTrailDeleteDbInstance => "cloudtrail-delete-db-instance",
            Trigger::CloudTrailDeleteDbCluster => "cloudtrail-delete-db-cluster",
            Trigger::CloudTrailDeleteRedshiftCluster => "cloudtrail-delete-redshift-cluster",
            Trigger::CloudTrailDeleteWorkgroup => "cloudtrail-delete-workgroup",
            Trigger::CloudTrailRestoreDbInstanceFromSnapshot => {
                "cloudtrail-restore-db-instance-from-snapshot"
            }
            Trigger::CloudTrailRestoreDbInstanceToPointInTime => {
                "cloudtrail-restore-db-instance-to-point-in-time"
            }
            Trigger::CloudTrailRestoreDbClusterFromSnapshot => {
                "cloudtrail-restore-db-cluster-from-snapshot"
            }
            Trigger::CloudTrailRestoreDbClusterToPointInTime => {
                "cloudtrail-restore-db-cluster-to-point-in-time"
            }
            Trigger::CloudTrailRestoreRedshiftCluster => "cloudtrail-restore-redshift-cluster",
            Trigger::CloudTrailRestoreServerless => "cloudtrail-restore-serverless-namespace",
            Trigger::CloudTrailRestoreDbInstanceFromS3 => "cloudtrail-restore-db-instance-from-s3",
            Trigger::CloudTrailRestoreDbClusterFromS3 => "cloudtrail-restore-db-cluster-from-s3",
            Trigger::RdsInstancePasswordReset => "rds-instance-password-reset",
            Trigger::RdsClusterPasswordReset => "rds-cluster-password-reset",
            Trigger::CloudTrailUpdateNamespace => "cloudtrail-update-namespace",
        }
    }
}

/// A recognised request to provision a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub trigger: Trigger,
    /// What the event asks for: its trigger table row's action.
    pub action: Action,
    pub target: Target,
    /// The event's `source`.
    pub source: String,
    /// Account and region of the database: the envelope's, which every ARN or field of the
    /// event that names an account or region agrees with.
    pub location: Location,
    /// The resource may still be `creating` (CloudTrail create calls): wait until available.
    pub wait: bool,
    /// The master username the create call named (CloudTrail), known before Describe.
    pub master_username_hint: Option<Username>,
    /// Set for "Database User Created": the secret is this user's, not the master user's.
    pub user: Option<Box<UserSpec>>,
    /// The port a Modify/Update call asks for (port changes only).
    pub port: Option<i32>,
    /// What a restore call restores from (restore calls only).
    pub restore: Option<crate::model::restore_hint::RestorePoint>,
    /// When the event happened (the envelope's `time`), if it says.
    pub time: Option<std::time::SystemTime>,
}

/// An application user announced by a "Database User Created" event. The secret's and the
/// parameter's names derive from the database and this user through the operator's templates
/// alone: the event names neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub username: Username,
    /// Overrides Describe's database name.
    pub dbname: Option<DbName>,
    /// Stored as `masterarn`, for the alternating-users rotation strategy. Only the database's
    /// AWS-managed master secret or this function's secret for its master user is accepted;
    /// that is checked against Describe, before any secret is written.
    pub master_secret_arn: Option<String>,
}

impl UserSpec {
    /// `username`, with Describe's database name and no master secret.
    pub fn new(username: Username) -> UserSpec {
        UserSpec {
            username,
            dbname: None,
            master_secret_arn: None,
        }
    }
}
