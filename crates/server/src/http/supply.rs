//! Routing after placement, for staff and integrations behind the integration key
//! ([`Integration`]): a location rejects lines of its fulfilment order
//! ([`crate::service::resourcing`]); the inventory feed ([`crate::service::inventory`]); a
//! picker's substitute, and the shopper's answer (the order's caller rules, not the key:
//! [`crate::service::substitutions`]).

use axum::extract::State;
use axum::routing::{post, put};
use axum::{Json, Router};
use omnicart_api::{
    InventoryFeed, InventoryReply, RejectionReply, RejectionRequest, SubstitutionDecision,
    SubstitutionProposal, SubstitutionView, routes,
};

use crate::AppState;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::integration::Integration;
use crate::http::{ApiJson, AppError, api_path};
use crate::service::Caller;
use crate::service::{inventory, resourcing, substitutions};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::FULFILMENT_REJECTIONS), post(reject))
        .route(api_path(routes::INVENTORY), put(feed))
        .route(api_path(routes::FULFILMENT_SUBSTITUTIONS), post(propose))
        .route(api_path(routes::ORDER_SUBSTITUTION), post(decide))
}

async fn feed(
    State(state): State<AppState>,
    _by: Integration,
    ApiJson(feed): ApiJson<InventoryFeed>,
) -> Result<Json<InventoryReply>, AppError> {
    Ok(Json(inventory::apply(&state, &feed).await?))
}

async fn reject(
    State(state): State<AppState>,
    by: Integration,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<RejectionRequest>,
) -> Result<Json<RejectionReply>, AppError> {
    let at = omnicart_engine::Timestamp::from_unix(crate::ids::now_unix());
    let reply = resourcing::reject(&state, &by.name, &id, request, at).await?;
    Ok(Json(reply))
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn propose(
    State(state): State<AppState>,
    _by: Integration,
    ApiPath(id): ApiPath<String>,
    ApiJson(proposal): ApiJson<SubstitutionProposal>,
) -> Result<Json<SubstitutionView>, AppError> {
    let at = omnicart_engine::Timestamp::from_unix(crate::ids::now_unix());
    Ok(Json(
        substitutions::propose(&state, &id, &proposal, at).await?,
    ))
}

async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((number, id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<TokenQuery>,
    ApiJson(decision): ApiJson<SubstitutionDecision>,
) -> Result<Json<SubstitutionView>, AppError> {
    let at = omnicart_engine::Timestamp::from_unix(crate::ids::now_unix());
    let decision = substitutions::Decision {
        number: &number,
        token: query.token.as_deref(),
        id: &id,
        accept: decision.accept,
    };
    Ok(Json(
        substitutions::decide(&state, &caller, decision, at).await?,
    ))
}
