//! Who may do what: operator keys with roles, and member tokens.
//!
//! Every key is 32 random bytes shown once and stored as its SHA-256; a request's key is looked
//! up by that hash, so the lookup compares nothing secret byte by byte. A key belongs to one
//! tenant and has one role:
//!
//! | role             | may                                                                     |
//! |------------------|-------------------------------------------------------------------------|
//! | `owner`          | everything in the tenant: plan, raw events, keys, brands, reviews, ...  |
//! | `brand_manager`  | its brand's stores, orders at them, members joining, their tokens, reads of members |
//! | `store_operator` | orders at its store, members joining, their tokens, redemptions, reads of members |
//! | `read_only`      | every read: state, mechanisms, members, the audit feed                  |
//! | member token     | its own member's view, the proposals, and its member's votes            |
//!
//! A key of another tenant never sees this tenant: its requests name no tenant, the key does.
//!
//! The master key makes tenants (`POST /v1/tenants`, which answers the first owner key) and
//! issues a tenant another owner key (`POST /v1/tenants/{id}/keys`), when the owner lost theirs
//! or a script runs again against a tenant it made before; it reads nothing of any tenant.
//!
//! Keys have ids (random, 16 hex digits) by which the owner lists, revokes and rotates them
//! (`GET /v1/keys`, `DELETE /v1/keys/{id}`, `POST /v1/keys/{id}/rotate`; read-only keys may
//! list too). A revoked key is refused (`401`) from the moment the revocation commits: on the
//! node that revoked it at once (its key map drops it), and on the other nodes of a cluster at
//! their next request, which first reads the store's count of revocations (one read for all the
//! requests waiting) and, when it moved, drops every revoked key it had.
//! Refunds, sells, withdrawals, top-ups, agents and reviews move money or trust across the
//! tenant and need the owner; a refund by a store will need the order's store, which the engine
//! does not expose yet.

use axum::http::StatusCode;

use crate::ApiError;

/// What a key may do in its tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Owner,
    /// One brand: its stores and their orders.
    BrandManager(String),
    /// One store: its orders.
    StoreOperator(String),
    /// Reads only.
    ReadOnly,
    /// One member's view.
    Member(String),
}

impl Role {
    /// The role's name in the API.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::BrandManager(_) => "brand_manager",
            Role::StoreOperator(_) => "store_operator",
            Role::ReadOnly => "read_only",
            Role::Member(_) => "member",
        }
    }

    /// The name of the field that carries its scope in the API (`brand`, `store`, `member`).
    pub fn scope_name(&self) -> Option<&'static str> {
        match self {
            Role::Owner | Role::ReadOnly => None,
            Role::BrandManager(_) => Some("brand"),
            Role::StoreOperator(_) => Some("store"),
            Role::Member(_) => Some("member"),
        }
    }

    /// The brand, store or member the role is limited to.
    pub fn scope(&self) -> Option<&str> {
        match self {
            Role::Owner | Role::ReadOnly => None,
            Role::BrandManager(s) | Role::StoreOperator(s) | Role::Member(s) => Some(s),
        }
    }

    /// The role from its stored name and scope.
    pub fn from_parts(name: &str, scope: Option<String>) -> Option<Role> {
        Some(match (name, scope) {
            ("owner", None) => Role::Owner,
            ("read_only", None) => Role::ReadOnly,
            ("brand_manager", Some(brand)) => Role::BrandManager(brand),
            ("store_operator", Some(store)) => Role::StoreOperator(store),
            ("member", Some(member)) => Role::Member(member),
            _ => return None,
        })
    }
}

/// The tenant and role a request's key stands for, and the key's id (what its writes are
/// recorded under).
#[derive(Clone, Debug)]
pub struct Caller {
    /// The tenant.
    pub tenant: String,
    /// What the key may do there.
    pub role: Role,
    /// The key's id (`store::StoredKey::id`), never its secret or hash.
    pub key: String,
}

fn forbidden(role: &Role, what: &str) -> ApiError {
    let scope = role.scope().map_or(String::new(), |s| format!(" of `{s}`"));
    ApiError(StatusCode::FORBIDDEN, "forbidden", format!("{what}; this key is a {}{scope} key", role.name()))
}

impl Caller {
    /// Only the owner.
    pub fn owner(&self, what: &str) -> Result<(), ApiError> {
        match self.role {
            Role::Owner => Ok(()),
            _ => Err(forbidden(&self.role, &format!("{what} needs the owner's key"))),
        }
    }

