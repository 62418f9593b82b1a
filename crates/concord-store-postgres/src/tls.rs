//! TLS for PostgreSQL connections (rustls, `ring`), chosen by the
//! connection string's `sslmode`, with libpq's meanings:
//!
//! | `sslmode` | connection |
//! |---|---|
//! | absent, `disable` | plain TCP (as before) |
//! | `prefer` | TLS when the server offers it, else plain; certificate not checked |
//! | `require` | TLS or no connection; certificate not checked (protects against eavesdropping only) |
//! | `verify-ca` | TLS; the certificate must chain to `sslrootcert` (PEM file; default: the Mozilla roots) |
//! | `verify-full` | as `verify-ca`, and the certificate must name the host connected to |
//!
//! tokio-postgres itself knows only `disable`/`prefer`/`require`, so the
//! `sslmode` and `sslrootcert` parameters are taken out of the string here
//! and the verification is done by the rustls configuration.

use std::path::PathBuf;
use std::sync::Arc;

use concord_store::StoreError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The `sslmode` of a connection string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A connection string split into what tokio-postgres parses and the TLS choice.
#[derive(Debug)]
pub struct Connection {
    /// The string for `tokio_postgres::Config` (sslmode rewritten).
    pub config: String,
    pub mode: SslMode,
    pub root_cert: Option<PathBuf>,
}

fn mode_of(value: &str) -> Result<SslMode, StoreError> {
    Ok(match value {
        "disable" => SslMode::Disable,
        "allow" | "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-ca" => SslMode::VerifyCa,
        "verify-full" => SslMode::VerifyFull,
        _ => {
            return Err(StoreError::Backend(
                "invalid sslmode (disable, prefer, require, verify-ca or verify-full)".into(),
            ))
        }
    })
}

fn driver_mode(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        _ => "require",
    }
}

/// Splits `sslmode` and `sslrootcert` out of a URL or key=value string.
pub fn parse(url: &str) -> Result<Connection, StoreError> {
    let mut mode = None;
    let mut root_cert = None;
    let config = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("sslmode", v)) => mode = Some(mode_of(v)?),
                Some(("sslrootcert", v)) => {
                    let decoded: String = form_urlencoded::parse(format!("x={v}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                    root_cert = Some(PathBuf::from(decoded));
                }
                _ => kept.push(pair.to_string()),
            }
        }
        let mode = mode.unwrap_or(SslMode::Disable);
        kept.push(format!("sslmode={}", driver_mode(mode)));
        format!("{base}?{}", kept.join("&"))
    } else {
        let mut kept = Vec::new();
        for token in url.split_whitespace() {
            match token.split_once('=') {
                Some(("sslmode", v)) => mode = Some(mode_of(v.trim_matches('\''))?),
                Some(("sslrootcert", v)) => root_cert = Some(PathBuf::from(v.trim_matches('\''))),
                _ => kept.push(token.to_string()),
            }
        }
        let mode = mode.unwrap_or(SslMode::Disable);
        kept.push(format!("sslmode={}", driver_mode(mode)));
        kept.join(" ")
    };
    Ok(Connection {
        config,
        mode: mode.unwrap_or(SslMode::Disable),
        root_cert,
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(file: Option<&PathBuf>) -> Result<RootCertStore, StoreError> {
    let mut store = RootCertStore::empty();
    match file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| {
                    StoreError::Backend(format!("cannot read sslrootcert {}: {e}", path.display()))
                })?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::Backend(format!("bad PEM in sslrootcert: {e}")))?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StoreError::Backend(format!(
                    "no usable certificate in sslrootcert {}",
                    path.display()
                )));
            }
        }
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(store)
}

/// The rustls client configuration for a TLS mode (`None` for `disable`).
pub fn client_config(c: &Connection) -> Result<Option<ClientConfig>, StoreError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Backend(format!("TLS setup: {e}")))?;
    let config = match c.mode {
        SslMode::Disable => return Ok(None),
        SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked(provider())))
            .with_no_client_auth(),
        SslMode::VerifyFull => builder
            .with_root_certificates(roots(c.root_cert.as_ref())?)
            .with_no_client_auth(),
        SslMode::VerifyCa => {
            let inner = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(c.root_cert.as_ref())?),
                provider(),
            )
            .build()
            .map_err(|e| StoreError::Backend(format!("TLS setup: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
                .with_no_client_auth()
        }
    };
    Ok(Some(config))
}

/// `prefer`/`require`: any certificate (libpq's behaviour), but the
/// handshake signatures are still checked.
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must verify; the name is not compared.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_root_cert_are_taken_out() {
        let c = parse("postgres://u:p@h:5432/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x").unwrap();
        assert_eq!(c.mode, SslMode::VerifyFull);
        assert_eq!(c.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(
            c.config,
            "postgres://u:p@h:5432/db?application_name=x&sslmode=require"
        );
        let c = parse("postgres://u@h/db").unwrap();
        assert_eq!(c.mode, SslMode::Disable);
        assert_eq!(c.config, "postgres://u@h/db?sslmode=disable");
        let c = parse("host=h user=u sslmode=verify-ca sslrootcert=/ca.pem").unwrap();
        assert_eq!(c.mode, SslMode::VerifyCa);
        assert_eq!(c.config, "host=h user=u sslmode=require");
        assert!(parse("postgres://h/db?sslmode=bogus").is_err());
        assert!(client_config(&parse("postgres://h/db").unwrap())
            .unwrap()
            .is_none());
        assert!(
            client_config(&parse("postgres://h/db?sslmode=require").unwrap())
                .unwrap()
                .is_some()
        );
    }
}
