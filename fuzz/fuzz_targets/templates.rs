//! Secret-name / parameter-name template rendering and configuration parsing: any input → a
//! value or a `ConfigurationError`, never a panic; rendered names are validated without panics.
#![no_main]

use db_secret_provisioner::config::Config;
use db_secret_provisioner::model::identifiers::SecretName;
use db_secret_provisioner::model::template::{Facts, Template};
use libfuzzer_sys::fuzz_target;

const VARIABLES: [&str; 11] = [
    "SECRET_NAME_TEMPLATE",
    "SECRET_NAME_PREFIX",
    "PASSWORD_PARAMETER_PREFIX",
    "USER_EVENT_SOURCE",
    "PASSWORD_PARAMETER_TEMPLATE",
    "SECRET_TAGS",
    "REPLICA_REGIONS",
    "KMS_KEY_ID",
    "ROTATION_SCHEDULE",
    "RESOURCE_POLICY",
    "WAIT_FOR_AVAILABLE_SECONDS",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Fields separated by '\u{1}': template, then the six facts.
    let mut parts = text.split('\u{1}');
    let template = parts.next().unwrap_or_default();
    let mut next = || parts.next().map(str::to_string);
    let facts = Facts {
        service: next(),
        identifier: next(),
        username: next(),
        engine: next(),
        region: next(),
        account: next(),
    };
    if let Ok(t) = Template::parse(template) {
        assert_eq!(Template::parse(&t.to_string()).as_ref(), Ok(&t), "display round-trips");
        if let Some(name) = t.render(&facts) {
            let _ = SecretName::parse(&name);
        }
    }
    // The same text as the value of each configuration variable.
    for variable in VARIABLES {
        let result = Config::from_lookup(|k| (k == variable).then(|| template.to_string()));
        if let Err(e) = result {
            assert_eq!(e.error_type(), "ConfigurationError");
            assert!(e.to_string().contains(variable) || e.to_string().contains("ROTATION_"), "{e}");
        }
    }
});
