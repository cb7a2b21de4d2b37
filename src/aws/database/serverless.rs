//! Redshift Serverless: GetWorkgroup, then GetNamespace; a workgroup known only by its ARN is
//! found with ListWorkgroups.

use std::time::{Duration, Instant};

use aws_sdk_redshiftserverless::operation::get_namespace::GetNamespaceError;
use aws_sdk_redshiftserverless::operation::get_workgroup::GetWorkgroupError;
use aws_sdk_redshiftserverless::types::{Namespace, Workgroup};

use super::still_not_ready;
use super::{nonempty, system_time};
use crate::aws::Clients;
use crate::model::error::{Error, Result};
use crate::model::{Database, IdentifierKey, Resource, Service};

/// A `Database` from a workgroup and its namespace (when known).
fn from_workgroup(wg: &Workgroup, ns: Option<&Namespace>, name: &str) -> Database {
    let namespace_name = wg.namespace_name().unwrap_or_default().to_string();
    Database {
        service: Service::RedshiftServerless,
        resource: Resource::Workgroup,
        identifier: wg.workgroup_name().unwrap_or(name).to_string(),
        identifier_key: IdentifierKey::Namespace(namespace_name),
        engine: "redshift".into(),
        status: wg
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        host: wg
            .endpoint()
            .and_then(|e| e.address())
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        port: wg.endpoint().and_then(|e| e.port()).or(wg.port()),
        dbname: ns.and_then(|n| n.db_name()).map(str::to_string),
        master_username: ns.and_then(|n| n.admin_username()).map(str::to_string),
        cluster: None,
        managed_secret_arn: ns
            .and_then(|n| n.admin_password_secret_arn())
            .map(str::to_string),
        replica_source: None,
        // The database is the namespace: a workgroup does not set its password.
        resource_id: nonempty(ns.and_then(|n| n.namespace_id())),
        created_at: ns.and_then(|n| n.creation_date()).and_then(system_time),
        pending_port: None,
        reader_host: None,
        remote_replicas: Vec::new(),
        copies: Some(Vec::new()),
    }
}

/// Every workgroup with its namespace: ListWorkgroups and ListNamespaces (paginated,
/// concurrently), joined on the namespace name.
pub(super) async fn list_workgroups(clients: &Clients) -> Result<Vec<Database>> {
    let workgroups = async {
        let mut out = Vec::new();
        let mut pages = clients.serverless.list_workgroups().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("Redshift Serverless", "ListWorkgroups", &e))?;
            out.extend(page.workgroups().iter().cloned());
        }
        Ok::<_, Error>(out)
    };
    let namespaces = async {
        let mut out = Vec::new();
        let mut pages = clients.serverless.list_namespaces().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("Redshift Serverless", "ListNamespaces", &e))?;
            out.extend(page.namespaces().iter().cloned());
        }
        Ok::<_, Error>(out)
    };
    let (workgroups, namespaces) = tokio::join!(workgroups, namespaces);
    let namespaces = namespaces?;
    Ok(workgroups?
        .iter()
        .map(|wg| {
            let ns = namespaces
                .iter()
                .find(|n| n.namespace_name() == wg.namespace_name());
            from_workgroup(wg, ns, "")
        })
        .collect())
}

/// GetWorkgroup (endpoint, namespace) then GetNamespace (admin user, database, managed
/// password): the second call needs the first's namespace name.
pub(super) async fn describe_workgroup(clients: &Clients, name: &str) -> Result<Database> {
    let not_found = || Error::DatabaseNotFound {
        resource: Resource::Workgroup,
        identifier: name.to_string(),
    };
    let out = clients
        .serverless
        .get_workgroup()
        .workgroup_name(name)
        .send()
        .await
        .map_err(|e| match e.as_service_error() {
            Some(GetWorkgroupError::ResourceNotFoundException(_)) => not_found(),
            _ => Error::aws_on("Redshift Serverless", "GetWorkgroup", name, &e),
        })?;
    let wg = out.workgroup().ok_or_else(not_found)?;
    let namespace_name = wg.namespace_name().unwrap_or_default().to_string();
    let ns_out = clients
        .serverless
        .get_namespace()
        .namespace_name(&namespace_name)
        .send()
        .await
        .map_err(|e| match e.as_service_error() {
            Some(GetNamespaceError::ResourceNotFoundException(_)) => Error::DatabaseNotFound {
                resource: Resource::Namespace,
                identifier: namespace_name.clone(),
            },
            _ => Error::aws_on("Redshift Serverless", "GetNamespace", &namespace_name, &e),
        })?;
    Ok(from_workgroup(wg, ns_out.namespace(), name))
}

/// The first pause between polls of a workgroup still being created; each next one doubles, up
/// to [`MAX_POLL_INTERVAL`].
pub const FIRST_POLL_INTERVAL: Duration = Duration::from_secs(1);
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(15);

/// Polls GetWorkgroup (then GetNamespace) with backoff until the workgroup is `AVAILABLE` with
/// an endpoint, is going away, or `max_wait` has passed (`DatabaseNotReady`). There is no SDK
/// waiter for workgroups.
pub(super) async fn wait_for_workgroup(
    clients: &Clients,
    db: &Database,
    max_wait: Duration,
) -> Result<Database> {
    let deadline = Instant::now() + max_wait;
    let mut pause = FIRST_POLL_INTERVAL;
    let mut latest = db.clone();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(still_not_ready(&latest, max_wait));
        }
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 2).min(MAX_POLL_INTERVAL);
        latest = describe_workgroup(clients, &db.identifier).await?;
        let available = latest.status.eq_ignore_ascii_case("AVAILABLE") && latest.host.is_some();
        if available || latest.is_gone() {
            return Ok(latest);
        }
    }
}

/// The name of the workgroup of `namespace` (ListWorkgroups: each workgroup names its
/// `namespaceName`).
pub(super) async fn workgroup_name_for_namespace(
    clients: &Clients,
    namespace: &str,
) -> Result<String> {
    let found = first_workgroup(clients, |w| w.namespace_name() == Some(namespace)).await?;
    found.ok_or_else(|| Error::DatabaseNotFound {
        resource: Resource::Workgroup,
        identifier: format!("of namespace {namespace}"),
    })
}

/// The native workgroup-created event may carry only the workgroup's ARN, whose last part is
/// the workgroup id: find the workgroup with that ARN (paginated ListWorkgroups).
pub(super) async fn workgroup_name_for_arn(clients: &Clients, arn: &str) -> Result<String> {
    let found = first_workgroup(clients, |w| w.workgroup_arn() == Some(arn)).await?;
    found.ok_or_else(|| Error::DatabaseNotFound {
        resource: Resource::Workgroup,
        identifier: arn.to_string(),
    })
}

/// The name of the first workgroup ListWorkgroups shows that `matches` (paginated).
async fn first_workgroup(
    clients: &Clients,
    matches: impl Fn(&aws_sdk_redshiftserverless::types::Workgroup) -> bool,
) -> Result<Option<String>> {
    let mut pages = clients.serverless.list_workgroups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws("Redshift Serverless", "ListWorkgroups", &e))?;
        if let Some(name) = page
            .workgroups()
            .iter()
            .find(|w| matches(w))
            .and_then(|w| w.workgroup_name())
        {
            return Ok(Some(name.to_string()));
        }
    }
    Ok(None)
}
