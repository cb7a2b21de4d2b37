//! Event recognition: any bytes → an outcome or a refusal (`InvalidEvent`, `UntrustedEvent`),
//! never a panic; and whatever is recognised as a request names an identifier that can be
//! rendered into valid names. The same bytes as a work-queue body: a place message of exactly
//! its schema, or `UntrustedEvent`, never a panic.
#![no_main]

use db_secret_provisioner::config::Config;
use db_secret_provisioner::event::{recognise, Recognised};
use db_secret_provisioner::model::{Place, Target};
use db_secret_provisioner::model::identifiers::SecretName;
use db_secret_provisioner::model::place_message::PlaceMessage;
use db_secret_provisioner::model::template::Facts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        match PlaceMessage::parse(body) {
            Ok(m) => {
                assert_eq!(PlaceMessage::parse(&m.to_body()).as_ref().ok(), Some(&m));
                let _ = m.freshness(std::time::SystemTime::now());
            }
            Err(e) => assert_eq!(e.error_type(), "UntrustedEvent"),
        }
    }
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
            let username = request.user.as_ref().map_or("admin", |u| u.username.as_str());
            let facts = Facts::of(
                request.target.service_guess(),
                id,
                Some(username),
                Some("mysql"),
                // The trust check admits only the function's own place or a member's; the
                // event's own words stand in for it here, hostile as they may be.
                &Place::own(
                    request.location.account.as_deref().unwrap_or("123456789012"),
                    request.location.region.as_deref().unwrap_or("us-east-1"),
                ),
            );
            let Some(name) = config.secret_name.render(&facts) else {
                return;
            };
            // A recognised identifier and username always make a valid name (up to length).
            if name.len() <= 512 {
                if let Err(e) = SecretName::parse(&name) {
                    assert!(e.to_string().contains("six letters or digits"), "{name:?}: {e}");
                }
            }
        }
        // A resolve request names a valid secret name (parsed strictly).
        Ok(Recognised::Resolve(r)) => {
            assert!(SecretName::parse(r.secret.as_str()).is_ok(), "{:?}", r.secret);
        }
        Ok(Recognised::Sweep(_)) | Ok(Recognised::Ignored(_)) => {}
        // Refusals only: a malformed event, or one whose ARN or field speaks for another
        // account or region than its envelope.
        Err(e) => assert!(
            matches!(e.error_type(), "InvalidEvent" | "UntrustedEvent"),
            "{}",
            e.error_type()
        ),
    }
});
