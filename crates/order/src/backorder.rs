//! Backorders: lines waiting for incoming supply, and the rules of who gets an arrival and
//! whose promise a slipped date breaks. **These are the rules:**
//!
//! 1. A backordered line holds a claim of some units on one incoming arrival (a location,
//!    a SKU, a date). The claims on an arrival never add up past its quantity
//!    ([`claimable`]); the server counts them with a conditional update on the arrival's row,
//!    as placement reserves on-hand stock, so two shoppers racing for the last units are
//!    decided by the database: one claim fits, the other is refused.
//! 2. When supply arrives, the claims waiting there are served **oldest promise first**, ties
//!    broken by the older placement, then by the claim's id ([`allocate_arrival`]). A claim is
//!    served whole or not at all (a line is not split over an arrival and a later one);
//!    a claim that does not fit keeps waiting, and a smaller one behind it may still be
//!    served. Never more than arrived is allocated.
//! 3. When an arrival's date moves, a claim's promise is broken when the new date is later
//!    than the date promised to it ([`broken`]); an earlier date breaks nothing.
//! 4. A broken promise is re-sourced where another source now delivers earlier than the
//!    slipped date, else re-promised with the slipped date; where no source remains at all,
//!    the line is cancelled ([`repromise`]).

use omnicart_engine::Timestamp;

/// One backordered line's claim on an arrival.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The claim's stable id (ties are decided by it, so the order is total).
    pub id: String,
    /// The units claimed, above zero.
    pub units: u32,
    /// The date promised to the shopper.
    pub promised: Timestamp,
    /// When the order was placed.
    pub placed: Timestamp,
}

/// The units of an arrival of `incoming` units that a new claim may still take, given the
/// units `claimed` already (rule 1).
pub fn claimable(incoming: u32, claimed: u32) -> u32 {
    incoming.saturating_sub(claimed)
}

/// The claims an arrival of `arrived` units serves, by index into `claims`, in the order they
/// are served (rule 2). Their units sum to at most `arrived`.
pub fn allocate_arrival(claims: &[Claim], arrived: u32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..claims.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&claims[a], &claims[b]);
        (a.promised, a.placed, &a.id).cmp(&(b.promised, b.placed, &b.id))
    });
    let mut left = arrived;
    order
        .into_iter()
        .filter(|&i| {
            let units = claims[i].units;
            let fits = units > 0 && units <= left;
            if fits {
                left -= units;
            }
            fits
        })
        .collect()
}

/// The claims whose promise an arrival moved to `new_date` breaks, by index (rule 3).
pub fn broken(claims: &[Claim], new_date: Timestamp) -> Vec<usize> {
    (0..claims.len())
        .filter(|&i| claims[i].promised < new_date)
        .collect()
}

/// What happens to a broken promise (rule 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repromise {
    /// Another source delivers at this date, earlier than the slipped one.
    Resource(Timestamp),
    /// Keep the arrival; the new promise is the slipped date.
    Wait(Timestamp),
    /// Nothing can fill the line any more.
    Cancel,
}

/// The choice for a broken promise: the best other source's delivery date `elsewhere`, if
/// any, against the slipped arrival's `slipped` date, if it still comes (rule 4).
pub fn repromise(elsewhere: Option<Timestamp>, slipped: Option<Timestamp>) -> Repromise {
    match (elsewhere, slipped) {
        (Some(other), Some(late)) if other < late => Repromise::Resource(other),
        (_, Some(late)) => Repromise::Wait(late),
        (Some(other), None) => Repromise::Resource(other),
        (None, None) => Repromise::Cancel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64) -> Timestamp {
        Timestamp::from_unix(day * 86_400)
    }

    fn claim(id: &str, units: u32, promised: i64, placed: i64) -> Claim {
        Claim {
            id: id.into(),
            units,
            promised: at(promised),
            placed: at(placed),
        }
    }

    #[test]
    fn claims_never_pass_the_incoming_quantity() {
        let rows = [(10, 0, 10), (10, 7, 3), (10, 10, 0), (10, 12, 0)];
        for (incoming, claimed, left) in rows {
            assert_eq!(claimable(incoming, claimed), left, "{incoming} {claimed}");
        }
    }

    #[test]
    fn an_arrival_serves_the_oldest_promise_first_and_never_more_than_arrived() {
        let claims = [
            claim("c", 2, 9, 3),
            claim("a", 3, 5, 2),
            claim("b", 4, 5, 1),
            claim("d", 1, 12, 4),
        ];
        // (arrived, served in order)
        let rows: [(u32, &[usize]); 5] = [
            (0, &[]),
            (4, &[2]),
            (6, &[2, 0]),
            (7, &[2, 1]),
            (10, &[2, 1, 0, 3]),
        ];
        for (arrived, served) in rows {
            let got = allocate_arrival(&claims, arrived);
            assert_eq!(got, served, "arrived {arrived}");
            let units: u32 = got.iter().map(|&i| claims[i].units).sum();
            assert!(units <= arrived);
        }
    }

    #[test]
    fn a_slipped_date_breaks_only_the_promises_before_it() {
        let claims = [
            claim("a", 1, 5, 1),
            claim("b", 1, 8, 1),
            claim("c", 1, 6, 1),
        ];
        assert_eq!(broken(&claims, at(7)), vec![0, 2]);
        assert_eq!(broken(&claims, at(4)), Vec::<usize>::new());
        assert_eq!(broken(&claims, at(8)), vec![0, 2]);
    }

    #[test]
    fn a_broken_promise_goes_where_it_is_earliest() {
        let rows = [
            (Some(3), Some(7), Repromise::Resource(at(3))),
            (Some(7), Some(7), Repromise::Wait(at(7))),
            (Some(9), Some(7), Repromise::Wait(at(7))),
            (None, Some(7), Repromise::Wait(at(7))),
            (Some(9), None, Repromise::Resource(at(9))),
            (None, None, Repromise::Cancel),
        ];
        for (elsewhere, slipped, expected) in rows {
            let got = repromise(elsewhere.map(at), slipped.map(at));
            assert_eq!(got, expected, "{elsewhere:?} {slipped:?}");
        }
    }
}
