//! Event recognition: any bytes → an outcome or an error, never a panic; and whatever is
//! recognised as a request names an identifier that can be rendered into valid names.
#![no_main]

use db_secret_provisioner::config::Config;
use db_secret_provisioner::event::{recognise, Recognised, Target};
use db_secret_provisioner::store::validate_name;
use db_secret_provisioner::template::Facts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match recognise(&value) {
        Ok(Recognised::Provision(request)) => {
            let id = request.target.identifier();
            assert!(!id.is_empty() && id.len() <= 2048, "identifier {id:?}");
            // An ARN is resolved to the workgroup's name before any name is rendered.
            if matches!(request.target, Target::WorkgroupArn(_)) {
                return;
            }
            let config = Config::from_lookup(|_| None).unwrap();
            let facts = Facts {
                service: Some(request.target.service_guess().into()),
                identifier: Some(id.to_string()),
                username: Some(
                    request
                        .user
                        .as_ref()
                        .map(|u| u.username.clone())
                        .unwrap_or_else(|| "admin".into()),
                ),
                engine: Some("mysql".into()),
                region: Some("us-east-1".into()),
                account: Some("123456789012".into()),
            };
            let name = config.secret_name.render(&facts).unwrap();
            // A recognised identifier and username always make a valid name (up to length).
            if name.len() <= 512 {
                if let Err(e) = validate_name(&name) {
                    assert!(e.to_string().contains("six letters or digits"), "{name:?}: {e}");
                }
            }
        }
        Ok(Recognised::Sweep { .. }) | Ok(Recognised::Ignored(_)) => {}
        Err(e) => assert_eq!(e.error_type(), "InvalidEvent"),
    }
});
