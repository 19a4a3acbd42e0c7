//! Installation appointments (issue 17): the free slots for an order's installation, a
//! booking, a move, a cancel, the installer's report and a complaint's free repeat visit. The
//! order's shopper (their session, or a guest's `?token=`) and a call-centre agent or the
//! field-service system (`crate::INTEGRATION_KEY_HEADER`) may use them; to anyone else the
//! order does not exist (404).

use omnicart_engine::{Money, Timestamp};
use serde::{Deserialize, Serialize};

/// A slot of a day with installers free in the order's area.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotView {
    /// `2026-12-10`.
    pub day: String,
    /// `08:00-12:00`, local time at the address.
    pub slot: String,
    /// Installers still free then.
    pub free: u32,
}

/// `GET /api/orders/{number}/appointment-slots`: the next three weeks' free slots from the
/// day after the goods arrive, in the order's area.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotList {
    /// The installers' area (the postcode's first two characters).
    pub area: String,
    pub slots: Vec<SlotView>,
}

/// `POST /api/orders/{number}/appointments`: book the installation of order line `line` (an
/// installation service line of the order) at `day` and `slot`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BookRequest {
    pub line: usize,
    pub day: String,
    pub slot: String,
}

/// `POST …/appointments/{id}/reschedule`: move a booked visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    pub day: String,
    pub slot: String,
}

/// `POST …/appointments/{id}/complaint` (an agent): the complaint about a visit that
/// happened, and when the free repeat visit by an experienced installer should be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    pub reason: String,
    pub day: String,
    pub slot: String,
}

/// `POST /api/appointments/{id}/transitions` (the field-service system): the installer's
/// report, `completed` or `failed`, or `cancelled`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AppointmentTransition {
    pub to: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// One change of an appointment: booked, moved, completed, …
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppointmentEntry {
    pub state: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Timestamp))]
    pub at: Timestamp,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppointmentView {
    pub id: String,
    pub order_number: String,
    /// The service (`SVC-INSTALL-TV`) and the order line it is.
    pub service_sku: String,
    pub line: usize,
    pub area: String,
    pub day: String,
    pub slot: String,
    /// The installer's name.
    pub installer: String,
    /// `booked`, `completed`, `failed`, `cancelled`.
    pub state: String,
    /// What this visit costs: the service's price for a first visit (paid with the order),
    /// nothing for a repeat.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Money))]
    pub charge: Money,
    /// The visit this one repeats after a complaint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_of: Option<String>,
    /// The complaint about this visit, and the repeat it booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<String>,
    pub history: Vec<AppointmentEntry>,
}

/// `GET /api/orders/{number}/appointments`: the order's visits, first booked first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppointmentList {
    pub appointments: Vec<AppointmentView>,
}

/// One installer of the field-service or HR system's feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InstallerRecord {
    /// Stable id, 1 to 64 characters.
    pub id: String,
    /// Shown to the shopper, 1 to 200 characters.
    pub name: String,
    /// The area served: the first two characters of its postcodes (`10`, `80`).
    pub area: String,
    /// May make repeat visits after a complaint.
    pub experienced: bool,
}

/// `PUT /api/installers` (integration key): the whole list of installers, replacing the one
/// the server has. All records or none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InstallerFeed {
    pub installers: Vec<InstallerRecord>,
}

/// What an installers feed changed, by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstallerReply {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
}
