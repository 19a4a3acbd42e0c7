//! This browser's replica of its cart, as kept in `localStorage`: the operation log it shares
//! with the server (the server's compacted base, the operations the server has acknowledged,
//! and the ones made here it has not yet), where this device stands in the server's log (cart,
//! cursor, compaction generation), the device's hybrid logical clock, and the rules by which
//! two tabs' copies of it merge. The cart is [`Device::cart`]: the engine's `OpLog::cart()` over
//! all of it, the same replay the server runs. Plain data, no browser API: tested natively.

use omnicart_api::SyncReply;
use omnicart_engine::replica::{Base, Clock, OpLog, Operation};
use omnicart_engine::{Cart, CartOp, Quantity};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// Ids of refused operations remembered, so that a tab still holding one cannot bring it back.
const MAX_DROPPED: usize = 100;

/// The persisted state. Every field but `id` and `clock` is replaced or emptied when the device
/// moves to another cart; see [`Device::rehome`] and [`Device::reset`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Random, stable for this browser: the `device` of every stamp made here.
    pub id: String,
    pub clock: Clock,
    /// Goes up each time the device moves to another cart (sign-in, sign-out, a cart gone):
    /// when two tabs' copies disagree about the cart, the higher epoch is the later move.
    #[serde(default)]
    pub epoch: u32,
    /// Whether operations pending at the previous epoch follow the device to this one
    /// (sign-in, a cart gone: yes; sign-out: no).
    #[serde(default)]
    pub carry: bool,
    /// The cart on the server; `None` until the first edit needs one.
    #[serde(default)]
    pub cart_id: Option<String>,
    /// The server's sequence number of the last operation of the cart this device has.
    #[serde(default)]
    pub cursor: i64,
    /// The compaction generation of `base`.
    #[serde(default)]
    pub generation: i64,
    #[serde(default)]
    pub base: Base,
    /// Operations in the server's log after `base` that this device has.
    #[serde(default)]
    pub synced: Vec<Operation>,
    /// Operations made on this device (in any tab) that the server has not acknowledged.
    #[serde(default)]
    pub pending: Vec<Operation>,
    /// Ids of operations the server refused (at most [`MAX_DROPPED`]).
    #[serde(default)]
    pub dropped: Vec<String>,
    /// When a tab last finished an exchange with the server (ms since the Unix epoch), so that
    /// tabs do not each pull.
    #[serde(default)]
    pub synced_at: u64,
}

impl Device {
    pub fn new(id: String) -> Device {
        Device {
            clock: Clock::new(&id),
            id,
            epoch: 0,
            carry: false,
            cart_id: None,
            cursor: 0,
            generation: 0,
            base: Base::default(),
            synced: Vec::new(),
            pending: Vec::new(),
            dropped: Vec::new(),
            synced_at: 0,
        }
    }

    /// Every operation this device knows, after the base.
    pub fn log(&self) -> OpLog {
        let mut log = OpLog::with_base(self.base.clone());
        for op in self.synced.iter().chain(&self.pending) {
            // Ids were checked when the operations were made or received.
            let _ = log.insert(op.clone());
        }
        log
    }

    /// The cart: the log replayed by the engine's merge rules.
    pub fn cart(&self) -> Cart {
        self.log().cart()
    }

    /// Records an edit made here, on `cart` (the cart the shopper saw): stamped by the clock
    /// at `now_ms`, pending until the server acknowledges it. An add carries the quantity it
    /// was added to (the replica's rule 1).
    pub fn record(&mut self, op_id: String, now_ms: u64, op: CartOp, cart: &Cart) {
        let seen = match &op {
            CartOp::Add { sku, .. } => Some(cart.quantity_of(sku).map_or(0, Quantity::get)),
            _ => None,
        };
        let stamp = self.clock.tick(now_ms);
        self.pending.push(Operation {
            id: op_id,
            stamp,
            seen,
            op,
        });
    }

