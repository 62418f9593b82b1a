//! `concord admin user …` and `concord admin token`.

use std::io::BufRead;

use concord_auth::{AccountKind, AuthConfig, AuthServer, NewUser, Role};
use concord_store::DEFAULT_TENANT;

use crate::cli::{AdminCommand, StorageArgs, UserCommand};
use crate::storage;

async fn server(args: &StorageArgs) -> Result<AuthServer, String> {
    let (_, auth_store, _) = storage::open_with_auth(args).await?;
    Ok(AuthServer::new(
        auth_store,
        AuthConfig {
            tenant: DEFAULT_TENANT.to_string(),
            ..AuthConfig::default()
        },
    ))
}

/// A new password from `CONCORD_NEW_PASSWORD` or the first line of stdin:
/// never from the command line, where other users could see it.
fn read_password() -> Result<String, String> {
    if let Ok(p) = std::env::var("CONCORD_NEW_PASSWORD") {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    eprintln!("password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let p = line.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        return Err("no password given (set CONCORD_NEW_PASSWORD or pipe it in)".into());
    }
    Ok(p)
}

pub async fn run(cmd: AdminCommand) -> Result<(), String> {
    match cmd {
        AdminCommand::Token(args) => {
            let auth = server(&args.storage).await?;
            let token = auth
                .operator_token(&args.base_url, &args.operator, &args.scope)
                .await
                .map_err(|e| e.to_string())?;
            println!("{token}");
            Ok(())
        }
        AdminCommand::User(UserCommand::Add(args)) => {
            let kind = match args.kind.as_str() {
                "staff" => {
                    let code = args.role.as_deref().ok_or("staff need --role")?;
                    let role = Role::parse(code).ok_or_else(|| {
                        let all: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
                        format!("unknown role {code:?}; one of: {}", all.join(", "))
                    })?;
                    AccountKind::Staff(role)
                }
                "patient" => match args.patients.as_slice() {
                    [one] => AccountKind::Patient {
                        patient: one.clone(),
                    },
                    _ => return Err("a patient account needs exactly one --patient".into()),
                },
                "proxy" if !args.patients.is_empty() => AccountKind::Proxy {
                    patients: args.patients.clone(),
                },
                "proxy" => return Err("a proxy account needs at least one --patient".into()),
                other => return Err(format!("unknown --kind {other:?}: staff, patient or proxy")),
            };
            let password = read_password()?;
            let auth = server(&args.storage).await?;
            let created = auth
                .add_user(NewUser {
                    username: args.username.clone(),
                    display_name: args.name.clone().unwrap_or_else(|| args.username.clone()),
                    kind,
                    password,
                    fhir_user: args.fhir_user.clone(),
                    with_totp: args.totp,
                })
                .await
                .map_err(|e| e.to_string())?;
            println!("added {} ({})", created.user.username, created.user.id);
            if let Some(uri) = created.totp_uri {
                println!("TOTP (scan once, then keep it secret): {uri}");
            }
            Ok(())
        }
        AdminCommand::User(UserCommand::List(args)) => {
            let auth = server(&args).await?;
            let users = auth.list_users().await.map_err(|e| e.to_string())?;
            println!(
                "{:<24} {:<8} {:<18} {:<9} {:<5} patients",
                "username", "kind", "role", "status", "totp"
            );
            for u in users {
                let locked = u
                    .locked_until
                    .is_some_and(|t| t > concord_store::timestamp::now_millis());
                let status = match (u.active, locked) {
                    (false, _) => "disabled",
                    (true, true) => "locked",
                    (true, false) => "active",
                };
                println!(
                    "{:<24} {:<8} {:<18} {:<9} {:<5} {}",
                    u.username,
                    u.kind,
                    u.role.as_deref().unwrap_or("-"),
                    status,
                    if u.totp_secret.is_some() { "yes" } else { "no" },
                    u.patients.join(",")
                );
            }
            Ok(())
        }
        AdminCommand::User(UserCommand::Disable(args)) => {
            let auth = server(&args.storage).await?;
            auth.disable_user(&args.username)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "disabled {}; its sessions and tokens are revoked",
                args.username
            );
            Ok(())
        }
        AdminCommand::User(UserCommand::Enable(args)) => {
            let auth = server(&args.storage).await?;
            auth.enable_user(&args.username)
                .await
                .map_err(|e| e.to_string())?;
            println!("enabled {}", args.username);
            Ok(())
        }
        AdminCommand::User(UserCommand::TotpCode(args)) => {
            let auth = server(&args.storage).await?;
            println!("{}", current_totp_code(&auth, &args.username).await?);
            Ok(())
        }
        AdminCommand::User(UserCommand::ResetPassword(args)) => {
            let password = read_password()?;
            let auth = server(&args.storage).await?;
            auth.reset_password(&args.username, &password)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "reset {}: the new password must be changed at next sign-in",
                args.username
            );
            Ok(())
        }
    }
}

/// The current RFC 6238 code (6 digits, SHA-1, 30 s) of a local account.
pub async fn current_totp_code(auth: &AuthServer, username: &str) -> Result<String, String> {
    let users = auth.list_users().await.map_err(|e| e.to_string())?;
    let user = users
        .into_iter()
        .find(|u| u.username == username)
        .ok_or_else(|| format!("no account named {username:?}"))?;
    let secret = user
        .totp_secret
        .ok_or_else(|| format!("{username} has no TOTP enrolled"))?;
    let secret =
        hex::decode(secret).map_err(|_| "the stored TOTP secret is unreadable".to_string())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    Ok(concord_auth::totp::totp_at(
        &secret,
        now,
        concord_auth::totp::DIGITS,
        concord_auth::totp::TotpAlgorithm::Sha1,
    ))
}
