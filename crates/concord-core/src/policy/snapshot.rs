//! Loads what a request's access decisions depend on — the user's care
//! team, live break-the-glass grants, consents naming the caller — so the
//! decisions themselves ([`super::RequestPolicy`]) need no I/O.
//!
//! Care team (clinical roles only): the patients whose `generalPractitioner`
//! is the user's Practitioner (`fhirUser`), or who are the subject of a
//! `CareTeam` or an `Encounter` with that Practitioner as participant.
//! Care teams and consent denials are kept between requests (`super::cache`).

use std::collections::BTreeSet;
use std::sync::Arc;

use concord_auth::{AccountKind, AuthServer, Principal, Subject};
use concord_store::TenantContext;
use serde_json::Value;

use super::cache::CareTeam;
use super::consent::{denials, ConsentActor, ConsentRule, Denial};
use super::RequestPolicy;
use crate::{CoreError, CoreResult, Engine};

/// Most consents or roles looked at per question. (A care team is read
/// whole: a limit there would hide patients from the clinicians treating
/// them. Searches bind it as one value, see `concord-store-sql`.)
const LIMIT: usize = 5000;

/// The access policy of `principal` for one request. `ctx` must be the
/// server's own, unconfined context (tenant and request id of the request):
/// the lookups themselves are not the caller's reads. `auth` gives the
/// live break-the-glass grants (none without an authorization server).
pub async fn load(
    engine: &Engine,
    ctx: &TenantContext,
    auth: Option<&AuthServer>,
    principal: Principal,
) -> CoreResult<RequestPolicy> {
    let practitioner = principal
        .fhir_user
        .as_deref()
        .filter(|r| r.starts_with("Practitioner/") && r.len() > "Practitioner/".len());
    let care_team = match (super::clinical_principal(&principal), practitioner) {
        (true, Some(pr)) => Some((pr.to_string(), care_team(engine, ctx, pr).await?)),
        _ => None,
    };
    let mut glass = BTreeSet::new();
    if let (Some(auth), Subject::User { id, .. }) = (auth, &principal.subject) {
        let patients = auth
            .glass_patients(id)
            .await
            .map_err(|e| CoreError::Store(concord_store::StoreError::Backend(e.to_string())))?;
        glass.extend(patients);
    }
    let consents = binding_consents(engine, ctx, &principal, practitioner).await?;
    let policy = match care_team {
        Some((pr, team)) => {
            RequestPolicy::with_shared_care_team(principal, team.all.clone(), glass, consents)
                .with_gp_panel(&pr, team.beyond_gp)
        }
        None => {
            RequestPolicy::with_shared_care_team(principal, Default::default(), glass, consents)
        }
    };
    Ok(policy)
}

/// The patients on practitioner `pr`'s care team (kept in the policy cache).
async fn care_team(engine: &Engine, ctx: &TenantContext, pr: &str) -> CoreResult<CareTeam> {
    let cache = engine.policy_cache();
    if let Some(team) = cache.care_team(&ctx.tenant, pr) {
        return Ok(team);
    }
    let generation = cache.generation();
    let gp: BTreeSet<String> = engine
        .find_ids(
            ctx,
            "Patient",
            &format!("general-practitioner={pr}"),
            usize::MAX,
        )
        .await?
        .into_iter()
        .collect();
    let mut beyond_gp = BTreeSet::new();
    for query in [
        format!("_has:CareTeam:patient:participant={pr}"),
        format!("_has:Encounter:patient:participant={pr}"),
    ] {
        beyond_gp.extend(
            engine
                .find_ids(ctx, "Patient", &query, usize::MAX)
                .await?
                .into_iter()
                .filter(|p| !gp.contains(p)),
        );
    }
    let mut all = gp;
    all.extend(beyond_gp.iter().cloned());
    let team = CareTeam {
        all: Arc::new(all),
        beyond_gp: Arc::new(beyond_gp),
    };
    cache.keep_care_team(&ctx.tenant, pr, generation, team.clone());
    Ok(team)
}

/// Every active patient-privacy denial of the tenant (kept in the policy
/// cache).
async fn all_denials(engine: &Engine, ctx: &TenantContext) -> CoreResult<Arc<Vec<Denial>>> {
    let cache = engine.policy_cache();
    if let Some(all) = cache.denials(&ctx.tenant) {
        return Ok(all);
    }
    let generation = cache.generation();
    let ids = engine
        .find_ids(ctx, "Consent", "scope=patient-privacy&status=active", LIMIT)
        .await?;
    let mut all: Vec<Denial> = Vec::new();
    for id in ids {
        let v = engine.read(ctx, "Consent", &id).await?;
        if let Some(c) = v
            .content
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
        {
            all.extend(denials(&c));
        }
    }
    let all = Arc::new(all);
    cache.keep_denials(&ctx.tenant, generation, all.clone());
    Ok(all)
}

/// The consent denials that name this caller.
async fn binding_consents(
    engine: &Engine,
    ctx: &TenantContext,
    principal: &Principal,
    practitioner: Option<&str>,
) -> CoreResult<Vec<ConsentRule>> {
    if matches!(principal.subject, Subject::Operator { .. }) {
        return Ok(Vec::new());
    }
    let all = all_denials(engine, ctx).await?;
    if all.is_empty() {
        return Ok(Vec::new());
    }
    let own: Vec<String> = match &principal.subject {
        Subject::User {
            kind: kind @ (AccountKind::Patient { .. } | AccountKind::Proxy { .. }),
            ..
        } => kind.patients(),
        _ => Vec::new(),
    };
    let names_org = all.iter().any(|d| {
        d.actors
            .iter()
            .any(|a| matches!(a, ConsentActor::Organization(_)))
    });
    let mut orgs = BTreeSet::new();
    if let (true, Some(pr)) = (names_org, practitioner) {
        for id in engine
            .find_ids(
                ctx,
                "PractitionerRole",
                &format!("practitioner={pr}"),
                LIMIT,
            )
            .await?
        {
            let role = engine.read(ctx, "PractitionerRole", &id).await?;
            if let Some(org) = role
                .content
                .as_deref()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .and_then(|r| r["organization"]["reference"].as_str().map(str::to_string))
                .and_then(|r| r.strip_prefix("Organization/").map(str::to_string))
            {
                orgs.insert(org);
            }
        }
    }
    let names_caller = |a: &ConsentActor| match a {
        ConsentActor::Organization(o) => orgs.contains(o),
        ConsentActor::Client(c) => principal.client_id.as_deref() == Some(c.as_str()),
        ConsentActor::Person(r) => principal.fhir_user.as_deref() == Some(r.as_str()),
    };
    Ok(all
        .iter()
        .filter(|d| !own.contains(&d.patient))
        .filter(|d| d.actors.is_empty() || d.actors.iter().any(names_caller))
        .map(|d| ConsentRule {
            patient: d.patient.clone(),
            labels: d.labels.clone(),
        })
        .collect())
}
