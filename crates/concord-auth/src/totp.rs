//! TOTP (RFC 6238) over HOTP (RFC 4226), with HMAC from `ring`.

use ring::hmac;

/// Seconds per time step.
pub const STEP: u64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;

/// The HMAC the code is computed with.
#[derive(Debug, Clone, Copy)]
pub enum TotpAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

fn hmac_algorithm(alg: TotpAlgorithm) -> hmac::Algorithm {
    match alg {
        TotpAlgorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        TotpAlgorithm::Sha256 => hmac::HMAC_SHA256,
        TotpAlgorithm::Sha512 => hmac::HMAC_SHA512,
    }
}

/// HOTP value for `counter` (RFC 4226 §5.3 dynamic truncation).
pub fn hotp(secret: &[u8], counter: u64, digits: u32, alg: TotpAlgorithm) -> String {
    let key = hmac::Key::new(hmac_algorithm(alg), secret);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    let modulus = 10u32.pow(digits);
    format!("{:0width$}", binary % modulus, width = digits as usize)
}

/// TOTP value at `unix_seconds`.
pub fn totp_at(secret: &[u8], unix_seconds: u64, digits: u32, alg: TotpAlgorithm) -> String {
    hotp(secret, unix_seconds / STEP, digits, alg)
}

/// The time step a 6-digit SHA-1 code belongs to, accepting one step of
/// clock drift either way; `None` if it matches none. The caller refuses a
/// step already used (replay).
pub fn verify(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix_seconds / STEP;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|step| {
            let expected = hotp(secret, *step, DIGITS, TotpAlgorithm::Sha1);
            crate::random::same(&expected, code)
        })
}

/// RFC 4648 base32 without padding, as authenticator apps expect.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` URI an authenticator app scans.
pub fn provisioning_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: every published vector (8 digits).
    #[test]
    fn rfc6238_test_vectors() {
        let sha1 = b"12345678901234567890";
        let sha256 = b"12345678901234567890123456789012";
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234";
        let vectors: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (t, a, b, c) in vectors {
            assert_eq!(totp_at(sha1, t, 8, TotpAlgorithm::Sha1), a, "SHA1 at {t}");
            assert_eq!(
                totp_at(sha256, t, 8, TotpAlgorithm::Sha256),
                b,
                "SHA256 at {t}"
            );
            assert_eq!(
                totp_at(sha512, t, 8, TotpAlgorithm::Sha512),
                c,
                "SHA512 at {t}"
            );
        }
        println!("RFC 6238: 18 vectors pass");
    }

    /// RFC 4226 Appendix D HOTP values (6 digits).
    #[test]
    fn rfc4226_hotp_vectors() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(
                hotp(
                    b"12345678901234567890",
                    counter as u64,
                    6,
                    TotpAlgorithm::Sha1
                ),
                *want
            );
        }
    }

    #[test]
    fn verify_allows_one_step_of_drift() {
        let secret = b"12345678901234567890";
        let t = 1_111_111_111;
        let code = totp_at(secret, t, 6, TotpAlgorithm::Sha1);
        assert_eq!(verify(secret, &code, t), Some(t / STEP));
        assert!(verify(secret, &code, t + STEP).is_some());
        assert!(verify(secret, &code, t - STEP).is_some());
        assert_eq!(verify(secret, &code, t + 3 * STEP), None);
        assert_eq!(verify(secret, "12345", t), None);
        assert_eq!(verify(secret, "abcdef", t), None);
        assert_eq!(verify(b"another secret", &code, t), None);
    }

    #[test]
    fn base32_and_uri() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        let uri = provisioning_uri("Concord", "dr who", b"12345678901234567890");
        assert!(
            uri.starts_with("otpauth://totp/Concord:dr%20who?secret=GEZDG"),
            "{uri}"
        );
    }
}
