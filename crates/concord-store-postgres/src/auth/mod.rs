//! [`AuthStore`] for PostgreSQL: accounts, clients, grants and signing keys
//! (migration 0004).

mod clients;
mod grants;
mod keys;
mod users;

use async_trait::async_trait;
use concord_store::{
    AuthStore, ClientRecord, GrantRecord, SigningKeyRecord, StoreError, StoreResult, TenantContext,
    UserRecord,
};
use tokio_postgres::error::SqlState;

use crate::{error, PostgresStore};

/// A unique-key violation as `AlreadyExists`; anything else as usual.
pub(crate) fn insert_error(e: tokio_postgres::Error, what: &str, id: &str) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        return StoreError::AlreadyExists {
            resource_type: what.to_string(),
            id: id.to_string(),
        };
    }
    error::db(e)
}

#[async_trait]
impl AuthStore for PostgresStore {
    async fn create_user(&self, ctx: &TenantContext, user: &UserRecord) -> StoreResult<()> {
        users::insert(&self.pool, &ctx.tenant, user).await
    }

    async fn update_user(&self, ctx: &TenantContext, user: &UserRecord) -> StoreResult<bool> {
        users::update(&self.pool, &ctx.tenant, user).await
    }

    async fn user_by_id(&self, ctx: &TenantContext, id: &str) -> StoreResult<Option<UserRecord>> {
        users::by_key(&self.pool, &ctx.tenant, "id", id).await
    }

    async fn user_by_username(
        &self,
        ctx: &TenantContext,
        username: &str,
    ) -> StoreResult<Option<UserRecord>> {
        users::by_key(&self.pool, &ctx.tenant, "username", username).await
    }

    async fn list_users(&self, ctx: &TenantContext) -> StoreResult<Vec<UserRecord>> {
        users::list(&self.pool, &ctx.tenant).await
    }

    async fn record_login_failure(
        &self,
        ctx: &TenantContext,
        id: &str,
        threshold: i64,
        lock_until: i64,
    ) -> StoreResult<i64> {
        users::failure(&self.pool, &ctx.tenant, id, threshold, lock_until).await
    }

    async fn record_login_success(
        &self,
        ctx: &TenantContext,
        id: &str,
        at: i64,
    ) -> StoreResult<()> {
        users::success(&self.pool, &ctx.tenant, id, at).await
    }

    async fn create_client(&self, ctx: &TenantContext, client: &ClientRecord) -> StoreResult<()> {
        clients::insert(&self.pool, &ctx.tenant, client).await
    }

    async fn update_client(&self, ctx: &TenantContext, client: &ClientRecord) -> StoreResult<bool> {
        clients::update(&self.pool, &ctx.tenant, client).await
    }

    async fn client_by_id(
        &self,
        ctx: &TenantContext,
        client_id: &str,
    ) -> StoreResult<Option<ClientRecord>> {
        clients::by_id(&self.pool, &ctx.tenant, client_id).await
    }

    async fn list_clients(&self, ctx: &TenantContext) -> StoreResult<Vec<ClientRecord>> {
        clients::list(&self.pool, &ctx.tenant).await
    }

    async fn put_grant(&self, ctx: &TenantContext, grant: &GrantRecord) -> StoreResult<()> {
        grants::insert(&self.pool, &ctx.tenant, grant).await
    }

    async fn grant(
        &self,
        ctx: &TenantContext,
        kind: &str,
        handle_hash: &str,
        now: i64,
    ) -> StoreResult<Option<GrantRecord>> {
        grants::get(&self.pool, &ctx.tenant, kind, handle_hash, now).await
    }

    async fn take_grant(
        &self,
        ctx: &TenantContext,
        kind: &str,
        handle_hash: &str,
        now: i64,
    ) -> StoreResult<Option<GrantRecord>> {
        grants::take(&self.pool, &ctx.tenant, kind, handle_hash, now).await
    }

    async fn delete_grants_for(
        &self,
        ctx: &TenantContext,
        kind: &str,
        subject: &str,
        client_id: Option<&str>,
    ) -> StoreResult<u64> {
        grants::delete_for(&self.pool, &ctx.tenant, kind, subject, client_id).await
    }

    async fn grants_for(
        &self,
        ctx: &TenantContext,
        kind: &str,
        subject: &str,
        now: i64,
    ) -> StoreResult<Vec<GrantRecord>> {
        grants::for_subject(&self.pool, &ctx.tenant, kind, subject, now).await
    }

    async fn purge_expired_grants(&self, ctx: &TenantContext, now: i64) -> StoreResult<u64> {
        grants::purge(&self.pool, &ctx.tenant, now).await
    }

    async fn add_signing_key(
        &self,
        ctx: &TenantContext,
        key: &SigningKeyRecord,
    ) -> StoreResult<bool> {
        keys::insert(&self.pool, &ctx.tenant, key).await
    }

    async fn signing_keys(&self, ctx: &TenantContext) -> StoreResult<Vec<SigningKeyRecord>> {
        keys::list(&self.pool, &ctx.tenant).await
    }
}
