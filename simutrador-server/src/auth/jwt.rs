//! HS256 access tokens: [`JwtKeys::issue`] signs the claims (`sub`, `plan`, `kid`, `iat`,
//! `exp`) with the server secret, [`JwtKeys::verify`] checks a presented token and says
//! precisely why it is refused.
//!
//! The header is decoded here, before the `jsonwebtoken` crate sees the token, so that an
//! unsigned token (`"alg": "none"`) or one for another algorithm (`RS256`, …) is reported as
//! [`AuthError::WrongAlgorithm`] with its algorithm named, and never accepted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use shared_models::Plan;

use super::AuthError;

/// Seconds of clock skew tolerated on `exp`.
pub const EXPIRY_LEEWAY_SECONDS: u64 = 5;

/// Claims in every token this server issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Plan.
    pub plan: Plan,
    /// Id of the API key the token was issued for (checked against revocation).
    pub kid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The encoded JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// Signing and verification keys derived from the server secret.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: u64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

impl JwtKeys {
    /// Keys from a secret (at least 32 bytes) and a token lifetime in seconds.
    ///
    /// The length is checked where the secret is loaded ([`super::secret::load_or_create`]);
    /// this constructor accepts any secret so tests can use short ones.
    pub fn new(secret: &[u8], ttl_seconds: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = EXPIRY_LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        }
    }

    /// Token lifetime in seconds.
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// Issue a token for a user.
    ///
    /// Signing HS256 claims cannot fail in practice; if the crypto backend ever does, the
    /// error is reported as [`AuthError::Malformed`] with the reason.
    pub fn issue(&self, user_id: &str, plan: Plan, key_id: &str) -> Result<IssuedToken, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl_seconds).unwrap_or(i64::MAX);
        let claims = Claims {
            sub: user_id.to_owned(),
            plan,
            kid: key_id.to_owned(),
            iat: now,
            exp: now.saturating_add(ttl),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Malformed(format!("could not sign a token: {e}")))?;
        Ok(IssuedToken {
            token,
            expires_in: self.ttl_seconds,
        })
    }

    /// Verify a token: HS256 only, signature, expiry (no leeway beyond a few seconds).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let alg = header_algorithm(token)?;
        if alg != "HS256" {
            return Err(AuthError::WrongAlgorithm(alg));
        }
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| map_error(e.into_kind()))
    }
}

/// The `alg` of a token's header, checking only the token's shape; every shape problem is
/// [`AuthError::Malformed`].
fn header_algorithm(token: &str) -> Result<String, AuthError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(AuthError::Malformed(format!(
            "expected 3 dot-separated parts, found {}",
            parts.len()
        )));
    }
    let raw = URL_SAFE_NO_PAD
        .decode(parts[0])
        .map_err(|_| AuthError::Malformed("the header is not base64url".into()))?;
    let header: serde_json::Value = serde_json::from_slice(&raw)
        .map_err(|_| AuthError::Malformed("the header is not JSON".into()))?;
    match header.get("alg") {
        Some(serde_json::Value::String(alg)) => Ok(alg.clone()),
        Some(_) => Err(AuthError::Malformed(
            "the header's alg is not a string".into(),
        )),
        None => Err(AuthError::Malformed("the header has no alg".into())),
    }
}

