//! [`AuthStore`] for SQLite: accounts, clients, grants and signing keys
//! (migration 0004). Writes go through the single writer connection.

mod clients;
mod grants;
mod keys;
mod users;

use async_trait::async_trait;
use concord_store::{
    AuthStore, ClientRecord, GrantRecord, SigningKeyRecord, StoreError, StoreResult, TenantContext,
    UserRecord,
};
use rusqlite::Connection;

use crate::error::backend;
use crate::SqliteStore;

/// A unique-key violation as `AlreadyExists`; anything else as usual.
pub(crate) fn insert_error(e: rusqlite::Error, what: &str, id: &str) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(code, _)
            if code.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::AlreadyExists {
                resource_type: what.to_string(),
                id: id.to_string(),
            }
        }
        _ => backend(e),
    }
}

pub(crate) fn to_json_list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

pub(crate) fn from_json_list(text: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(text).unwrap_or_default()
}

impl SqliteStore {
    async fn auth_write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || pool.with_writer(|w| f(&mut w.conn)))
            .await
            .map_err(|e| StoreError::Backend(format!("writer task failed: {e}")))?
    }
}

#[async_trait]
impl AuthStore for SqliteStore {
    async fn create_user(&self, ctx: &TenantContext, user: &UserRecord) -> StoreResult<()> {
        let (t, u) = (ctx.tenant.clone(), user.clone());
        self.auth_write(move |c| users::insert(c, &t, &u)).await
    }

    async fn update_user(&self, ctx: &TenantContext, user: &UserRecord) -> StoreResult<bool> {
        let (t, u) = (ctx.tenant.clone(), user.clone());
        self.auth_write(move |c| users::update(c, &t, &u)).await
    }

    async fn user_by_id(&self, ctx: &TenantContext, id: &str) -> StoreResult<Option<UserRecord>> {
        self.read_inline(|c| users::by_key(c, &ctx.tenant, "id", id))
    }

    async fn user_by_username(
        &self,
        ctx: &TenantContext,
        username: &str,
    ) -> StoreResult<Option<UserRecord>> {
        self.read_inline(|c| users::by_key(c, &ctx.tenant, "username", username))
    }

    async fn list_users(&self, ctx: &TenantContext) -> StoreResult<Vec<UserRecord>> {
        let t = ctx.tenant.clone();
        self.with_reader(move |c| users::list(c, &t)).await
    }

    async fn record_login_failure(
        &self,
        ctx: &TenantContext,
        id: &str,
        threshold: i64,
        lock_until: i64,
    ) -> StoreResult<i64> {
        let (t, id) = (ctx.tenant.clone(), id.to_string());
        self.auth_write(move |c| users::failure(c, &t, &id, threshold, lock_until))
            .await
    }

    async fn record_login_success(
        &self,
        ctx: &TenantContext,
        id: &str,
        at: i64,
    ) -> StoreResult<()> {
        let (t, id) = (ctx.tenant.clone(), id.to_string());
        self.auth_write(move |c| users::success(c, &t, &id, at))
            .await
    }

    async fn create_client(&self, ctx: &TenantContext, client: &ClientRecord) -> StoreResult<()> {
        let (t, cl) = (ctx.tenant.clone(), client.clone());
        self.auth_write(move |c| clients::insert(c, &t, &cl)).await
    }

    async fn update_client(&self, ctx: &TenantContext, client: &ClientRecord) -> StoreResult<bool> {
        let (t, cl) = (ctx.tenant.clone(), client.clone());
        self.auth_write(move |c| clients::update(c, &t, &cl)).await
    }

    async fn client_by_id(
        &self,
        ctx: &TenantContext,
        client_id: &str,
    ) -> StoreResult<Option<ClientRecord>> {
        self.read_inline(|c| clients::by_id(c, &ctx.tenant, client_id))
    }

    async fn list_clients(&self, ctx: &TenantContext) -> StoreResult<Vec<ClientRecord>> {
        let t = ctx.tenant.clone();
        self.with_reader(move |c| clients::list(c, &t)).await
    }

    async fn put_grant(&self, ctx: &TenantContext, grant: &GrantRecord) -> StoreResult<()> {
        let (t, g) = (ctx.tenant.clone(), grant.clone());
        self.auth_write(move |c| grants::insert(c, &t, &g)).await
    }

    async fn grant(
        &self,
        ctx: &TenantContext,
        kind: &str,
        handle_hash: &str,
        now: i64,
    ) -> StoreResult<Option<GrantRecord>> {
        self.read_inline(|c| grants::get(c, &ctx.tenant, kind, handle_hash, now))
    }

    async fn take_grant(
        &self,
        ctx: &TenantContext,
        kind: &str,
        handle_hash: &str,
        now: i64,
    ) -> StoreResult<Option<GrantRecord>> {
        let (t, k, h) = (
            ctx.tenant.clone(),
            kind.to_string(),
            handle_hash.to_string(),
        );
        self.auth_write(move |c| grants::take(c, &t, &k, &h, now))
            .await
    }

    async fn delete_grants_for(
        &self,
        ctx: &TenantContext,
        kind: &str,
        subject: &str,
        client_id: Option<&str>,
    ) -> StoreResult<u64> {
        let (t, k, s) = (ctx.tenant.clone(), kind.to_string(), subject.to_string());
        let cl = client_id.map(str::to_string);
        self.auth_write(move |c| grants::delete_for(c, &t, &k, &s, cl.as_deref()))
            .await
    }

    async fn grants_for(
        &self,
        ctx: &TenantContext,
        kind: &str,
        subject: &str,
        now: i64,
    ) -> StoreResult<Vec<GrantRecord>> {
        let (t, k, s) = (ctx.tenant.clone(), kind.to_string(), subject.to_string());
        self.with_reader(move |c| grants::for_subject(c, &t, &k, &s, now))
            .await
    }

    async fn purge_expired_grants(&self, ctx: &TenantContext, now: i64) -> StoreResult<u64> {
        let t = ctx.tenant.clone();
        self.auth_write(move |c| grants::purge(c, &t, now)).await
    }

    async fn add_signing_key(
        &self,
        ctx: &TenantContext,
        key: &SigningKeyRecord,
    ) -> StoreResult<bool> {
        let (t, k) = (ctx.tenant.clone(), key.clone());
        self.auth_write(move |c| keys::insert(c, &t, &k)).await
    }

    async fn signing_keys(&self, ctx: &TenantContext) -> StoreResult<Vec<SigningKeyRecord>> {
        let t = ctx.tenant.clone();
        self.with_reader(move |c| keys::list(c, &t)).await
    }
}
