//! Regional connection keys (pure): where a replicated database's copies are, as flat keys of
//! its secret. AWS's guide on replicating secrets: the secret holds the source database's
//! connection information, its replicas in other regions hold the same, and "you can add
//! additional key/value pairs to the secret for regional connection information".
//!
//! The keys, flat strings and numbers only, never null (AWS's rotation functions copy every key
//! and read `port` with `int()`):
//! - `regions`: every region with a copy, comma-separated: the database's own region first,
//!   then the others in order;
//! - per region: `<region>.host`, `<region>.port` (a number), `<region>.readerHost` (clusters
//!   with a reader endpoint), `<region>.identifier` and `<region>.resourceId` (when Describe
//!   gives one).
//!
//! A database without a copy in another region has none of them. They are the function's own
//! keys, and the one exception to "no version drops a key the previous one had": a region that
//! no longer has a copy loses its keys, and only the keys of this module's names for a region
//! the previous version's `regions` listed ([`stale_keys`]).

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The key listing the regions.
pub const REGIONS_KEY: &str = "regions";

/// The per-region keys, after `<region>.`.
pub const FIELDS: [&str; 5] = ["host", "port", "readerHost", "identifier", "resourceId"];

/// One copy of a database in one region, as Describe reports it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionalCopy {
    pub region: String,
    pub host: String,
    pub port: i32,
    /// The reader endpoint of a cluster that has one.
    pub reader_host: Option<String>,
    /// The copy's own identifier in its region (a replica has its own name).
    pub identifier: String,
    /// Its immutable resource id (`DbiResourceId`, `DbClusterResourceId`).
    pub resource_id: Option<String>,
}

/// Whether `region` is an AWS region name (`us-east-1`, `us-gov-west-1`, `ap-southeast-2`):
/// two letters, one or more lowercase words, a number, joined by `-`.
pub fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// The region of an ARN (`arn:aws:rds:eu-west-1:…`), when it names one.
pub fn arn_region(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")?
        .split(':')
        .nth(2)
        .filter(|r| is_region(r))
}

/// The key of `field` for `region`: `<region>.<field>`.
pub fn key(region: &str, field: &str) -> String {
    format!("{region}.{field}")
}

/// Whether `key` is one of this module's per-region keys (`<region>.<field>`, a region name and
/// one of [`FIELDS`]).
pub fn is_regional_key(key: &str) -> bool {
    key.split_once('.')
        .is_some_and(|(region, field)| is_region(region) && FIELDS.contains(&field))
}

/// The regional keys of a database in `own_region` with `copies` (its own region's among them
/// or not: the database itself is described by the caller as one of them). Empty when no copy
/// is in another region than `own_region`. A copy in a region that is not a region name, or a
/// second copy in one region, is left out: one region, one set of keys.
pub fn keys(own_region: &str, copies: &[RegionalCopy]) -> Map<String, Value> {
    let mut m = Map::new();
    let mut ordered: Vec<&RegionalCopy> = copies
        .iter()
        .filter(|c| is_region(&c.region) && !c.host.is_empty())
        .collect();
    // Only copies that give keys count: one in a bad region or without a host is no copy.
    if !ordered.iter().any(|c| c.region != own_region) {
        return m;
    }
    let mut seen = BTreeSet::new();
    ordered.sort_by(|a, b| {
        (a.region != own_region, &a.region).cmp(&(b.region != own_region, &b.region))
    });
    let mut regions = Vec::new();
    for c in ordered {
        if !seen.insert(c.region.as_str()) {
            continue;
        }
        regions.push(c.region.as_str());
        m.insert(key(&c.region, "host"), c.host.clone().into());
        m.insert(key(&c.region, "port"), c.port.into());
        if let Some(reader) = c.reader_host.as_deref().filter(|r| !r.is_empty()) {
            m.insert(key(&c.region, "readerHost"), reader.into());
        }
        if !c.identifier.is_empty() {
            m.insert(key(&c.region, "identifier"), c.identifier.clone().into());
        }
        if let Some(id) = c.resource_id.as_deref().filter(|r| !r.is_empty()) {
            m.insert(key(&c.region, "resourceId"), id.into());
        }
    }
    m.insert(REGIONS_KEY.into(), regions.join(",").into());
    m
}

/// AWS's longest tag value.
pub const MAX_TAG_VALUE: usize = 256;

/// The copies tag's value ([`crate::model::tags::COPIES_TAG_KEY`]): `<region>=<resourceId>`
/// of each copy in another region than the first (the database's own), in `copies`' order,
/// separated by spaces, as many as fit in a tag value; `None` for none.
pub fn copies_tag(copies: &[RegionalCopy]) -> Option<String> {
    let own = copies.first()?.region.as_str();
    let mut out = String::new();
    for c in &copies[1..] {
        let Some(id) = c
            .resource_id
            .as_deref()
            .filter(|_| c.region != own && is_region(&c.region))
        else {
            continue;
        };
        let entry = format!("{}={id}", c.region);
        let needed = entry.len() + usize::from(!out.is_empty());
        if out.len() + needed > MAX_TAG_VALUE {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&entry);
    }
    (!out.is_empty()).then_some(out)
}

