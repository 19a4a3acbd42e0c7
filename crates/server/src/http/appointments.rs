//! Installation appointments (issue 17): the slots, booking, moving, cancelling, a complaint's
//! repeat visit (for the order's shopper or an integration with its key), and the installer's
//! report and the installers feed (integrations only). The rules are [`crate::service::appointments`]'s.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use omnicart_api::{
    AppointmentList, AppointmentTransition, AppointmentView, BookRequest, ComplaintRequest,
    InstallerFeed, InstallerReply, RescheduleRequest, SlotList, routes,
};
use serde::Deserialize;

use crate::AppState;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::integration::{Integration, agent};
use crate::http::{ApiJson, AppError, api_path};
use crate::service::Caller;
use crate::service::appointments;
use crate::service::orders::Asker;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(api_path(routes::ORDER_APPOINTMENTS), get(list).post(book))
        .route(api_path(routes::ORDER_APPOINTMENT_SLOTS), get(slots))
        .route(api_path(routes::APPOINTMENT_RESCHEDULE), post(reschedule))
        .route(api_path(routes::APPOINTMENT_CANCEL), post(cancel))
        .route(api_path(routes::APPOINTMENT_COMPLAINT), post(complaint))
        .route(api_path(routes::APPOINTMENT_TRANSITIONS), post(report))
        .route(api_path(routes::INSTALLERS), put(installers))
}

/// The HR or field-service system's installers feed.
async fn installers(
    State(state): State<AppState>,
    _by: Integration,
    ApiJson(feed): ApiJson<InstallerFeed>,
) -> Result<Json<InstallerReply>, AppError> {
    Ok(Json(appointments::replace_installers(&state, &feed).await?))
}

/// A guest's capability to an order.
#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Who asks: an integration by its key (an unknown key is 401), else the shopper.
struct Asking {
    caller: Caller,
    token: Option<String>,
    agent: Option<Integration>,
}

impl Asking {
    fn new(
        state: &AppState,
        headers: &HeaderMap,
        caller: Caller,
        token: Option<String>,
    ) -> Result<Self, AppError> {
        Ok(Asking {
            caller,
            token,
            agent: agent(state, headers)?,
        })
    }

    fn who(&self) -> Asker<'_> {
        let agent = self.agent.as_ref().map(|a| &*a.name);
        Asker::new(agent, &self.caller, self.token.as_deref())
    }
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> Result<Json<AppointmentList>, AppError> {
    let asking = Asking::new(&state, &headers, caller, q.token)?;
    Ok(Json(
        appointments::list(&state, &asking.who(), &number).await?,
    ))
}

async fn slots(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> Result<Json<SlotList>, AppError> {
    let asking = Asking::new(&state, &headers, caller, q.token)?;
    Ok(Json(
        appointments::slots(&state, &asking.who(), &number).await?,
    ))
}

async fn book(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    ApiPath(number): ApiPath<String>,
    ApiQuery(q): ApiQuery<TokenQuery>,
    ApiJson(request): ApiJson<BookRequest>,
) -> Result<(StatusCode, Json<AppointmentView>), AppError> {
    let asking = Asking::new(&state, &headers, caller, q.token)?;
    let view = appointments::book(&state, &asking.who(), &number, &request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn reschedule(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    ApiPath((number, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<TokenQuery>,
    ApiJson(request): ApiJson<RescheduleRequest>,
) -> Result<Json<AppointmentView>, AppError> {
    let asking = Asking::new(&state, &headers, caller, q.token)?;
    let who = asking.who();
    let view = appointments::reschedule(&state, &who, &number, &id, &request);
    Ok(Json(view.await?))
}

async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    ApiPath((number, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> Result<Json<AppointmentView>, AppError> {
    let asking = Asking::new(&state, &headers, caller, q.token)?;
    Ok(Json(
        appointments::cancel(&state, &asking.who(), &number, &id).await?,
    ))
}

async fn complaint(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    ApiPath((number, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<TokenQuery>,
    ApiJson(request): ApiJson<ComplaintRequest>,
) -> Result<(StatusCode, Json<AppointmentView>), AppError> {
    let asking = Asking::new(&state, &headers, caller, q.token)?;
    let view = appointments::complaint(&state, &asking.who(), &number, &id, &request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn report(
    State(state): State<AppState>,
    by: Integration,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<AppointmentTransition>,
) -> Result<Json<AppointmentView>, AppError> {
    let view = appointments::report(
        &state,
        &by.name,
        &id,
        &request.to,
        request.reason.as_deref(),
    );
    Ok(Json(view.await?))
}
