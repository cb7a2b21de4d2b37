//! Secrets that follow their databases (pure): the connection keys a database's secrets carry,
//! drift, and the reconcile sweep's plan, a join in memory of the listed databases with the
//! function's listed secrets.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use crate::config::{Lifecycle, OnDeleted};
use crate::model::database_tag::DatabaseTag;
use crate::model::engine::engine_rule;
use crate::model::regional;
use crate::model::secret::connection_keys;
use crate::model::tags;
use crate::model::{Database, DbKind, Service};
use crate::rules::existing_secret::SecretState;

/// The connection keys of a database's secrets, as Describe reports the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub host: String,
    pub port: i32,
    /// The database name: only the master user's secret follows it.
    pub dbname: Option<String>,
    /// The keys beyond these: `readerHost` and the regional keys
    /// ([`Database::extra_connection_keys`]).
    pub extra: Map<String, Value>,
    /// The database's copies in other regions are known: its regional keys are written and,
    /// for a region without a copy any more, removed. While they are not (a region's Describe
    /// failed), its secrets' regional keys and connection tag stay as they are.
    pub regional_known: bool,
    /// The copies tag's value ([`Database::copies_tag`]).
    pub copies: Option<String>,
}

impl Connection {
    /// `None` without an endpoint, or for an engine without a secret format.
    pub fn of(db: &Database) -> Option<Connection> {
        let rule = engine_rule(&db.engine)?;
        Some(Connection {
            host: db.host.clone().filter(|h| !h.is_empty())?,
            port: db.port.unwrap_or(rule.default_port),
            dbname: db.dbname.clone().filter(|d| !d.is_empty()),
            extra: db.extra_connection_keys(),
            regional_known: db.copies.is_some(),
            copies: db.copies_tag(),
        })
    }

    /// The endpoint tag's value.
    pub fn endpoint(&self) -> String {
        tags::endpoint(&self.host, self.port)
    }

    /// The connection tag's value ([`tags::CONNECTION_TAG_KEY`]): `None` when there are no
    /// extra keys.
    pub fn digest(&self) -> Option<String> {
        regional::digest(&self.extra)
    }

    /// The keys a secret follows: `host` and `port`, `dbname` on the master user's secret, and
    /// the extra ones. Every other key (password, username, identifiers, masterarn, keys added
    /// by hand) stays.
    pub fn keys(&self, admin: bool) -> Map<String, Value> {
        let dbname = self.dbname.as_deref().filter(|_| admin);
        let mut m = connection_keys(&self.host, self.port, dbname);
        m.extend(self.extra.clone());
        m
    }

    /// The keys of `current` to drop: the regional keys of a region the database has no copy
    /// in any more ([`regional::stale_keys`]), once its copies are known.
    pub fn stale(&self, current: &Map<String, Value>) -> Vec<String> {
        if self.regional_known {
            regional::stale_keys(current, &self.extra)
        } else {
            Vec::new()
        }
    }
}

/// The database tag value of a database, `{service}/{kind}/{identifier}`.
pub fn database_key(db: &Database) -> String {
    DatabaseTag::of(db).to_string()
}

/// Whether the secret is the master user's secret of `db`.
pub fn is_admin_secret(db: &Database, state: &SecretState) -> bool {
    let user = tags::value(&state.tags, tags::USERNAME_TAG_KEY);
    user.is_some() && user == db.master_username.as_deref()
}

/// Whether a secret's endpoint tag differs from `connection` (a missing tag is drift too).
pub fn endpoint_drifted(state: &SecretState, connection: &Connection) -> bool {
    tags::value(&state.tags, tags::ENDPOINT_TAG_KEY) != Some(connection.endpoint().as_str())
}

/// Whether a secret's connection tag differs from the extra keys' digest, where the copies are
/// known (an absent tag is no extra keys, so secrets made before the tag existed are
/// rewritten only when they gain keys).
pub fn extra_drifted(state: &SecretState, connection: &Connection) -> bool {
    connection.regional_known
        && tags::value(&state.tags, tags::CONNECTION_TAG_KEY) != connection.digest().as_deref()
}

/// Whether a secret's tags differ from `connection`: its endpoint, or its extra keys.
pub fn drifted(state: &SecretState, connection: &Connection) -> bool {
    endpoint_drifted(state, connection) || extra_drifted(state, connection)
}

