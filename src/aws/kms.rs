//! KMS: the seal's HMAC (`GenerateMac` / `VerifyMac` with HMAC_SHA_256 under `SEAL_KEY_ID`).
//! VerifyMac answers a MAC that does not match with `KMSInvalidMacException` ("HMAC
//! verification fails when the HMAC computed by using the specified message, HMAC KMS key, and
//! MAC algorithm does not match", KMS API reference): that is a verdict, not a failure.

use aws_sdk_kms::operation::verify_mac::VerifyMacError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;
use aws_sdk_kms::Client;

use crate::model::error::{Error, Result};

/// The HMAC of `message` under `key`.
pub async fn generate_mac(kms: &Client, key: &str, message: Vec<u8>) -> Result<Vec<u8>> {
    let out = kms
        .generate_mac()
        .key_id(key)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .message(Blob::new(message))
        .send()
        .await
        .map_err(|e| Error::aws_on("KMS", "GenerateMac", key, &e))?;
    match out.mac() {
        Some(mac) if !mac.as_ref().is_empty() => Ok(mac.as_ref().to_vec()),
        _ => Err(Error::AwsService {
            code: None,
            service: "KMS",
            operation: "GenerateMac",
            message: format!("{key}: the response holds no MAC"),
        }),
    }
}

/// Whether `mac` is the HMAC of `message` under `key`.
pub async fn verify_mac(kms: &Client, key: &str, message: Vec<u8>, mac: Vec<u8>) -> Result<bool> {
    let out = kms
        .verify_mac()
        .key_id(key)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .message(Blob::new(message))
        .mac(Blob::new(mac))
        .send()
        .await;
    match out {
        Ok(o) => Ok(o.mac_valid()),
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(VerifyMacError::KmsInvalidMacException(_))
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(Error::aws_on("KMS", "VerifyMac", key, &e)),
    }
}

/// The key ARN `key` (a key id, key ARN, alias name or alias ARN) resolves to (DescribeKey:
/// `KeyMetadata.Arn`).
pub async fn key_arn(kms: &Client, key: &str) -> Result<String> {
    let out = kms
        .describe_key()
        .key_id(key)
        .send()
        .await
        .map_err(|e| Error::aws_on("KMS", "DescribeKey", key, &e))?;
    out.key_metadata()
        .and_then(|m| m.arn())
        .map(str::to_string)
        .ok_or_else(|| Error::AwsService {
            code: None,
            service: "KMS",
            operation: "DescribeKey",
            message: format!("{key}: the response holds no key ARN"),
        })
}