    /// Reads of the whole tenant: the owner and read-only keys.
    pub fn reader(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Owner | Role::ReadOnly => Ok(()),
            _ => Err(forbidden(&self.role, "reading the whole tenant needs an owner or read-only key")),
        }
    }

    /// Views of the tenant's state that operators use and auditors read: an operator's or a
    /// read-only key (refused as [`Caller::reader`] refuses).
    pub fn viewer(&self) -> Result<(), ApiError> {
        match self.role {
            Role::BrandManager(_) | Role::StoreOperator(_) => Ok(()),
            _ => self.reader(),
        }
    }

    /// Operators who serve members at the counter: owner, brand managers, store operators.
    pub fn operator(&self, what: &str) -> Result<(), ApiError> {
        match self.role {
            Role::Owner | Role::BrandManager(_) | Role::StoreOperator(_) => Ok(()),
            _ => Err(forbidden(&self.role, &format!("{what} needs an operator's key"))),
        }
    }

    /// One member's view: any key but another member's token.
    pub fn sees_member(&self, member: &str) -> Result<(), ApiError> {
        match &self.role {
            Role::Member(own) if own != member => {
                Err(forbidden(&self.role, &format!("member `{member}` is not this token's member")))
            }
            _ => Ok(()),
        }
    }

    /// Writing at `store` (an order there): the owner, the store's operator, or the manager of
    /// the store's brand (`brand_of` the store, as registered).
    pub fn at_store(
        &self,
        store: Option<&str>,
        brand_of: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ApiError> {
        match (&self.role, store) {
            (Role::Owner, _) => Ok(()),
            (Role::StoreOperator(own), Some(store)) if own == store => Ok(()),
            (Role::BrandManager(brand), Some(store)) if brand_of(store).as_deref() == Some(brand) => Ok(()),
            (Role::StoreOperator(_) | Role::BrandManager(_), None) => {
                Err(forbidden(&self.role, "this key writes only at its own stores: name the `store`"))
            }
            (Role::StoreOperator(_) | Role::BrandManager(_), Some(store)) => {
                Err(forbidden(&self.role, &format!("store `{store}` is not this key's")))
            }
            _ => Err(forbidden(&self.role, "orders need an operator's key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role) -> Caller {
        Caller { tenant: "t".to_owned(), role, key: "k".to_owned() }
    }

    #[test]
    fn each_role_writes_only_where_it_may() {
        let brand_of = |s: &str| (s == "s1" || s == "s2").then(|| "b1".to_owned());
        let owner = caller(Role::Owner);
        let brand = caller(Role::BrandManager("b1".to_owned()));
        let store = caller(Role::StoreOperator("s1".to_owned()));
        let reader = caller(Role::ReadOnly);
        let member = caller(Role::Member("A".to_owned()));
        assert!(owner.at_store(None, brand_of).is_ok());
        assert!(brand.at_store(Some("s2"), brand_of).is_ok());
        assert!(brand.at_store(Some("s3"), brand_of).is_err());
        assert!(brand.at_store(None, brand_of).is_err());
        assert!(store.at_store(Some("s1"), brand_of).is_ok());
        assert!(store.at_store(Some("s2"), brand_of).is_err());
        assert!(reader.at_store(Some("s1"), brand_of).is_err());
        assert!(member.at_store(Some("s1"), brand_of).is_err());
        assert!(member.sees_member("A").is_ok() && member.sees_member("B").is_err());
        assert!(store.sees_member("B").is_ok());
        assert!(reader.reader().is_ok() && store.reader().is_err() && member.reader().is_err());
        assert!(owner.owner("x").is_ok() && reader.owner("x").is_err() && brand.owner("x").is_err());
        let error = store.at_store(Some("s2"), brand_of).unwrap_err();
        assert_eq!(error.0, StatusCode::FORBIDDEN);
        assert_eq!(error.2, "store `s2` is not this key's; this key is a store_operator of `s1` key");
    }

    #[test]
    fn roles_round_trip_through_their_stored_form() {
        for role in [
            Role::Owner,
            Role::ReadOnly,
            Role::BrandManager("b".to_owned()),
            Role::StoreOperator("s".to_owned()),
            Role::Member("m".to_owned()),
        ] {
            assert_eq!(Role::from_parts(role.name(), role.scope().map(str::to_owned)), Some(role.clone()));
        }
        assert_eq!(Role::from_parts("owner", Some("x".to_owned())), None);
        assert_eq!(Role::from_parts("store_operator", None), None);
        assert_eq!(Role::from_parts("admin", None), None);
    }
}