/// Whether a copies tag names the copy with `resource_id` in `region`.
pub fn copies_tag_names(tag: &str, region: &str, resource_id: &str) -> bool {
    tag.split(' ')
        .filter_map(|e| e.split_once('='))
        .any(|(r, id)| r == region && id == resource_id)
}

/// The regions a secret value's `regions` key lists (none when absent or not a string).
pub fn listed_regions(value: &Map<String, Value>) -> Vec<String> {
    value
        .get(REGIONS_KEY)
        .and_then(Value::as_str)
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|r| is_region(r))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The keys of `current` that `desired` (a new [`keys`] map) no longer has and the function
/// may drop: per-region keys of a region `current`'s `regions` listed and `desired`'s does
/// not (no copy there any more), and `regions` itself when it listed regions and `desired`
/// has none. Every other key stays: a key of a region `regions` did not list (someone
/// else's, or added by hand), a field Describe stopped giving for a region that still has a
/// copy, and a `regions` that listed no region.
pub fn stale_keys(current: &Map<String, Value>, desired: &Map<String, Value>) -> Vec<String> {
    let listed = listed_regions(current);
    let still = listed_regions(desired);
    // Regions the previous version listed and the database has no copy in any more.
    let gone: Vec<&String> = listed.iter().filter(|r| !still.contains(r)).collect();
    let mut stale: Vec<String> = current
        .keys()
        .filter(|k| !desired.contains_key(*k))
        .filter(|k| {
            k.split_once('.').is_some_and(|(region, field)| {
                FIELDS.contains(&field) && gone.iter().any(|r| *r == region)
            })
        })
        .cloned()
        .collect();
    if !listed.is_empty() && current.contains_key(REGIONS_KEY) && !desired.contains_key(REGIONS_KEY)
    {
        stale.push(REGIONS_KEY.into());
    }
    stale
}