    /// The next operations to push, oldest first.
    pub fn batch(&self, limit: usize) -> Vec<Operation> {
        self.pending.iter().take(limit).cloned().collect()
    }

    /// Takes in the server's answer to a push of `sent` (made when this device was on the same
    /// cart): the operations after the cursor join the log, `sent` is acknowledged. The
    /// server's priced cart is not read (the page prices the log itself).
    pub fn absorb(&mut self, sent: &[Operation], reply: SyncReply<IgnoredAny>) {
        for op in &reply.ops {
            self.clock.observe(&op.stamp);
        }
        if reply.generation > self.generation {
            match reply.base {
                Some(base) => {
                    self.base = base;
                    self.synced = reply.ops;
                    self.generation = reply.generation;
                    self.cursor = reply.cursor;
                }
                // A newer log without its base: start again from the beginning.
                None => self.restart(),
            }
        } else if reply.generation == self.generation {
            // The reply holds every operation stored after the cursor, this push's included;
            // one of `sent` that is not there was stored before (a copy is in the log, or it
            // was folded into the base): adding it again would replay it twice.
            add_new(&mut self.synced, reply.ops);
            self.cursor = self.cursor.max(reply.cursor);
        }
        // An older generation than ours: another tab holds a newer copy of the log, which
        // includes what was sent (it was compacted after `sent` was stored).
        let synced = &self.synced;
        self.pending
            .retain(|op| !has(sent, &op.id) && !has(synced, &op.id));
    }

    /// Forgets a pending operation the server refused; returns it if it was pending.
    pub fn drop_pending(&mut self, id: &str) -> Option<Operation> {
        let at = self.pending.iter().position(|op| op.id == id)?;
        add_ids(&mut self.dropped, vec![id.to_owned()]);
        Some(self.pending.remove(at))
    }

    /// Pulls the server's log again from its beginning (the server did not know our cursor).
    pub fn restart(&mut self) {
        self.cursor = 0;
        self.generation = 0;
        self.base = Base::default();
        self.synced.clear();
    }

    /// Moves to another cart (`None`: one is created when needed), keeping the pending
    /// operations: they are cart-agnostic and will be pushed there.
    pub fn rehome(&mut self, cart_id: Option<String>) {
        self.epoch += 1;
        self.carry = true;
        self.cart_id = cart_id;
        self.restart();
    }

    /// Starts afresh on another cart (after sign-out): nothing of the old one follows.
    pub fn reset(&mut self, cart_id: Option<String>) {
        self.rehome(cart_id);
        self.carry = false;
        self.pending.clear();
        self.dropped.clear();
    }

    /// Merges another tab's copy into this one. The merge is a join (the same result whichever
    /// tab merges, however often), so tabs that write their merged copy back converge:
    /// - a different cart at a later epoch wins; this copy's pending operations follow it if
    ///   it carries them (at the same epoch, the greater cart id wins and everything follows);
    /// - on the same cart, the newer compaction generation wins the base and synced log (the
    ///   same generation: their union, the greater cursor); pending operations are the union,
    ///   less those synced or refused.
    pub fn merge(&mut self, other: Device) {
        for op in other.synced.iter().chain(&other.pending) {
            self.clock.observe(&op.stamp);
        }
        if other.id < self.id {
            self.id = other.id.clone();
        }
        self.synced_at = self.synced_at.max(other.synced_at);
        let same_cart = self.epoch == other.epoch
            && (self.cart_id == other.cart_id || self.cart_id.is_none() || other.cart_id.is_none());
        if same_cart {
            self.join(other);
            return;
        }
        let (epoch, cart_id) = (self.epoch, self.cart_id.clone());
        let mut loser = if (other.epoch, &other.cart_id) > (epoch, &cart_id) {
            let (id, clock, synced_at) = (self.id.clone(), self.clock.clone(), self.synced_at);
            std::mem::replace(
                self,
                Device {
                    id,
                    clock,
                    synced_at,
                    ..other
                },
            )
        } else {
            other
        };
        if loser.epoch == self.epoch {
            // Two tabs each made a cart for the same shopper: everything moves to one of them.
            loser.pending.append(&mut loser.synced);
        } else if !self.carry {
            return;
        }
        let carried: Vec<Operation> = loser
            .pending
            .into_iter()
            .filter(|op| !has(&self.synced, &op.id) && !self.dropped.contains(&op.id))
            .collect();
        add_new(&mut self.pending, carried);
    }

