//! Redshift Serverless: GetWorkgroup, then GetNamespace; a workgroup known only by its ARN is
//! found with ListWorkgroups.

use aws_sdk_redshiftserverless::operation::get_namespace::GetNamespaceError;
use aws_sdk_redshiftserverless::operation::get_workgroup::GetWorkgroupError;

use crate::aws::Clients;
use crate::error::{Error, Result};
use crate::model::{Database, IdentifierKey, Resource, Service};

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
    let ns = ns_out.namespace();
    Ok(Database {
        service: Service::RedshiftServerless,
        resource: Resource::Workgroup,
        identifier: wg.workgroup_name().unwrap_or(name).to_string(),
        identifier_key: IdentifierKey::Namespace(namespace_name.clone()),
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
    })
}

/// The native workgroup-created event may carry only the workgroup's ARN, whose last part is
/// the workgroup id: find the workgroup with that ARN (paginated ListWorkgroups).
pub(super) async fn workgroup_name_for_arn(clients: &Clients, arn: &str) -> Result<String> {
    let mut pages = clients.serverless.list_workgroups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws("Redshift Serverless", "ListWorkgroups", &e))?;
        if let Some(name) = page
            .workgroups()
            .iter()
            .find(|w| w.workgroup_arn() == Some(arn))
            .and_then(|w| w.workgroup_name())
        {
            return Ok(name.to_string());
        }
    }
    Err(Error::DatabaseNotFound {
        resource: Resource::Workgroup,
        identifier: arn.to_string(),
    })
}
