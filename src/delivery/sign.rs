//! Standard Webhooks signing: `webhook-signature` is `v1,` + base64(HMAC-SHA256(key,
//! "{id}.{timestamp}.{body}")), with the key a webhook's secret stands for
//! (`domain::webhooks::secret::signing_key`).

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `webhook-signature` header of a request with this id, timestamp and body.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::webhooks::secret::signing_key;

    /// The spec's example (libraries/*/tests of standard-webhooks), checked with npm
    /// `standardwebhooks` 1.1.1 and PyPI `standardwebhooks` 1.1.0: `new Webhook(secret).sign(...)`.
    #[test]
    fn matches_the_standard_webhooks_example() {
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(key.len(), 24);
        let sig = signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, r#"{"test": 2432232314}"#);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