    /// [`Device::merge`] on one cart.
    fn join(&mut self, other: Device) {
        self.carry |= other.carry;
        if self.cart_id.is_none() {
            self.cart_id = other.cart_id;
        }
        if other.generation > self.generation {
            self.base = other.base;
            self.synced = other.synced;
            self.generation = other.generation;
            self.cursor = other.cursor;
        } else if other.generation == self.generation {
            add_new(&mut self.synced, other.synced);
            self.cursor = self.cursor.max(other.cursor);
        }
        add_ids(&mut self.dropped, other.dropped);
        add_new(&mut self.pending, other.pending);
        let (synced, dropped) = (&self.synced, &self.dropped);
        self.pending
            .retain(|op| !has(synced, &op.id) && !dropped.contains(&op.id));
    }

    /// Whether two copies hold the same cart state, in any order of operations; the clock and
    /// `synced_at` are left out (a copy that differs only there need not be written back).
    pub fn same_data(&self, other: &Device) -> bool {
        self.id == other.id
            && self.epoch == other.epoch
            && self.carry == other.carry
            && self.cart_id == other.cart_id
            && self.cursor == other.cursor
            && self.generation == other.generation
            && self.base == other.base
            && same_ops(&self.synced, &other.synced)
            && same_ops(&self.pending, &other.pending)
            && self.dropped.len() == other.dropped.len()
            && self.dropped.iter().all(|id| other.dropped.contains(id))
    }
}

// Linear scans: a device holds a few hundred operations at most (the server compacts longer
// logs), and ordered sets would cost the page kilobytes of Wasm.

fn has(ops: &[Operation], id: &str) -> bool {
    ops.iter().any(|op| op.id == id)
}

/// Appends the operations of `more` whose ids `ops` lacks.
fn add_new(ops: &mut Vec<Operation>, more: Vec<Operation>) {
    for op in more {
        if !has(ops, &op.id) {
            ops.push(op);
        }
    }
}

/// Whether `a` and `b` hold the same operations (ids are unique within each).
fn same_ops(a: &[Operation], b: &[Operation]) -> bool {
    a.len() == b.len() && a.iter().all(|op| b.iter().any(|other| other == op))
}

