//! A whole account's secrets and parameters, to show that an event changed nothing.

use super::Clients;

/// Every secret (name, current value, version ids, tags) and every parameter (name, value,
/// version) of the account and region the clients point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub secrets: Vec<(String, String, Vec<String>, Vec<String>)>,
    pub parameters: Vec<(String, String, i64)>,
}

impl Snapshot {
    pub async fn take(c: &Clients) -> Snapshot {
        let mut secrets = Vec::new();
        let listed = c
            .secrets
            .list_secrets()
            .include_planned_deletion(true)
            .max_results(100)
            .send()
            .await
            .unwrap();
        for s in listed.secret_list() {
            let name = s.name().unwrap().to_string();
            let value = match c.secrets.get_secret_value().secret_id(&name).send().await {
                Ok(v) => v.secret_string().unwrap_or_default().to_string(),
                Err(_) => "(scheduled for deletion)".into(),
            };
            let mut versions: Vec<String> = c
                .secrets
                .list_secret_version_ids()
                .secret_id(&name)
                .send()
                .await
                .unwrap()
                .versions()
                .iter()
                .map(|v| v.version_id().unwrap_or_default().to_string())
                .collect();
            versions.sort();
            let mut tags: Vec<String> = s
                .tags()
                .iter()
                .map(|t| format!("{}={}", t.key().unwrap(), t.value().unwrap()))
                .collect();
            tags.sort();
            secrets.push((name, value, versions, tags));
        }
        secrets.sort();
        let mut parameters = Vec::new();
        let mut pages = c
            .ssm
            .get_parameters_by_path()
            .path("/")
            .recursive(true)
            .with_decryption(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for p in page.unwrap().parameters() {
                parameters.push((
                    p.name().unwrap().to_string(),
                    p.value().unwrap_or_default().to_string(),
                    p.version(),
                ));
            }
        }
        parameters.sort();
        Snapshot {
            secrets,
            parameters,
        }
    }

    /// Whether `needle` is in any secret's tags.
    pub fn tags_contain(&self, needle: &str) -> bool {
        self.secrets
            .iter()
            .any(|(_, _, _, tags)| tags.iter().any(|t| t.contains(needle)))
    }
}