/// The tags a secret's tags must say for `connection`, `(key, value)`, `None` for absent: the
/// endpoint when it drifted, and the connection and copies tags when the extra keys did.
pub fn wanted_tags(
    state: &SecretState,
    connection: &Connection,
) -> Vec<(&'static str, Option<String>)> {
    let mut wanted = Vec::new();
    if endpoint_drifted(state, connection) {
        wanted.push((tags::ENDPOINT_TAG_KEY, Some(connection.endpoint())));
    }
    if extra_drifted(state, connection) {
        wanted.push((tags::CONNECTION_TAG_KEY, connection.digest()));
        wanted.push((tags::COPIES_TAG_KEY, connection.copies.clone()));
    }
    wanted
}

/// The connection and copies tags of a value just written for `db` with `extra` keys (a
/// creation, a recreation, a reset): exact while `db`'s copies are known; else the
/// connection tag says `recheck` and the copies tag stays.
pub fn written_tags(
    db: &Database,
    extra: &Map<String, Value>,
) -> Vec<(&'static str, Option<String>)> {
    if db.copies.is_none() {
        return vec![(
            tags::CONNECTION_TAG_KEY,
            Some(tags::CONNECTION_RECHECK.to_string()),
        )];
    }
    vec![
        (tags::CONNECTION_TAG_KEY, regional::digest(extra)),
        (tags::COPIES_TAG_KEY, db.copies_tag()),
    ]
}

