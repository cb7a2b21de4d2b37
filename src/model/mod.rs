//! The shared vocabulary (pure, bottom floor): which database an event points at, what Describe
//! says about it, and where it lives. Every other module builds on these types; this one imports
//! no stage module.

use std::fmt;

pub mod database_tag;
pub mod deployment;
pub mod engine;
pub mod error;
pub mod identifiers;
pub mod outcome;
pub mod place;
pub mod place_message;
pub mod regional;
pub mod request;
pub mod restore_hint;
pub mod rotation;
pub mod seal;
pub mod secret;
pub mod tags;
pub mod template;
pub mod timestamp;

pub use identifiers::{RdsIdentifier, WorkgroupName};
pub use place::{Location, Place};

/// The `{service}` placeholder's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Rds,
    DocDb,
    Redshift,
    RedshiftServerless,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::Rds,
        Service::DocDb,
        Service::Redshift,
        Service::RedshiftServerless,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Rds => "rds",
            Service::DocDb => "docdb",
            Service::Redshift => "redshift",
            Service::RedshiftServerless => "redshift-serverless",
        }
    }

    pub fn parse(s: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// DocumentDB shares the RDS API; only the engine tells it apart.
    pub fn for_rds_engine(engine: &str) -> Service {
        if engine.eq_ignore_ascii_case("docdb") {
            Service::DocDb
        } else {
            Service::Rds
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The resource an identifier names, for messages ("DB instance orders-db").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    DbInstance,
    DbCluster,
    RedshiftCluster,
    Workgroup,
    Namespace,
}

impl Resource {
    /// The `kind` part of the ownership tag `{service}/{kind}/{identifier}`.
    pub fn kind(self) -> DbKind {
        match self {
            Resource::DbInstance => DbKind::Instance,
            Resource::DbCluster | Resource::RedshiftCluster => DbKind::Cluster,
            Resource::Workgroup | Resource::Namespace => DbKind::Workgroup,
        }
    }
}

impl Resource {
    /// "DB instance", "DB cluster", ...
    pub fn label(self) -> &'static str {
        match self {
            Resource::DbInstance => "DB instance",
            Resource::DbCluster => "DB cluster",
            Resource::RedshiftCluster => "Redshift cluster",
            Resource::Workgroup => "Redshift Serverless workgroup",
            Resource::Namespace => "Redshift Serverless namespace",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// `instance`, `cluster` or `workgroup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DbKind {
    Instance,
    Cluster,
    Workgroup,
}

impl DbKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DbKind::Instance => "instance",
            DbKind::Cluster => "cluster",
            DbKind::Workgroup => "workgroup",
        }
    }

    pub fn parse(s: &str) -> Option<DbKind> {
        [DbKind::Instance, DbKind::Cluster, DbKind::Workgroup]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

impl fmt::Display for DbKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of database an event points at, with its identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An RDS DB instance (RDS engines, or a DocumentDB/Aurora cluster member).
    DbInstance(RdsIdentifier),
    /// An RDS DB cluster (Aurora, Multi-AZ DB cluster, DocumentDB).
    DbCluster(RdsIdentifier),
    /// A Redshift provisioned cluster.
    RedshiftCluster(RdsIdentifier),
    /// A Redshift Serverless workgroup, by name.
    Workgroup(WorkgroupName),
    /// A Redshift Serverless workgroup known only by its ARN (which carries the workgroup id,
    /// not its name): resolved with ListWorkgroups.
    WorkgroupArn(String),
    /// The Redshift Serverless workgroup of a namespace (a namespace has one workgroup),
    /// known by the namespace's name: resolved with ListWorkgroups.
    Namespace(WorkgroupName),
}

impl Target {
    pub fn identifier(&self) -> &str {
        match self {
            Target::DbInstance(id) | Target::DbCluster(id) | Target::RedshiftCluster(id) => id,
            Target::Workgroup(name) => name,
            Target::WorkgroupArn(arn) => arn,
            Target::Namespace(name) => name,
        }
    }

    pub fn resource(&self) -> Resource {
        match self {
            Target::DbInstance(_) => Resource::DbInstance,
            Target::DbCluster(_) => Resource::DbCluster,
            Target::RedshiftCluster(_) => Resource::RedshiftCluster,
            Target::Workgroup(_) | Target::WorkgroupArn(_) | Target::Namespace(_) => {
                Resource::Workgroup
            }
        }
    }

    /// The `{service}` value when the target alone decides it. RDS targets may turn out to be
    /// DocumentDB (`docdb`), which only Describe tells.
    pub fn service_guess(&self) -> Service {
        match self {
            Target::DbInstance(_) | Target::DbCluster(_) => Service::Rds,
            Target::RedshiftCluster(_) => Service::Redshift,
            Target::Workgroup(_) | Target::WorkgroupArn(_) | Target::Namespace(_) => {
                Service::RedshiftServerless
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.resource(), self.identifier())
    }
}

/// Which identifier key the secret carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentifierKey {
    DbInstance,
    DbCluster,
    /// Redshift Serverless: `namespaceName` with this value.
    Namespace(String),
}

/// A database as Describe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    pub service: Service,
    pub resource: Resource,
    pub identifier: String,
    pub identifier_key: IdentifierKey,
    /// The engine as AWS names it (`aurora-postgresql`, `oracle-ee`, ...).
    pub engine: String,
    pub status: String,
    /// Instance endpoint address or the cluster's writer endpoint; absent while creating.
    pub host: Option<String>,
    pub port: Option<i32>,
    pub dbname: Option<String>,
    pub master_username: Option<String>,
    /// The cluster this instance is a member of (Aurora, DocumentDB).
    pub cluster: Option<String>,
    /// ARN of the service-managed master secret, when the master password is managed.
    pub managed_secret_arn: Option<String>,
    /// The source this database is a read replica of (an identifier or ARN), if it is one.
    pub replica_source: Option<String>,
    /// The database's immutable resource id: `DbiResourceId`, `DbClusterResourceId`, the
    /// Redshift cluster's namespace ARN, or the Serverless namespace id. A database created
    /// again or restored under the same name gets a new one.
    pub resource_id: Option<String>,
    /// When the database was created (`InstanceCreateTime`, `ClusterCreateTime`, the
    /// namespace's `creationDate`).
    pub created_at: Option<std::time::SystemTime>,
    /// A port change RDS has not applied yet (`PendingModifiedValues.Port`; instances only:
    /// a cluster's pending values carry no port).
    pub pending_port: Option<i32>,
    /// A cluster's reader endpoint (`DBCluster.ReaderEndpoint`: Aurora, DocumentDB, Multi-AZ
    /// DB clusters).
    pub reader_host: Option<String>,
    /// The cross-region copies Describe names as ARNs (`ReadReplicaDBInstanceIdentifiers`,
    /// `ReadReplicaIdentifiers`) in another region than the database's own.
    pub remote_replicas: Vec<String>,
    /// The database and its copies in other regions, the database first, as Describe reports
    /// them in each region ([`crate::model::regional`]): empty when it has no copy elsewhere,
    /// `None` while its copies are not known (not looked up yet, or a region's Describe
    /// failed). Its regional keys are written or removed only when known.
    pub copies: Option<Vec<regional::RegionalCopy>>,
}

