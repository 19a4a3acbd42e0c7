//! Installation appointments (issue 17): a visit by an installer to do a service the order
//! bought (an installation attached to a TV), its state machine ([`AppointmentState`]), and
//! the repeat visit a complaint books.
//!
//! **The rules.**
//! - A visit is on a day in one of the [`SLOTS`], in the area of the order's address
//!   ([`area_of`]: the postcode's first two characters); an installer does one visit per slot
//!   (the server keeps that under concurrency with a unique booking per installer, day and
//!   slot).
//! - booked → completed or failed (the installer's report: staff or the field-service
//!   system), or cancelled (the shopper too). A booked visit may be moved to another day or
//!   slot ([`Appointment::reschedule`]); a visit that happened may not.
//! - A complaint about a visit that happened (completed or failed) is recorded with its reason
//!   on it, once, and books a repeat visit ([`Appointment::repeat`]): linked to the first one
//!   and its complaint, by an experienced installer, at no charge.

use omnicart_engine::{Money, Timestamp};
use serde::{Deserialize, Serialize};

use crate::OrderError;
use crate::machine::{Edge, Machine, Record, Request, Roles};

/// The visit slots of a day, as their wire names: local times at the customer's address.
pub const SLOTS: [&str; 3] = ["08:00-12:00", "12:00-16:00", "16:00-20:00"];

/// The installers' area of a postcode: its first two characters (`10115` → `10`); `None`
/// for one too short to have an area.
pub fn area_of(postcode: &str) -> Option<String> {
    let normal: String = postcode
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    (normal.len() >= 2).then(|| normal[..2].to_ascii_uppercase())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentState {
    Booked,
    Completed,
    /// The visit happened and the work could not be done (the installer's report).
    Failed,
    Cancelled,
}

impl Machine for AppointmentState {
    const EDGES: &'static [Edge<Self>] = &[
        Edge {
            from: AppointmentState::Booked,
            to: AppointmentState::Completed,
            by: Roles::OPERATIONS,
        },
        Edge {
            from: AppointmentState::Booked,
            to: AppointmentState::Failed,
            by: Roles::OPERATIONS,
        },
        Edge {
            from: AppointmentState::Booked,
            to: AppointmentState::Cancelled,
            by: Roles::ANYONE,
        },
    ];

    fn name(self) -> &'static str {
        match self {
            AppointmentState::Booked => "booked",
            AppointmentState::Completed => "completed",
            AppointmentState::Failed => "failed",
            AppointmentState::Cancelled => "cancelled",
        }
    }
}

impl AppointmentState {
    pub fn parse(name: &str) -> Option<AppointmentState> {
        [
            AppointmentState::Booked,
            AppointmentState::Completed,
            AppointmentState::Failed,
            AppointmentState::Cancelled,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// When and by whom: a day (`YYYY-MM-DD`), a slot of [`SLOTS`] and the installer booked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub day: String,
    pub slot: String,
    pub installer: String,
}

/// What a customer complained about, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub reason: String,
    pub at: Timestamp,
    /// The repeat visit it booked.
    pub repeat: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: String,
    /// The service's SKU (`SVC-INSTALL-TV`) and the order line it is attached to.
    pub service_sku: String,
    pub line: usize,
    pub area: String,
    pub visit: Visit,
    /// What the visit costs the customer: the service line's price for a first visit (paid
    /// with the order), zero for a repeat.
    pub charge: Money,
    /// The visit this one repeats, after a complaint.
    pub repeat_of: Option<String>,
    /// Whether only an experienced installer may do it (a repeat visit).
    pub experienced: bool,
    pub complaint: Option<Complaint>,
    state: AppointmentState,
    history: Vec<Record<AppointmentState>>,
}

impl Appointment {
    /// A booked first visit for the service on order line `line`.
    pub fn book(
        id: String,
        service_sku: String,
        line: usize,
        area: String,
        visit: Visit,
        charge: Money,
        request: Request,
    ) -> Appointment {
        Appointment {
            id,
            service_sku,
            line,
            area,
            visit,
            charge,
            repeat_of: None,
            experienced: false,
            complaint: None,
            state: AppointmentState::Booked,
            history: vec![request.record(AppointmentState::Booked, AppointmentState::Booked)],
        }
    }

    pub fn state(&self) -> AppointmentState {
        self.state
    }

    /// Every change, the booking first (a move is booked → booked).
    pub fn history(&self) -> &[Record<AppointmentState>] {
        &self.history
    }

    /// Moves to `to`; asking for the state it is in changes nothing (`false`).
    pub fn transition(
        &mut self,
        to: AppointmentState,
        request: Request,
    ) -> Result<bool, OrderError> {
        if self.state == to {
            return Ok(false);
        }
        AppointmentState::check(self.state, to, request.actor.role)?;
        self.history.push(request.record(self.state, to));
        self.state = to;
        Ok(true)
    }