/// Of `wanted`, the tags to set and the keys to remove, given the secret's `current` tags.
pub fn tag_changes(
    current: &[(String, String)],
    wanted: Vec<(&'static str, Option<String>)>,
) -> (Vec<(&'static str, String)>, Vec<&'static str>) {
    let mut set = Vec::new();
    let mut unset = Vec::new();
    for (key, value) in wanted {
        match (tags::value(current, key), value) {
            (Some(now), Some(v)) if now == v => {}
            (_, Some(v)) => set.push((key, v)),
            (Some(_), None) => unset.push(key),
            (None, None) => {}
        }
    }
    (set, unset)
}

/// What one reconcile sweep does, decided from its listings alone.
#[derive(Debug, Default)]
pub struct SweepPlan<'a> {
    /// Databases without a live secret for their master user: provisioned (the only ones whose
    /// initial-password parameter is read).
    pub provision: Vec<&'a Database>,
    /// Secrets whose endpoint tag differs from their database: repaired.
    pub drift: Vec<(&'a Database, &'a SecretState)>,
    /// Databases whose master user's secret is there and current.
    pub present: usize,
    /// Secrets of databases that no (working) listing shows any more: retired, in the
    /// sweep's shuffled order, until `MAX_RETIRE_PER_RUN` succeeded
    /// ([`crate::rules::sweep_budget`]).
    pub retire: Vec<&'a SecretState>,
    /// Live secrets missing from a replica region's listing: `(secret, region)`.
    pub replicas_missing: Vec<(&'a SecretState, String)>,
    /// Live secrets made before the database-id tag existed, created after their database: the
    /// tag to backfill, `(secret, database id)`. (A secret created before its database could be
    /// a squatter's, planted in wait: it is left without one.)
    pub backfill: Vec<(&'a SecretState, &'a str)>,
    /// Databases whose password RDS (or Redshift) manages now, while the function's admin
    /// secret for them is not yet tagged superseded by that managed secret: taken over.
    pub take_over: Vec<&'a Database>,
    /// Live secrets whose primary is here: what the retire fraction is taken of.
    pub managed: usize,
    /// `{service}/{kind}` whose listing worked but showed no database while live secrets of
    /// 2 or more of its databases are here: none of them is retired (`retireGuard:
    /// empty-listing`), since a listing that shows every database gone is likelier a fault than
    /// a fact. (The last database of a kind, with its admin and user secrets, is still retired:
    /// one deletion is an ordinary fact.)
    pub retire_guarded: Vec<String>,
}

/// Databases of one `{service}/{kind}` with live secrets here that an empty listing may
/// retire: fewer than this.
pub const EMPTY_LISTING_GUARD: usize = 2;

/// Joins the listed databases with the function's secrets (primary in `region`).
///
/// `listed` says whether the listing that shows a database tag's `{service}/{kind}` worked: a
/// secret is an orphan only if that listing worked and does not show its database.
/// `replica_names` holds, per configured replica region, the names the replica region's listing
/// found (`None` when that listing failed: nothing is repaired there).
pub fn plan_sweep<'a>(
    databases: &'a [Database],
    secrets: &'a [SecretState],
    region: Option<&str>,
    replica_names: &[(String, Option<HashSet<String>>)],
    listed: &dyn Fn(Service, DbKind) -> bool,
    lifecycle: &Lifecycle,
) -> SweepPlan<'a> {
    let mut by_database: BTreeMap<&str, Vec<&SecretState>> = BTreeMap::new();
    for s in secrets {
        if let (true, Some(db)) = (
            s.is_primary_in(region),
            tags::value(&s.tags, tags::DATABASE_TAG_KEY),
        ) {
            by_database.entry(db).or_default().push(s);
        }
    }
    let mut plan = SweepPlan::default();
    let mut seen: HashSet<String> = HashSet::new();
    for db in databases {
        let key = database_key(db);
        let id = db.resource_id.as_deref();
        let live: Vec<&SecretState> = by_database
            .get(key.as_str())
            .map(|v| v.iter().copied().filter(|s| !s.is_retired()).collect())
            .unwrap_or_default();
        if let (Some(id), Some(created)) = (id, db.created_at) {
            plan.backfill.extend(
                live.iter()
                    .filter(|s| tags::value(&s.tags, tags::DATABASE_ID_TAG_KEY).is_none())
                    .filter(|s| s.created_at.is_some_and(|t| t > created))
                    .map(|s| (*s, id)),
            );
        }
        seen.insert(key);
        let admin = live.iter().find(|s| is_admin_secret(db, s));
        let connection = (lifecycle.follow_connection_changes && db.is_available())
            .then(|| Connection::of(db))
            .flatten();
        let drifted_here: Vec<&SecretState> = match &connection {
            Some(c) => live.iter().copied().filter(|s| drifted(s, c)).collect(),
            None => Vec::new(),
        };
        if let (Some(managed), Some(a)) = (&db.managed_secret_arn, admin) {
            if tags::value(&a.tags, tags::SUPERSEDED_TAG_KEY) != Some(managed.as_str()) {
                plan.take_over.push(db);
            }
        }
        // The name's database id changed under a live admin secret (a Blue/Green switchover,
        // or a recreation whose events were missed): provisioned, so that the recreation rule
        // (and its switchover check) decides.
        let id_changed = admin.is_some_and(|a| {
            matches!(
                (tags::value(&a.tags, tags::DATABASE_ID_TAG_KEY), id),
                (Some(tagged), Some(now)) if tagged != now
            )
        });
        match admin {
            None => plan.provision.push(db),
            Some(_) if id_changed => plan.provision.push(db),
            Some(a) if !drifted_here.iter().any(|s| s.arn == a.arn) => plan.present += 1,
            Some(_) => {}
        }
        plan.drift.extend(drifted_here.into_iter().map(|s| (db, s)));
        for s in live {
            for (replica_region, names) in replica_names {
                if names.as_ref().is_some_and(|n| !n.contains(&s.name)) {
                    plan.replicas_missing.push((s, replica_region.clone()));
                }
            }
        }
    }
    // Per `{service}/{kind}`: databases listed, and live secrets here.
    let mut kinds: BTreeMap<(Service, DbKind), (usize, usize)> = BTreeMap::new();
    for db in databases {
        let tag = DatabaseTag::of(db);
        kinds.entry((tag.service, tag.kind)).or_default().0 += 1;
    }
    for (key, v) in &by_database {
        let live = v.iter().filter(|s| !s.is_retired()).count();
        plan.managed += live;
        if let (Some(tag), true) = (DatabaseTag::parse(key), live > 0) {
            kinds.entry((tag.service, tag.kind)).or_default().1 += 1;
        }
    }
    let guarded: Vec<(Service, DbKind)> = kinds
        .iter()
        .filter(|((service, kind), (dbs, with_secrets))| {
            *dbs == 0 && *with_secrets >= EMPTY_LISTING_GUARD && listed(*service, *kind)
        })
        .map(|(k, _)| *k)
        .collect();
    if lifecycle.on_deleted != OnDeleted::Ignore {
        plan.retire_guarded = guarded
            .iter()
            .map(|(service, kind)| format!("{service}/{kind}"))
            .collect();
        let orphans = by_database
            .iter()
            .filter(|(key, _)| !seen.contains(**key))
            .filter(|(key, _)| listing_worked(key, listed))
            .filter(|(key, _)| {
                DatabaseTag::parse(key).is_some_and(|t| !guarded.contains(&(t.service, t.kind)))
            })
            .flat_map(|(_, v)| v.iter().copied().filter(|s| !s.is_retired()));
        plan.retire.extend(orphans);
    }
    plan
}