impl Database {
    /// Its copies are known to be none when Describe names no copy in another region; else
    /// unknown until looked up.
    pub fn with_copies_unknown_only_if_remote(mut self) -> Database {
        self.copies = self.remote_replicas.is_empty().then(Vec::new);
        self
    }

    /// The connection keys beyond `host`, `port` and `dbname`: `readerHost` (a cluster with a
    /// reader endpoint) and the regional keys (while they are known).
    pub fn extra_connection_keys(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = self.regional_keys().unwrap_or_default();
        if let Some(reader) = self.reader_host.as_deref().filter(|r| !r.is_empty()) {
            m.insert("readerHost".into(), reader.into());
        }
        m
    }

    /// The copies tag's value ([`regional::copies_tag`]): `None` when it has no copy elsewhere
    /// or its copies are unknown.
    pub fn copies_tag(&self) -> Option<String> {
        self.copies.as_deref().and_then(regional::copies_tag)
    }

    /// The regional connection keys (empty when none; `None` while the copies are unknown).
    pub fn regional_keys(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        let copies = self.copies.as_ref()?;
        Some(match copies.first() {
            Some(own) => regional::keys(&own.region, copies),
            None => serde_json::Map::new(),
        })
    }

    /// Whether the database is `available` (any service's spelling of the status).
    pub fn is_available(&self) -> bool {
        self.status.eq_ignore_ascii_case("available")
    }

    /// Whether the database is going away (any service's spelling of the status). A Redshift
    /// cluster deleted with a final snapshot (the default) is `final-snapshot` while the
    /// snapshot is taken, then `deleting`, and the deletion cannot be cancelled.
    pub fn is_gone(&self) -> bool {
        matches!(
            self.status.to_ascii_lowercase().as_str(),
            "deleting" | "deleted" | "final-snapshot"
        )
    }
}

#[cfg(any(test, feature = "test-support"))]
impl Database {
    /// An available RDS for MySQL instance `orders` with master user `admin`, its host and
    /// port: the one sample the tests change a field or two of.
    pub fn sample() -> Database {
        Database {
            service: Service::Rds,
            resource: Resource::DbInstance,
            identifier: "orders".into(),
            identifier_key: IdentifierKey::DbInstance,
            engine: "mysql".into(),
            status: "available".into(),
            host: Some("orders.x.rds.amazonaws.com".into()),
            port: Some(3306),
            dbname: None,
            master_username: Some("admin".into()),
            cluster: None,
            managed_secret_arn: None,
            replica_source: None,
            resource_id: Some("db-ORDERS0SAMPLE0RESOURCE0ID".into()),
            created_at: Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_651_200)),
            pending_port: None,
            reader_host: None,
            remote_replicas: Vec::new(),
            copies: Some(Vec::new()),
        }
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.resource, self.identifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_for_messages_and_tags() {
        assert_eq!(
            Target::DbInstance("orders".into()).to_string(),
            "DB instance orders"
        );
        assert_eq!(
            Target::WorkgroupArn("arn:x".into()).resource().to_string(),
            "Redshift Serverless workgroup"
        );
        assert_eq!(Resource::RedshiftCluster.kind(), DbKind::Cluster);
        for s in Service::ALL {
            assert_eq!(Service::parse(s.as_str()), Some(s));
        }
        assert_eq!(DbKind::parse("workgroup"), Some(DbKind::Workgroup));
        assert_eq!(Service::for_rds_engine("DocDB"), Service::DocDb);
        assert_eq!(Service::for_rds_engine("postgres"), Service::Rds);
    }
}
