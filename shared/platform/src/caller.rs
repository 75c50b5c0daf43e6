//! Who is calling: tenant, person and role from verified claims only. In AWS the
//! API Gateway JWT authorizer has verified the token and passes its claims in the
//! request context; locally the host verifies the dev token and inserts the
//! claims the same way. Nothing in the path or body can change who you are.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use agencyops_domain::{Id, Role};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use agencyops_store::record::load;
use agencyops_store::records::Person;

use crate::error::ApiError;
use crate::services::Services;

pub const CLAIM_TENANT: &str = "custom:tenant";
pub const CLAIM_ROLE: &str = "custom:role";
pub const CLAIM_PERSON: &str = "custom:person";
pub const CLAIM_CLIENT: &str = "custom:client";
pub const CLAIM_SUB: &str = "sub";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub tenant: String,
    pub person: String,
    pub role: Role,
    /// For the client role: the client they belong to.
    pub client: Option<String>,
}

/// Claims as verified by the local host (its dev tokens) or a test harness.
#[derive(Clone, Debug, Default)]
pub struct VerifiedClaims(pub HashMap<String, String>);

/// Who vouched for the claims of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Issuer {
    /// The local host, which only signs tokens for whoever runs it.
    LocalHost,
    /// API Gateway's JWT authorizer (Cognito ID tokens).
    Gateway,
}

/// The people trusted in AWS without a person record: each tenant's first
/// admin, who must be able to sign in before anyone can create person records
/// (configured as `BOOTSTRAP_ADMINS="tenant:person,..."`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootstrapAdmins(Arc<HashSet<(String, String)>>);

impl BootstrapAdmins {
    /// Parses `tenant:person` pairs separated by commas; blanks are ignored.
    pub fn parse(list: &str) -> Result<BootstrapAdmins, String> {
        let mut set = HashSet::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match entry.split_once(':') {
                Some((tenant, person)) if Id::is_valid(tenant) && Id::is_valid(person) => {
                    set.insert((tenant.to_owned(), person.to_owned()));
                }
                _ => return Err(format!("{entry:?} is not tenant:person")),
            }
        }
        Ok(BootstrapAdmins(Arc::new(set)))
    }

    pub fn contains(&self, tenant: &str, person: &str) -> bool {
        self.0.contains(&(tenant.to_owned(), person.to_owned()))
    }
}

impl Caller {
    pub fn from_claims(claims: &HashMap<String, String>) -> Result<Caller, ApiError> {
        let tenant = claims
            .get(CLAIM_TENANT)
            .filter(|t| Id::is_valid(t))
            .ok_or(ApiError::Unauthenticated)?;
        let person = claims
            .get(CLAIM_PERSON)
            .or_else(|| claims.get(CLAIM_SUB))
            .filter(|p| Id::is_valid(p))
            .ok_or(ApiError::Unauthenticated)?;
        let role = claims
            .get(CLAIM_ROLE)
            .and_then(|r| Role::parse(r))
            .ok_or(ApiError::Unauthenticated)?;
        let client = claims
            .get(CLAIM_CLIENT)
            .filter(|c| Id::is_valid(c))
            .cloned();
        if role == Role::Client && client.is_none() {
            // A client user without a client would see nothing or, worse, everything.
            return Err(ApiError::Unauthenticated);
        }
        Ok(Caller {
            tenant: tenant.clone(),
            person: person.clone(),
            role,
            client,
        })
    }

    /// Reads the caller from whatever the authentication layer left on the request.
    pub fn from_parts(parts: &Parts) -> Result<Caller, ApiError> {
        Caller::claimed(parts).map(|(caller, _)| caller)
    }

    pub(crate) fn claimed(parts: &Parts) -> Result<(Caller, Issuer), ApiError> {
        if let Some(VerifiedClaims(claims)) = parts.extensions.get::<VerifiedClaims>() {
            return Ok((Caller::from_claims(claims)?, Issuer::LocalHost));
        }
        if let Some(claims) = lambda_jwt_claims(parts) {
            return Ok((Caller::from_claims(&claims)?, Issuer::Gateway));
        }
        Err(ApiError::Unauthenticated)
    }

    /// The caller of this request, resolved once and remembered on it. Where
    /// the agency keeps a person record for them, that record decides their role
    /// and client, and a deactivated person is refused: offboarding and
    /// demotions take effect at once, not when their token expires. In AWS a
    /// token naming no person of the agency is refused too (a user pool
    /// account left behind, or one given the wrong person), unless it is a
    /// configured bootstrap admin; the local host's own dev tokens need no
    /// record, so a fresh machine works at once.
    pub async fn resolve(parts: &mut Parts, services: &Services) -> Result<Caller, ApiError> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        let (claimed, issuer) = Caller::claimed(parts)?;
        let missing_refuses = issuer == Issuer::Gateway
            && !services
                .bootstrap_admins
                .contains(&claimed.tenant, &claimed.person);
        // Under the HTTP layers the record is read with the request's first
        // read (`caller_record`); elsewhere, now.
        let caller = if crate::caller_record::defer(&claimed, missing_refuses) {
            claimed
        } else {
            let key = agencyops_store::keys::person(&claimed.tenant, &claimed.person);
            let record = load::<Person>(&*services.table, &key).await?;
            crate::caller_record::decide(claimed, missing_refuses, record)?
        };
        // Every log line of the request carries the tenant from here on.
        tracing::Span::current().record("tenant", caller.tenant.as_str());
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }

    /// Fails with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "the {} role may not do this",
                self.role.as_str()
            )))
        }
    }
}

/// Claims the API Gateway JWT authorizer verified, from the Lambda request context.
fn lambda_jwt_claims(parts: &Parts) -> Option<HashMap<String, String>> {
    use lambda_http::request::RequestContext;
    match parts.extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(ctx) => {
            let jwt = ctx.authorizer.as_ref()?.jwt.as_ref()?;
            Some(jwt.claims.clone().into_iter().collect())
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

impl FromRequestParts<Services> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Services,
    ) -> Result<Self, Self::Rejection> {
        Caller::resolve(parts, services).await
    }
}