/// A short digest of connection keys, for a tag the sweep compares without reading the
/// secret's value: base64 (as the seal's tag, characters AWS allows in tag values) of the
/// first 16 bytes of SHA-256 over the keys' JSON, sorted by key. `None` for no keys, so that
/// a secret without the tag and a database without such keys agree.
pub fn digest(keys: &Map<String, Value>) -> Option<String> {
    if keys.is_empty() {
        return None;
    }
    // Sorted by key here: serde_json keeps insertion order when a dependency turns on its
    // `preserve_order` feature (one does in this build).
    let sorted: std::collections::BTreeMap<&String, &Value> = keys.iter().collect();
    let text = serde_json::to_string(&sorted).unwrap_or_default();
    let bytes = Sha256::digest(text.as_bytes());
    Some(aws_smithy_types::base64::encode(&bytes[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn copy(region: &str, host: &str) -> RegionalCopy {
        RegionalCopy {
            region: region.into(),
            host: host.into(),
            port: 5432,
            reader_host: None,
            identifier: format!("db-{region}"),
            resource_id: Some(format!("db-RES{}", region.len())),
        }
    }

    #[test]
    fn region_names_are_recognised() {
        for r in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "eu-central-1",
            "cn-north-1",
        ] {
            assert!(is_region(r), "{r}");
        }
        for r in [
            "",
            "us",
            "us-east",
            "US-east-1",
            "us-east-1a",
            "u-east-1",
            "us--1",
            "us-east-",
        ] {
            assert!(!is_region(r), "{r}");
        }
    }

    #[test]
    fn the_copies_tag_names_each_copy_elsewhere_and_fits_a_tag() {
        let copies = [
            copy("us-east-1", "p"),
            copy("eu-west-1", "e"),
            copy("ap-south-1", "a"),
        ];
        let tag = copies_tag(&copies).unwrap();
        assert_eq!(tag, "eu-west-1=db-RES9 ap-south-1=db-RES10");
        assert!(copies_tag_names(&tag, "ap-south-1", "db-RES10"));
        assert!(
            !copies_tag_names(&tag, "ap-south-1", "db-RES9"),
            "region and id"
        );
        assert!(!copies_tag_names(&tag, "us-east-1", "db-RES9"));
        assert_eq!(copies_tag(&copies[..1]), None);
        let many: Vec<RegionalCopy> = (0..20)
            .map(|i| RegionalCopy {
                resource_id: Some(format!("db-{i:026}")),
                ..copy(&format!("eu-west-{i}"), "h")
            })
            .collect();
        let mut all = vec![copy("us-east-1", "p")];
        all.extend(many);
        let tag = copies_tag(&all).unwrap();
        assert!(
            tag.len() <= MAX_TAG_VALUE && tag.split(' ').count() == 6,
            "{tag}"
        );
    }

    #[test]
    fn arns_name_their_region() {
        assert_eq!(
            arn_region("arn:aws:rds:eu-west-1:111122223333:db:orders-eu"),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("orders-replica"), None);
        assert_eq!(arn_region("arn:aws:iam::111122223333:role/x"), None);
    }

    #[test]
    fn no_copy_elsewhere_means_no_keys() {
        assert!(keys("us-east-1", &[]).is_empty());
        assert!(keys("us-east-1", &[copy("us-east-1", "a.example")]).is_empty());
    }

    #[test]
    fn a_replica_in_another_region_gives_both_regions_keys_own_region_first() {
        let mut eu = copy("eu-west-1", "r.eu.example");
        eu.reader_host = Some("r-ro.eu.example".into());
        eu.port = 6543;
        let m = keys("us-east-1", &[eu, copy("us-east-1", "p.us.example")]);
        assert_eq!(
            Value::Object(m.clone()),
            json!({
                "regions": "us-east-1,eu-west-1",
                "us-east-1.host": "p.us.example", "us-east-1.port": 5432,
                "us-east-1.identifier": "db-us-east-1", "us-east-1.resourceId": "db-RES9",
                "eu-west-1.host": "r.eu.example", "eu-west-1.port": 6543,
                "eu-west-1.readerHost": "r-ro.eu.example",
                "eu-west-1.identifier": "db-eu-west-1", "eu-west-1.resourceId": "db-RES9",
            })
        );
        assert!(m.values().all(|v| v.is_string() || v.is_number()));
        assert!(m
            .keys()
            .filter(|k| *k != REGIONS_KEY)
            .all(|k| is_regional_key(k)));
    }

    #[test]
    fn copies_that_give_no_keys_do_not_count_as_copies_elsewhere() {
        let mut hostless = copy("eu-west-1", "");
        hostless.identifier = "creating".into();
        for other in [hostless, copy("not a region", "x.example")] {
            assert!(
                keys("us-east-1", &[copy("us-east-1", "p"), other.clone()]).is_empty(),
                "{other:?}"
            );
        }
    }

    #[test]
    fn one_set_of_keys_per_region_and_no_empty_values() {
        let mut second = copy("eu-west-1", "other.example");
        second.identifier = String::new();
        second.resource_id = Some(String::new());
        let m = keys(
            "us-east-1",
            &[
                copy("eu-west-1", "first.example"),
                second,
                copy("not a region", "x"),
            ],
        );
        assert_eq!(m["eu-west-1.host"], json!("first.example"));
        assert_eq!(m["regions"], json!("eu-west-1"));
        assert!(!m.keys().any(|k| k.starts_with("not a region")));
    }

    #[test]
    fn stale_keys_are_only_the_listed_regions_own_keys() {
        let current = json!({
            "regions": "us-east-1,eu-west-1",
            "us-east-1.host": "p", "us-east-1.port": 5432,
            "eu-west-1.host": "r", "eu-west-1.port": 5432, "eu-west-1.resourceId": "x",
            "eu-west-1.note": "added by hand",
            "ap-south-1.host": "not listed: someone else's",
            "host": "p", "password": "kept",
        });
        let current = current.as_object().unwrap();
        let desired = keys(
            "us-east-1",
            &[copy("us-east-1", "p"), copy("ap-southeast-2", "s")],
        );
        let mut stale = stale_keys(current, &desired);
        stale.sort();
        assert_eq!(
            stale,
            ["eu-west-1.host", "eu-west-1.port", "eu-west-1.resourceId"]
        );
        // The last copy elsewhere gone: every listed region's keys and `regions` itself.
        let mut stale = stale_keys(current, &Map::new());
        stale.sort();
        assert_eq!(
            stale,
            [
                "eu-west-1.host",
                "eu-west-1.port",
                "eu-west-1.resourceId",
                "regions",
                "us-east-1.host",
                "us-east-1.port"
            ]
        );
        // A region that still has a copy keeps a field Describe stopped giving; a `regions`
        // that listed no region is not the function's.
        let mut without_id = keys(
            "us-east-1",
            &[copy("us-east-1", "p"), copy("eu-west-1", "r")],
        );
        without_id.remove("eu-west-1.resourceId");
        assert!(stale_keys(current, &without_id).is_empty());
        let by_hand = json!({"regions": "primary and dr"});
        assert!(stale_keys(by_hand.as_object().unwrap(), &Map::new()).is_empty());
    }

    #[test]
    fn digests_are_short_stable_and_none_for_no_keys() {
        assert_eq!(digest(&Map::new()), None);
        let a = keys(
            "us-east-1",
            &[copy("us-east-1", "p"), copy("eu-west-1", "r")],
        );
        let b = keys(
            "us-east-1",
            &[copy("eu-west-1", "r"), copy("us-east-1", "p")],
        );
        let d = digest(&a).unwrap();
        assert_eq!(Some(d.clone()), digest(&b));
        assert_eq!(d.len(), 24);
        assert!(d
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c)));
        let c = keys(
            "us-east-1",
            &[copy("us-east-1", "p"), copy("eu-west-1", "r2")],
        );
        assert_ne!(digest(&c), Some(d.clone()));
        // The same keys inserted in another order (serde_json may keep insertion order).
        let mut reversed = Map::new();
        for (k, v) in a.iter().rev() {
            reversed.insert(k.clone(), v.clone());
        }
        assert_eq!(digest(&reversed), Some(d));
    }
}