/// Translate a `jsonwebtoken` failure (for an HS256 header) into the reason we report.
fn map_error(kind: ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            AuthError::WrongAlgorithm("other than HS256".into())
        }
        ErrorKind::Base64(_) => AuthError::Malformed("a part is not base64url".into()),
        ErrorKind::Json(e) => AuthError::Malformed(format!("bad header or claims: {e}")),
        ErrorKind::Utf8(_) => AuthError::Malformed("the claims are not UTF-8".into()),
        ErrorKind::MissingRequiredClaim(c) => AuthError::Malformed(format!("missing claim {c}")),
        ErrorKind::InvalidClaimFormat(c) => AuthError::Malformed(format!("bad claim {c}")),
        ErrorKind::InvalidToken => AuthError::Malformed("not a JWT".into()),
        other => AuthError::Malformed(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    /// A token with the given header and payload JSON, signed HS256 with `secret`.
    fn signed(header: &str, payload: &str, secret: &[u8]) -> Result<String, AuthError> {
        let message = format!("{}.{}", b64(header), b64(payload));
        let key = EncodingKey::from_secret(secret);
        let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256)
            .map_err(|e| AuthError::Malformed(e.to_string()))?;
        Ok(format!("{message}.{sig}"))
    }

    fn payload(exp_offset: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        format!(
            r#"{{"sub":"alice","plan":"pro","kid":"k_00000000","iat":{now},"exp":{}}}"#,
            now + exp_offset
        )
    }

    const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    #[test]
    fn round_trip() -> Result<(), AuthError> {
        let keys = JwtKeys::new(SECRET, 3600);
        let issued = keys.issue("alice", Plan::Pro, "k_1234abcd")?;
        assert_eq!(issued.expires_in, 3600);
        let claims = keys.verify(&issued.token)?;
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.plan, Plan::Pro);
        assert_eq!(claims.kid, "k_1234abcd");
        assert_eq!(claims.exp - claims.iat, 3600);
        Ok(())
    }

    #[test]
    fn hand_signed_token_is_accepted() -> Result<(), AuthError> {
        let token = signed(HS256, &payload(60), SECRET)?;
        assert_eq!(JwtKeys::new(SECRET, 60).verify(&token)?.sub, "alice");
        Ok(())
    }

    #[test]
    fn malformed_tokens() -> Result<(), AuthError> {
        let keys = JwtKeys::new(SECRET, 60);
        let is_malformed = |t: &str| matches!(keys.verify(t), Err(AuthError::Malformed(_)));
        assert!(is_malformed(""));
        assert!(is_malformed("abc"));
        assert!(is_malformed("a.b"));
        assert!(is_malformed("a.b.c.d"));
        assert!(is_malformed("!!!.e30.sig"));
        assert!(is_malformed(&format!("{}.e30.sig", b64("not json"))));
        assert!(is_malformed(&format!(
            "{}.e30.sig",
            b64(r#"{"typ":"JWT"}"#)
        )));
        // Correctly signed, but the payload is not JSON / lacks claims / has wrong types.
        assert!(is_malformed(&signed(HS256, "not json", SECRET)?));
        assert!(is_malformed(&signed(HS256, r#"{"sub":"alice"}"#, SECRET)?));
        let no_kid = r#"{"sub":"a","plan":"pro","iat":1,"exp":99999999999}"#;
        assert!(is_malformed(&signed(HS256, no_kid, SECRET)?));
        let bad_plan = r#"{"sub":"a","plan":"gold","kid":"k","iat":1,"exp":99999999999}"#;
        assert!(is_malformed(&signed(HS256, bad_plan, SECRET)?));
        Ok(())
    }

    #[test]
    fn bad_signature() -> Result<(), AuthError> {
        let keys = JwtKeys::new(SECRET, 60);
        let other = signed(HS256, &payload(60), b"another-secret-another-secret-xx")?;
        assert_eq!(keys.verify(&other), Err(AuthError::BadSignature));
        // Tampered payload with the original signature.
        let good = signed(HS256, &payload(60), SECRET)?;
        let sig = good.rsplit('.').next().unwrap_or_default();
        let forged = payload(60).replace("alice", "mallory");
        let tampered = format!("{}.{}.{sig}", b64(HS256), b64(&forged));
        assert_eq!(keys.verify(&tampered), Err(AuthError::BadSignature));
        Ok(())
    }

    #[test]
    fn other_algorithms_are_refused() {
        let keys = JwtKeys::new(SECRET, 60);
        let none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&payload(60))
        );
        assert_eq!(
            keys.verify(&none),
            Err(AuthError::WrongAlgorithm("none".into()))
        );
        let rs = format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#), b64(&payload(60)));
        assert_eq!(
            keys.verify(&rs),
            Err(AuthError::WrongAlgorithm("RS256".into()))
        );
        let hs512 = format!("{}.{}.c2ln", b64(r#"{"alg":"HS512"}"#), b64(&payload(60)));
        assert_eq!(
            keys.verify(&hs512),
            Err(AuthError::WrongAlgorithm("HS512".into()))
        );
    }

    #[test]
    fn expiry_with_small_leeway() -> Result<(), AuthError> {
        let keys = JwtKeys::new(SECRET, 60);
        let expired = signed(HS256, &payload(-30), SECRET)?;
        assert_eq!(keys.verify(&expired), Err(AuthError::Expired));
        // Within the leeway it still passes.
        let just = signed(HS256, &payload(-1), SECRET)?;
        assert!(keys.verify(&just).is_ok());
        Ok(())
    }
}