/// Adds ids not yet in `ids`, then keeps the greatest [`MAX_DROPPED`]: the same set whichever
/// order they came in, so merging stays a join.
fn add_ids(ids: &mut Vec<String>, more: Vec<String>) {
    for id in more {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    while ids.len() > MAX_DROPPED {
        let least = (0..ids.len())
            .min_by(|&a, &b| ids[a].cmp(&ids[b]))
            .unwrap_or(0);
        ids.swap_remove(least);
    }
}

#[cfg(test)]
mod tests {
    use omnicart_engine::Sku;
    use omnicart_engine::replica::Stamp;

    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::new(s).unwrap()
    }

    fn add(s: &str, n: i64) -> CartOp {
        CartOp::Add {
            sku: sku(s),
            quantity: Quantity::new(n).unwrap(),
        }
    }

    fn set(s: &str, n: i64) -> CartOp {
        CartOp::SetQuantity {
            sku: sku(s),
            quantity: Quantity::new(n).unwrap(),
        }
    }

    /// An operation made elsewhere (another device, or the server).
    fn remote(id: &str, ms: u64, op: CartOp) -> Operation {
        let seen = matches!(op, CartOp::Add { .. }).then_some(0);
        Operation {
            id: id.into(),
            stamp: Stamp {
                ms,
                counter: 0,
                device: "laptop".into(),
            },
            seen,
            op,
        }
    }

    fn lines(device: &Device) -> Vec<(String, u32)> {
        device
            .cart()
            .lines()
            .iter()
            .map(|l| (l.sku.to_string(), l.quantity.get()))
            .collect()
    }

    fn edit(device: &mut Device, id: &str, ms: u64, op: CartOp) {
        let cart = device.cart();
        device.record(id.into(), ms, op, &cart);
    }

    fn reply(
        cursor: i64,
        generation: i64,
        base: Option<Base>,
        ops: Vec<Operation>,
    ) -> SyncReply<IgnoredAny> {
        SyncReply {
            cursor,
            generation,
            base,
            ops,
            cart: IgnoredAny,
        }
    }

    fn pending(device: &Device) -> Vec<&str> {
        device.pending.iter().map(|op| op.id.as_str()).collect()
    }

    /// A device on cart `c1` that has pulled a line of two `A`s from the server.
    fn phone() -> Device {
        let mut d = Device::new("phone".into());
        d.cart_id = Some("c1".into());
        d.absorb(
            &[],
            reply(1, 0, None, vec![remote("l1", 1_000, add("A", 2))]),
        );
        d
    }

    #[test]
    fn edits_are_pending_until_acknowledged_and_the_cart_is_the_replayed_log() {
        let mut d = phone();
        edit(&mut d, "p1", 2_000, add("A", 1));
        edit(&mut d, "p2", 2_000, add("B", 1));
        assert_eq!(
            d.pending[0].seen,
            Some(2),
            "an add carries the quantity it was added to"
        );
        assert_eq!(
            d.pending[1].stamp.counter, 1,
            "same millisecond: the counter orders them"
        );
        assert_eq!(lines(&d), [("A".into(), 3), ("B".into(), 1)]);

        let sent = d.batch(1);
        d.absorb(
            &sent,
            reply(
                3,
                0,
                None,
                vec![remote("l2", 1_500, add("C", 1)), sent[0].clone()],
            ),
        );
        assert_eq!(pending(&d), ["p2"]);
        assert_eq!(d.cursor, 3);
        assert_eq!(
            lines(&d),
            [("A".into(), 3), ("C".into(), 1), ("B".into(), 1)],
            "lines in stamp order"
        );
    }

    #[test]
    fn the_clock_stamps_after_everything_observed() {
        let mut d = phone();
        d.absorb(
            &[],
            reply(2, 0, None, vec![remote("l2", 9_000, set("A", 5))]),
        );
        edit(&mut d, "p1", 3_000, set("A", 1));
        assert!(
            d.pending[0].stamp.ms == 9_000 && d.pending[0].stamp.counter == 1,
            "a lagging wall clock still stamps later"
        );
        assert_eq!(
            lines(&d),
            [("A".into(), 1)],
            "so the local edit, made after it was seen, wins"
        );
    }

    #[test]
    fn a_compacted_log_replaces_the_synced_operations() {
        let mut d = phone();
        edit(&mut d, "p1", 2_000, add("B", 1));
        edit(&mut d, "p2", 2_001, add("C", 1));
        let sent = d.batch(1);
        let mut folded = OpLog::new();
        folded.insert(remote("l1", 1_000, add("A", 2))).unwrap();
        folded.insert(remote("p1", 2_000, add("B", 1))).unwrap();
        let base = Base {
            cart: folded.cart(),
            renamed: Vec::new(),
        };
        d.absorb(
            &sent,
            reply(300, 1, Some(base), vec![remote("l9", 2_500, set("A", 4))]),
        );
        assert_eq!((d.generation, d.cursor, d.synced.len()), (1, 300, 1));
        assert_eq!(
            pending(&d),
            ["p2"],
            "the push is acknowledged, folded into the base"
        );
        assert_eq!(
            lines(&d),
            [("A".into(), 4), ("B".into(), 1), ("C".into(), 1)]
        );

        // An answer about the older generation (another tab's) only acknowledges.
        let sent = d.batch(1);
        d.absorb(
            &sent,
            reply(250, 0, None, vec![remote("old", 100, add("Z", 1))]),
        );
        assert!(d.pending.is_empty());
        assert_eq!((d.generation, d.cursor, d.synced.len()), (1, 300, 1));
    }

    #[test]
    fn an_operation_already_folded_by_another_tab_is_acknowledged_not_replayed_again() {
        // Tab A pushed the phone's old edit and the server folded it into a new base; tab B
        // still has it pending when it takes in A's copy, and pushes it again.
        let mut b = phone();
        edit(&mut b, "p1", 1_100, set("A", 1));
        let mut folded = OpLog::new();
        folded.insert(remote("l1", 1_000, add("A", 2))).unwrap();
        folded.insert(b.pending[0].clone()).unwrap();
        folded.insert(remote("l2", 1_200, set("A", 6))).unwrap();
        let mut a = b.clone();
        a.absorb(
            &[],
            reply(
                300,
                1,
                Some(Base {
                    cart: folded.cart(),
                    renamed: Vec::new(),
                }),
                vec![],
            ),
        );
        b.merge(a);
        let sent = b.batch(10);
        assert_eq!(pending(&b), ["p1"]);
        // The server stores nothing new: the edit is among the folded ones.
        b.absorb(&sent, reply(300, 1, None, vec![]));
        assert!(b.pending.is_empty());
        assert!(
            b.synced.is_empty(),
            "the folded edit is not replayed on top of its own base"
        );
        assert_eq!(
            lines(&b),
            [("A".into(), 6)],
            "the page agrees with the server's cart"
        );
    }

    #[test]
    fn refused_operations_are_dropped_and_stay_dropped_when_tabs_merge() {
        let mut a = phone();
        edit(&mut a, "p1", 2_000, add("B", 1));
        edit(&mut a, "p2", 2_001, add("C", 1));
        let b = a.clone();
        assert!(a.drop_pending("p1").is_some());
        a.merge(b.clone());
        assert_eq!(pending(&a), ["p2"]);
        let mut b = b;
        b.merge(a.clone());
        assert_eq!(pending(&b), ["p2"]);
        assert!(a.same_data(&b));
    }

    /// Copies of two tabs in various states: every pair must merge to the same state in
    /// either order, merging twice changes nothing, and the carts agree.
    fn tabs() -> Vec<(&'static str, Device)> {
        let base = phone();
        let mut edited = base.clone();
        edit(&mut edited, "t1", 2_000, add("B", 1));
        let mut other_edit = base.clone();
        other_edit.id = "phone2".into();
        edit(&mut other_edit, "t2", 2_100, set("A", 7));
        let mut pulled = base.clone();
        pulled.absorb(
            &[],
            reply(2, 0, None, vec![remote("l2", 1_800, add("D", 1))]),
        );
        let mut acknowledged = edited.clone();
        let sent = acknowledged.batch(10);
        acknowledged.absorb(&sent, reply(3, 0, None, sent.clone()));
        let mut fresh = Device::new("phone3".into());
        edit(&mut fresh, "t3", 2_200, add("E", 1));
        let mut signed_in = edited.clone();
        signed_in.rehome(Some("c2".into()));
        let mut signed_out = base.clone();
        signed_out.reset(Some("c3".into()));
        vec![
            ("base", base),
            ("edited", edited),
            ("other edit", other_edit),
            ("pulled", pulled),
            ("acknowledged", acknowledged),
            ("fresh", fresh),
            ("signed in", signed_in),
            ("signed out", signed_out),
        ]
    }

    #[test]
    fn tab_merges_converge() {
        for (a_name, a) in tabs() {
            for (b_name, b) in tabs() {
                let mut ab = a.clone();
                ab.merge(b.clone());
                let mut ba = b.clone();
                ba.merge(a.clone());
                assert!(
                    ab.same_data(&ba),
                    "{a_name} + {b_name} differs from {b_name} + {a_name}:\n{ab:?}\n{ba:?}"
                );
                assert_eq!(ab.cart(), ba.cart(), "{a_name} + {b_name}");
                let mut again = ab.clone();
                again.merge(b.clone());
                again.merge(ab.clone());
                assert!(
                    again.same_data(&ab),
                    "{a_name} + {b_name}: merging again changes it"
                );
            }
        }
    }

    #[test]
    fn what_a_merge_keeps() {
        let all = tabs();
        let get = |name: &str| all.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        let merged = |a: &str, b: &str| {
            let mut d = get(a);
            d.merge(get(b));
            d
        };
        // (tab, other tab, cart after the merge, pending ids, lines)
        type Case = (
            &'static str,
            &'static str,
            Option<&'static str>,
            &'static [&'static str],
            &'static [(&'static str, u32)],
        );
        let cases: [Case; 6] = [
            (
                "edited",
                "other edit",
                Some("c1"),
                &["t1", "t2"],
                &[("A", 7), ("B", 1)],
            ),
            (
                "edited",
                "pulled",
                Some("c1"),
                &["t1"],
                &[("A", 2), ("D", 1), ("B", 1)],
            ),
            (
                "edited",
                "acknowledged",
                Some("c1"),
                &[],
                &[("A", 2), ("B", 1)],
            ),
            // A tab that had no cart yet: its edit joins the cart the other tab has.
            (
                "fresh",
                "edited",
                Some("c1"),
                &["t1", "t3"],
                &[("A", 2), ("B", 1), ("E", 1)],
            ),
            // Signed in elsewhere: pending edits follow to the customer's cart.
            // (Until its log is pulled, the new cart is just the pending edits.)
            (
                "other edit",
                "signed in",
                Some("c2"),
                &["t1", "t2"],
                &[("B", 1), ("A", 7)],
            ),
            // Signed out elsewhere: nothing follows to the new anonymous cart.
            ("other edit", "signed out", Some("c3"), &[], &[]),
        ];
        for (a, b, cart_id, want_pending, want_lines) in cases {
            let d = merged(a, b);
            let mut got_pending = pending(&d);
            got_pending.sort_unstable();
            assert_eq!(d.cart_id.as_deref(), cart_id, "{a} + {b}");
            assert_eq!(got_pending, want_pending, "{a} + {b}");
            let want: Vec<(String, u32)> = want_lines
                .iter()
                .map(|(s, n)| (s.to_string(), *n))
                .collect();
            assert_eq!(lines(&d), want, "{a} + {b}");
        }
    }

    #[test]
    fn refused_ids_are_bounded_the_same_way_in_any_order() {
        let ids: Vec<String> = (0..150).map(|i| format!("op{i:03}")).collect();
        let (mut forward, mut backward) = (Vec::new(), Vec::new());
        add_ids(&mut forward, ids.clone());
        add_ids(&mut backward, ids.iter().rev().cloned().collect());
        add_ids(&mut backward, ids[..10].to_vec());
        forward.sort();
        backward.sort();
        assert_eq!(forward, backward);
        assert_eq!(forward.len(), MAX_DROPPED);
        assert_eq!(forward[0], "op050", "the greatest are kept");
    }

    #[test]
    fn moving_carts_keeps_or_clears_what_is_pending() {
        let mut d = phone();
        edit(&mut d, "p1", 2_000, add("B", 1));
        d.rehome(Some("c2".into()));
        assert_eq!(
            (d.cursor, d.generation, d.synced.len()),
            (0, 0, 0),
            "the new cart's log is pulled from its start"
        );
        assert_eq!(lines(&d), [("B".into(), 1)]);
        d.reset(None);
        assert!(d.cart().is_empty() && d.pending.is_empty() && d.cart_id.is_none());
    }
}
