//! The shopper's messages (issue 17): the feedback survey an order's delivery sends (its link
//! carries a token and works without signing in), and unsubscribing from cart reminders.

use serde::{Deserialize, Serialize};

/// Most characters of a survey comment.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// A product of the surveyed order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SurveyProduct {
    pub sku: String,
    pub name: String,
}

/// `GET /api/surveys/{token}`: what the survey asks about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SurveyView {
    pub order_number: String,
    pub products: Vec<SurveyProduct>,
    /// Whether it was answered already (it is answered once).
    pub answered: bool,
}

/// A product's rating in an answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProductRating {
    pub sku: String,
    /// 1 to 5.
    pub rating: u8,
    #[serde(default)]
    pub comment: String,
}

/// `POST /api/surveys/{token}`: the order's rating (1 to 5) and comment, and optionally each
/// product's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswer {
    pub rating: u8,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub products: Vec<ProductRating>,
}

/// An answer as staff see it (`GET /api/integration/surveys`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SurveyRecord {
    pub order_number: String,
    /// Unix seconds.
    pub answered_at: i64,
    pub answer: SurveyAnswer,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SurveyList {
    pub surveys: Vec<SurveyRecord>,
}

/// `POST /api/unsubscribe`: the token of an unsubscribe link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnsubscribeRequest {
    pub token: String,
}

/// The answer to an unsubscribe: no more cart reminders to that customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unsubscribed {
    pub unsubscribed: bool,
}
