//! Other accounts in moto: credentials from `sts:AssumeRole` into another account act in that
//! account (moto runs several at once). The tests seed member accounts with a session of their
//! own ("seed"), never with the function's credentials; the member role the hub assumes is
//! created here with a raw IAM CreateRole (the SDK has no IAM client among the function's).

use std::io::{Read, Write};
use std::net::TcpStream;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

use super::{sdk_config, Clients, REGION};

/// Access key, secret key and session token of a seeding session in `account`.
pub async fn seed_credentials(endpoint: &str, account: &str) -> (String, String, String) {
    let sts = aws_sdk_sts::Client::new(&sdk_config(endpoint, REGION).await);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/seed"))
        .role_session_name("seed")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    (
        c.access_key_id().to_string(),
        c.secret_access_key().to_string(),
        c.session_token().to_string(),
    )
}

/// Clients acting in `account` and `region` (for seeding and reading back).
pub async fn clients_in(endpoint: &str, account: &str, region: &str) -> Clients {
    let (key, secret, token) = seed_credentials(endpoint, account).await;
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(key, secret, Some(token), None, "seed"))
        .load()
        .await;
    Clients::new(&conf)
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Creates IAM role `name` in `account` (moto does not check signatures: the access key of a
/// session in that account says where it goes).
pub async fn create_role(endpoint: &str, account: &str, name: &str) {
    let (key, _, _) = seed_credentials(endpoint, account).await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={}&AssumeRolePolicyDocument={}",
        encode(name),
        encode(trust)
    );
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={key}/20261126/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\n\
         X-Amz-Date: 20261126T000000Z\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "CreateRole in {account}: {answer}"
    );
}

/// Creates an organization whose management account is `conf`'s; its id.
pub async fn create_organization(conf: &aws_config::SdkConfig) -> String {
    aws_sdk_organizations::Client::new(conf)
        .create_organization()
        .send()
        .await
        .unwrap()
        .organization()
        .and_then(|o| o.id())
        .unwrap()
        .to_string()
}

/// Creates account `name` in the organization `conf`'s account manages; its id (moto makes
/// one up).
pub async fn create_account(conf: &aws_config::SdkConfig, name: &str) -> String {
    aws_sdk_organizations::Client::new(conf)
        .create_account()
        .account_name(name)
        .email(format!("{name}@example.com"))
        .send()
        .await
        .unwrap()
        .create_account_status()
        .and_then(|s| s.account_id())
        .unwrap()
        .to_string()
}