/// At most `max` of the drifted secrets, endpoint changes first (a secret naming the wrong host
/// is broken), then extra keys (a new reader or regional endpoint), each group in the plan's
/// order; and the names of the rest, sorted (`rewriteDeferred`).
pub fn cap_rewrites<'a>(
    mut drift: Vec<(&'a Database, &'a SecretState)>,
    max: usize,
) -> (Vec<(&'a Database, &'a SecretState)>, Vec<String>) {
    drift.sort_by_key(|(db, s)| !Connection::of(db).is_some_and(|c| endpoint_drifted(s, &c)));
    if drift.len() <= max {
        return (drift, Vec::new());
    }
    let mut deferred: Vec<String> = drift
        .split_off(max)
        .into_iter()
        .map(|(_, s)| s.name.clone())
        .collect();
    deferred.sort();
    (drift, deferred)
}

/// Whether the listing of a database tag's `{service}/{kind}` worked; an unknown tag never
/// counts as listed (its secrets are never retired).
fn listing_worked(database: &str, listed: &dyn Fn(Service, DbKind) -> bool) -> bool {
    DatabaseTag::parse(database).is_some_and(|tag| listed(tag.service, tag.kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tags::Owner;

    fn db(id: &str, port: i32) -> Database {
        Database {
            identifier: id.into(),
            engine: "postgres".into(),
            host: Some(format!("{id}.x.rds.amazonaws.com")),
            port: Some(port),
            dbname: Some("app".into()),
            ..Database::sample()
        }
    }

    fn secret(id: &str, user: &str, endpoint: Option<&str>) -> SecretState {
        let mut tags = Owner::new(Service::Rds, DbKind::Instance, id, user)
            .tags()
            .to_vec();
        if let Some(e) = endpoint {
            tags.push((tags::ENDPOINT_TAG_KEY.into(), e.into()));
        }
        SecretState {
            arn: format!("arn:{id}:{user}"),
            name: format!("db-secrets/rds/{id}/{user}"),
            tags,
            ..Default::default()
        }
    }

    fn all_listed(_: Service, _: DbKind) -> bool {
        true
    }

    #[test]
    fn the_database_id_is_backfilled_only_on_secrets_made_after_their_database() {
        use std::time::{Duration, UNIX_EPOCH};
        let created = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let dbs = vec![
            Database {
                resource_id: Some("db-A".into()),
                created_at: Some(created),
                ..db("after", 5432)
            },
            Database {
                resource_id: Some("db-B".into()),
                created_at: Some(created),
                ..db("before", 5432)
            },
        ];
        let at = |s: SecretState, t: u64| SecretState {
            created_at: Some(UNIX_EPOCH + Duration::from_secs(t)),
            ..s
        };
        let secrets = vec![
            // Made after its database: backfilled.
            at(
                secret("after", "admin", Some("after.x.rds.amazonaws.com:5432")),
                1_000_001,
            ),
            // Made before its database (a squatter's in wait?): left without an id.
            at(
                secret("before", "admin", Some("before.x.rds.amazonaws.com:5432")),
                999_999,
            ),
        ];
        let plan = plan_sweep(
            &dbs,
            &secrets,
            None,
            &[],
            &all_listed,
            &Lifecycle::default(),
        );
        let backfill: Vec<(&str, &str)> = plan
            .backfill
            .iter()
            .map(|(s, id)| (s.name.as_str(), *id))
            .collect();
        assert_eq!(backfill, [("db-secrets/rds/after/admin", "db-A")]);
        assert!(plan.provision.is_empty());
        assert_eq!(plan.present, 2);
    }

    #[test]
    fn the_join_finds_missing_drifted_present_and_orphaned_secrets() {
        let dbs = vec![db("same", 5432), db("moved", 6000), db("new", 5432)];
        let mut retired = secret("old", "admin", None);
        retired
            .tags
            .push((tags::DELETED_TAG_KEY.into(), "2026-01-01".into()));
        let secrets = vec![
            secret("same", "admin", Some("same.x.rds.amazonaws.com:5432")),
            secret("moved", "admin", Some("moved.x.rds.amazonaws.com:5432")),
            secret("moved", "app", Some("moved.x.rds.amazonaws.com:5432")),
            secret("gone", "admin", Some("gone.x:5432")),
            secret("gone", "app", Some("gone.x:5432")),
            retired,
        ];
        let lifecycle = Lifecycle::default();
        let replicas = vec![(
            "eu-west-1".to_string(),
            Some(HashSet::from(["db-secrets/rds/same/admin".to_string()])),
        )];
        let plan = plan_sweep(
            &dbs,
            &secrets,
            Some("us-east-1"),
            &replicas,
            &all_listed,
            &lifecycle,
        );
        let ids: Vec<&str> = plan
            .provision
            .iter()
            .map(|d| d.identifier.as_str())
            .collect();
        assert_eq!(ids, ["new"]);
        assert_eq!(plan.present, 1);
        let drift: Vec<&str> = plan.drift.iter().map(|(_, s)| s.name.as_str()).collect();
        assert_eq!(
            drift,
            ["db-secrets/rds/moved/admin", "db-secrets/rds/moved/app"]
        );
        assert_eq!(
            plan.retire.len(),
            2,
            "MAX_RETIRE_PER_RUN is the sweep's, not the plan's"
        );
        let missing: Vec<String> = plan
            .replicas_missing
            .iter()
            .map(|(s, r)| format!("{}:{r}", s.name))
            .collect();
        assert_eq!(
            missing,
            [
                "db-secrets/rds/moved/admin:eu-west-1",
                "db-secrets/rds/moved/app:eu-west-1"
            ]
        );
    }

    #[test]
    fn an_empty_listing_retires_one_databases_secrets_but_not_two_databases() {
        let one = vec![secret("last", "admin", None), secret("last", "app", None)];
        let plan = plan_sweep(&[], &one, None, &[], &all_listed, &Lifecycle::default());
        assert_eq!(plan.retire.len(), 2, "one deletion is an ordinary fact");
        assert!(plan.retire_guarded.is_empty());
        assert_eq!(plan.managed, 2);
        let two = vec![secret("a", "admin", None), secret("b", "admin", None)];
        let plan = plan_sweep(&[], &two, None, &[], &all_listed, &Lifecycle::default());
        assert!(plan.retire.is_empty(), "every database gone at once");
        assert_eq!(plan.retire_guarded, ["rds/instance"]);
        let listed = [db("c", 5432)];
        let plan = plan_sweep(&listed, &two, None, &[], &all_listed, &Lifecycle::default());
        assert_eq!(
            plan.retire.len(),
            2,
            "the listing shows a database: believable"
        );
    }

    #[test]
    fn guard_rails_failed_listings_ignore_and_foreign_regions() {
        let secrets = vec![secret("gone", "admin", None)];
        let none_listed = |_: Service, _: DbKind| false;
        let plan = plan_sweep(
            &[],
            &secrets,
            None,
            &[],
            &none_listed,
            &Lifecycle::default(),
        );
        assert!(plan.retire.is_empty(), "never from a failed listing");
        let ignore = Lifecycle {
            on_deleted: OnDeleted::Ignore,
            ..Lifecycle::default()
        };
        assert!(plan_sweep(&[], &secrets, None, &[], &all_listed, &ignore)
            .retire
            .is_empty());
        let mut replica = secret("gone", "admin", None);
        replica.primary_region = Some("eu-west-1".into());
        let replicas = [replica];
        let plan = plan_sweep(
            &[],
            &replicas,
            Some("us-east-1"),
            &[],
            &all_listed,
            &Lifecycle::default(),
        );
        assert!(
            plan.retire.is_empty(),
            "another region's secret is not ours to retire"
        );
        let not_following = Lifecycle {
            follow_connection_changes: false,
            ..Lifecycle::default()
        };
        let dbs = [db("moved", 6000)];
        let moved = [secret(
            "moved",
            "admin",
            Some("moved.x.rds.amazonaws.com:5432"),
        )];
        let plan = plan_sweep(&dbs, &moved, None, &[], &all_listed, &not_following);
        assert!(plan.drift.is_empty());
        assert_eq!(plan.present, 1);
    }

    #[test]
    fn connection_keys_and_dates() {
        let c = Connection::of(&db("a", 6000)).unwrap();
        assert_eq!(c.endpoint(), "a.x.rds.amazonaws.com:6000");
        assert_eq!(c.keys(true).len(), 3);
        assert_eq!(c.keys(false).len(), 2, "a user's dbname is the user's own");
        let mut no_host = db("a", 1);
        no_host.host = None;
        assert_eq!(Connection::of(&no_host), None);
    }

    #[test]
    fn extra_keys_drift_by_their_tag_and_only_when_known() {
        let mut cluster = db("c", 5432);
        cluster.reader_host = Some("c.cluster-ro-x.rds.amazonaws.com".into());
        let c = Connection::of(&cluster).unwrap();
        assert_eq!(
            c.keys(false)["readerHost"],
            "c.cluster-ro-x.rds.amazonaws.com"
        );
        let endpoint = c.endpoint();
        let mut s = secret("c", "admin", Some(&endpoint));
        assert!(!endpoint_drifted(&s, &c));
        assert!(extra_drifted(&s, &c), "no connection tag: gains readerHost");
        let (set, unset) = tag_changes(&s.tags, wanted_tags(&s, &c));
        assert_eq!(set, [(tags::CONNECTION_TAG_KEY, c.digest().unwrap())]);
        assert!(unset.is_empty());
        s.tags
            .push((tags::CONNECTION_TAG_KEY.into(), c.digest().unwrap()));
        assert!(!drifted(&s, &c));
        // The same database with its copies unknown (a region's Describe failed): only the
        // endpoint counts.
        let mut unknown = cluster.clone();
        unknown.copies = None;
        let u = Connection::of(&unknown).unwrap();
        s.tags.retain(|(k, _)| k != tags::CONNECTION_TAG_KEY);
        assert!(!drifted(&s, &u));
        assert!(u.stale(&Map::new()).is_empty());
        // A plain instance: no extra keys, no tag wanted; a tag left over is removed.
        let plain = Connection::of(&db("p", 5432)).unwrap();
        let mut p = secret("p", "admin", Some(&plain.endpoint()));
        assert!(!drifted(&p, &plain), "an absent tag is no extra keys");
        p.tags.push((
            tags::CONNECTION_TAG_KEY.into(),
            tags::CONNECTION_RECHECK.into(),
        ));
        assert!(drifted(&p, &plain), "recheck never matches");
        assert_eq!(
            tag_changes(&p.tags, wanted_tags(&p, &plain)),
            (vec![], vec![tags::CONNECTION_TAG_KEY])
        );
        let mut unknown_db = db("p", 5432);
        unknown_db.copies = None;
        assert_eq!(
            written_tags(&unknown_db, &Map::new()),
            [(tags::CONNECTION_TAG_KEY, Some("recheck".to_string()))]
        );
    }

    #[test]
    fn rewrites_are_capped_endpoint_changes_first() {
        let mut cluster = db("c", 5432);
        cluster.reader_host = Some("c.cluster-ro-x".into());
        let moved = db("m", 6000);
        let gains = secret("c", "admin", Some("c.x.rds.amazonaws.com:5432"));
        let wrong = secret("m", "admin", Some("m.x.rds.amazonaws.com:5432"));
        let drift = vec![(&cluster, &gains), (&moved, &wrong)];
        let (now, later) = cap_rewrites(drift.clone(), 1);
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].1.name, wrong.name, "the endpoint change goes first");
        assert_eq!(later, std::slice::from_ref(&gains.name));
        let (now, later) = cap_rewrites(drift.clone(), 100);
        assert_eq!((now.len(), later.len()), (2, 0));
        let (now, later) = cap_rewrites(drift, 0);
        assert_eq!((now.len(), later.len()), (0, 2));
    }
}