    /// Moves a booked visit to `visit`; the same visit changes nothing (`false`).
    pub fn reschedule(&mut self, visit: Visit, request: Request) -> Result<bool, OrderError> {
        if self.state != AppointmentState::Booked {
            return Err(OrderError::InvalidTransition {
                from: self.state.name(),
                to: "rescheduled",
            });
        }
        if self.visit.day == visit.day && self.visit.slot == visit.slot {
            return Ok(false);
        }
        self.visit = visit;
        self.history
            .push(request.record(AppointmentState::Booked, AppointmentState::Booked));
        Ok(true)
    }

    /// Whether a complaint may book a repeat of this visit: it happened (completed or
    /// failed) and has no complaint yet.
    pub fn may_repeat(&self) -> Result<(), OrderError> {
        let happened = matches!(
            self.state,
            AppointmentState::Completed | AppointmentState::Failed
        );
        if !happened || self.complaint.is_some() {
            return Err(OrderError::InvalidTransition {
                from: self.state.name(),
                to: "repeat_visit",
            });
        }
        Ok(())
    }

    /// Records the complaint on this visit and returns the repeat visit it books: linked,
    /// by an experienced installer (`visit`'s, chosen by the caller), free of charge.
    pub fn repeat(
        &mut self,
        repeat_id: String,
        reason: &str,
        visit: Visit,
        request: Request,
    ) -> Result<Appointment, OrderError> {
        self.may_repeat()?;
        self.complaint = Some(Complaint {
            reason: reason.to_owned(),
            at: request.at,
            repeat: repeat_id.clone(),
        });
        Ok(Appointment {
            id: repeat_id,
            service_sku: self.service_sku.clone(),
            line: self.line,
            area: self.area.clone(),
            visit,
            charge: Money::zero(self.charge.currency()),
            repeat_of: Some(self.id.clone()),
            experienced: true,
            complaint: None,
            state: AppointmentState::Booked,
            history: vec![request.record(AppointmentState::Booked, AppointmentState::Booked)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::{Actor, Role};
    use omnicart_engine::Currency;

    fn by(role: Role) -> Request {
        Request::new(
            Actor::new(role, "x"),
            Timestamp::from_unix(1_900_000_000),
            "test",
        )
    }

    fn visit(day: &str, slot: usize, installer: &str) -> Visit {
        Visit {
            day: day.into(),
            slot: SLOTS[slot].into(),
            installer: installer.into(),
        }
    }

    fn booked() -> Appointment {
        Appointment::book(
            "apt_1".into(),
            "SVC-INSTALL-TV".into(),
            1,
            "10".into(),
            visit("2026-12-10", 0, "ins_a"),
            Money::from_minor(9900, Currency::EUR),
            by(Role::Customer),
        )
    }

    #[test]
    fn areas_are_the_postcodes_first_two_characters() {
        assert_eq!(area_of("10115").as_deref(), Some("10"));
        assert_eq!(area_of(" sw1a 1aa").as_deref(), Some("SW"));
        assert_eq!(area_of("1"), None);
    }

    #[test]
    fn a_booked_visit_moves_completes_or_cancels_and_no_more() {
        let mut a = booked();
        assert!(
            a.reschedule(visit("2026-12-11", 2, "ins_b"), by(Role::Customer))
                .unwrap()
        );
        assert!(
            !a.reschedule(visit("2026-12-11", 2, "ins_b"), by(Role::Customer))
                .unwrap()
        );
        assert_eq!(
            a.transition(AppointmentState::Completed, by(Role::Customer)),
            Err(OrderError::Forbidden {
                from: "booked",
                to: "completed",
                role: Role::Customer
            })
        );
        assert!(
            a.transition(AppointmentState::Failed, by(Role::System))
                .unwrap()
        );
        assert!(
            a.reschedule(visit("2026-12-12", 0, "ins_b"), by(Role::Staff))
                .is_err()
        );
        assert!(
            a.transition(AppointmentState::Cancelled, by(Role::Staff))
                .is_err()
        );
        assert_eq!(a.history().len(), 3);
    }

    #[test]
    fn a_complaint_books_one_free_repeat_visit_linked_to_the_first() {
        let mut a = booked();
        // Not before the visit happened.
        assert!(
            a.repeat(
                "apt_2".into(),
                "late",
                visit("2026-12-12", 1, "ins_x"),
                by(Role::Staff)
            )
            .is_err()
        );
        a.transition(AppointmentState::Failed, by(Role::System))
            .unwrap();
        let repeat = a
            .repeat(
                "apt_2".into(),
                "wall bracket missing",
                visit("2026-12-12", 1, "ins_x"),
                by(Role::Staff),
            )
            .unwrap();
        assert_eq!(repeat.charge, Money::zero(Currency::EUR));
        assert_eq!(repeat.repeat_of.as_deref(), Some("apt_1"));
        assert!(repeat.experienced);
        assert_eq!(repeat.state(), AppointmentState::Booked);
        let complaint = a.complaint.as_ref().unwrap();
        assert_eq!(
            (complaint.reason.as_str(), complaint.repeat.as_str()),
            ("wall bracket missing", "apt_2")
        );
        // One complaint per visit.
        assert!(
            a.repeat(
                "apt_3".into(),
                "again",
                visit("2026-12-13", 1, "ins_x"),
                by(Role::Staff)
            )
            .is_err()
        );
    }
}
