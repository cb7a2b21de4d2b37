//! The database tag every secret of the function carries, `{service}/{kind}/{identifier}`
//! (`rds/instance/orders-db`): its one format and its one parse.

use std::fmt;

use crate::model::{Database, DbKind, RdsIdentifier, Service, Target, WorkgroupName};

/// The database a secret belongs to, as its tag names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatabaseTag {
    pub service: Service,
    pub kind: DbKind,
    pub identifier: String,
}

impl DatabaseTag {
    pub fn new(service: Service, kind: DbKind, identifier: &str) -> DatabaseTag {
        DatabaseTag {
            service,
            kind,
            identifier: identifier.to_string(),
        }
    }

    /// The tag of a database as Describe reports it.
    pub fn of(db: &Database) -> DatabaseTag {
        DatabaseTag::new(db.service, db.resource.kind(), &db.identifier)
    }

    /// Reads a tag value; `None` unless it names a known service and kind and an identifier.
    pub fn parse(value: &str) -> Option<DatabaseTag> {
        let mut parts = value.splitn(3, '/');
        let service = Service::parse(parts.next()?)?;
        let kind = DbKind::parse(parts.next()?)?;
        let identifier = parts.next().filter(|id| !id.is_empty())?;
        Some(DatabaseTag::new(service, kind, identifier))
    }

    /// The tags a target's secrets may carry when only the event names it (the database is
    /// gone): an RDS cluster may have been DocumentDB, which only Describe would tell.
    pub fn candidates(target: &Target) -> Vec<DatabaseTag> {
        let id = target.identifier();
        match target {
            Target::DbInstance(_) => vec![DatabaseTag::new(Service::Rds, DbKind::Instance, id)],
            Target::DbCluster(_) => vec![
                DatabaseTag::new(Service::Rds, DbKind::Cluster, id),
                DatabaseTag::new(Service::DocDb, DbKind::Cluster, id),
            ],
            Target::RedshiftCluster(_) => {
                vec![DatabaseTag::new(Service::Redshift, DbKind::Cluster, id)]
            }
            Target::Workgroup(_) | Target::WorkgroupArn(_) => vec![DatabaseTag::new(
                Service::RedshiftServerless,
                DbKind::Workgroup,
                id,
            )],
            // A namespace's workgroup is known only after ListWorkgroups.
            Target::Namespace(_) => Vec::new(),
        }
    }

    /// The target the tag names, to Describe it; `None` for a service and kind that go
    /// together in no API, or an identifier no such database can have.
    pub fn target(&self) -> Option<Target> {
        let id = &self.identifier;
        let rds = || RdsIdentifier::parse(id).ok();
        Some(match (self.service, self.kind) {
            (Service::Rds, DbKind::Instance) => Target::DbInstance(rds()?),
            (Service::Rds | Service::DocDb, DbKind::Cluster) => Target::DbCluster(rds()?),
            (Service::Redshift, DbKind::Cluster) => Target::RedshiftCluster(rds()?),
            (Service::RedshiftServerless, DbKind::Workgroup) => {
                Target::Workgroup(WorkgroupName::parse(id).ok()?)
            }
            _ => return None,
        })
    }
}

impl fmt::Display for DatabaseTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.service, self.kind, self.identifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_format_and_one_parse() {
        let tag = DatabaseTag::new(Service::Rds, DbKind::Instance, "orders-db");
        assert_eq!(tag.to_string(), "rds/instance/orders-db");
        assert_eq!(
            DatabaseTag::parse("rds/instance/orders-db"),
            Some(tag.clone())
        );
        assert_eq!(tag.target(), Some(Target::DbInstance("orders-db".into())));
        for bad in [
            "rds/instance/",
            "rds/instance",
            "mongo/cluster/x",
            "rds/table/x",
            "",
        ] {
            assert_eq!(DatabaseTag::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            DatabaseTag::parse("redshift/workgroup/x").and_then(|t| t.target()),
            None,
            "no API has Redshift workgroups"
        );
        let names: Vec<String> = DatabaseTag::candidates(&Target::DbCluster("c".into()))
            .iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(names, ["rds/cluster/c", "docdb/cluster/c"]);
    }
}
