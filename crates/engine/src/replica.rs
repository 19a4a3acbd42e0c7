//! The cart as a replicated data type: every edit is an [`Operation`] with a unique id, a
//! hybrid logical clock [`Stamp`] and the device that made it. A cart is a pure function of
//! the *set* of operations a replica has seen ([`OpLog::cart`]): replicas that have seen the
//! same operations hold identical carts, whatever order (and however many times) they arrived.
//!
//! # Merge rules (what a shopper expects)
//! Operations are replayed in stamp order (milliseconds, counter, device, id). Each is applied
//! *forgivingly*: an edit whose line is gone is not an error but has the effect described here.
//! 1. **Add** carries the quantity its device saw (`seen`) and means "make it `seen + quantity`":
//!    the line becomes the larger of its quantity and that. Two devices adding the same TV while
//!    apart give one TV, not two; one device adding twice gives two. (Adding "one more" cable on
//!    each of two devices while apart gives one more: the cost of the rule, written down.)
//! 2. **Set quantity** is last-writer-wins; on a line removed earlier it puts the line back
//!    (the shopper's latest word was the quantity).
//! 3. **Remove** is last-writer-wins: a later add or quantity edit brings the line back.
//! 4. **Replace** moves the line to the new SKU in place, keeping the quantity (merging with a
//!    line of that SKU). A quantity edit or removal of the old SKU stamped after the replace
//!    follows it to the new SKU; an add of the old SKU does not (the shopper asked for it).
//! 5. **Coupons**: apply and remove are last-writer-wins per code; at most `MAX_COUPONS`.
//! 6. **Delivery choice** (level or pickup) and **delivery address** are last-writer-wins.
//! 7. **Services** attached to a line: attach and detach are last-writer-wins per line and
//!    service. They live with their line: removing it drops them, a replacement carries them to
//!    the new SKU (joining those of a line it merges with), and an attach or detach aimed at a
//!    line that is not there does nothing (it does not bring the line back). An attach of an
//!    old SKU stamped after its replacement follows it, as in rule 4.
//! 8. **Compaction**: a log may fold its oldest operations (in stamp order) into a [`Base`],
//!    the replay state they leave, and forget their contents ([`OpLog::compact`]). The cart is
//!    unchanged by folding. An operation that arrives *after* a fold with a stamp older than a
//!    folded one is applied after the base, as if made just after the compaction; replicas
//!    that share the base still agree. (The server folds only long logs, keeping the newest
//!    operations, so this needs a device offline across hundreds of edits on other devices.)
//!
//! 9. **Duplicate ids**: two different operations that claim one id (a buggy client) are not
//!    both kept: the one earlier by stamp wins; at equal stamps, the one earlier by content:
//!    `seen` (absent first), then the operation's wire name (`"add"` < `"apply_coupon"` < …),
//!    then its fields in this order: SKU, the other SKU (`with`, `service`), quantity, code
//!    or pickup location, level (in the order standard, express, same day, scheduled),
//!    whether an address is set, then its latitude, longitude (by value) and postcode. Every
//!    part is compared as data, so the browser and the server keep the same one.
//! 10. **Untrusted clocks**: a receiver accepts a device's operation only if its stamp is at
//!     most [`MAX_CLOCK_AHEAD_MS`] (24 h) ahead of the receiver's clock, within
//!     [`MAX_STAMP_MS`] (2^53 − 1, exact in JavaScript) and its counter at most
//!     [`MAX_DEVICE_COUNTER`] ([`Operation::check_stamp`]; older stamps are fine: an offline
//!     device's edits only lose to later ones). The receiver stamps its own edits with
//!     [`Stamp::after`] the newest it holds: strictly later in (milliseconds, counter), so
//!     they replay after every operation accepted, whatever the device names. A device's
//!     [`Clock`] moves to the next millisecond rather than count past its limit.
//!
//! Quantities stay within 1..=`MAX_LINE_QUANTITY` and lines within `MAX_CART_LINES` (edits past
//! the limits are capped or dropped, the same way on every replica). The catalogue is not read:
//! operations were validated when made, and a replica must not depend on its snapshot version
//! to converge (pricing a line the catalogue no longer sells is the quote's business).

use serde::{Deserialize, Serialize};

use crate::cart::{Cart, CartOp, DeliveryChoice};
use crate::fulfilment::Level;
use crate::hash::HashMap;
use crate::sku::{MAX_LINE_QUANTITY, Quantity, Sku};
use crate::sort::sort_indices;

/// Longest operation id and device id.
pub const MAX_ID_LEN: usize = 64;
/// Largest millisecond a stamp may carry: 2^53 − 1, the largest integer a JavaScript number
/// holds exactly, so a stamp echoed to the page comes back unchanged.
pub const MAX_STAMP_MS: u64 = (1 << 53) - 1;
/// How far ahead of the receiver's clock a device's stamp may be (24 h): further is refused
/// ([`Operation::check_stamp`]), so one device cannot date its edits after every later
/// edit of every other device.
pub const MAX_CLOCK_AHEAD_MS: u64 = 24 * 60 * 60 * 1000;
/// Largest counter a device may send. A device's clock moves to the next millisecond
/// rather than count past it ([`Clock::tick`]); the counters above it are left to the
/// receiver, so the server can always stamp its own edit after every one it accepted
/// ([`Stamp::after`]).
pub const MAX_DEVICE_COUNTER: u32 = 1 << 20;

/// A hybrid logical clock reading: wall-clock milliseconds, a counter for events in the same
/// millisecond (or while the wall clock lags), and the device, which breaks ties.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamp {
    pub ms: u64,
    pub counter: u32,
    pub device: String,
}

impl Stamp {
    /// The stamp of an event made by `device` at wall time `now_ms` after every stamp up to
    /// `newest`: at `now_ms` if that is later, else just after `newest` (its counter plus
    /// one, or the next millisecond once the counter is full). Strictly later than `newest`
    /// whatever the device names, so the server's own edit outranks every operation it
    /// accepted.
    pub fn after(newest: Option<&Stamp>, now_ms: u64, device: &str) -> Stamp {
        let (ms, counter) = match newest {
            Some(n) if n.ms >= now_ms => match n.counter.checked_add(1) {
                Some(c) => (n.ms, c),
                None => (n.ms + 1, 0),
            },
            _ => (now_ms, 0),
        };
        Stamp {
            ms,
            counter,
            device: device.to_owned(),
        }
    }

    /// The next stamp of the same device after this one (see [`Stamp::after`]).
    pub fn next(&self) -> Stamp {
        Stamp::after(Some(self), self.ms, &self.device)
    }
}

/// One device's clock. The engine reads no clock: `now_ms` is passed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    last: Stamp,
}

impl Clock {
    pub fn new(device: &str) -> Clock {
        Clock {
            last: Stamp {
                ms: 0,
                counter: 0,
                device: device.to_owned(),
            },
        }
    }

    /// The stamp for a new local event at wall time `now_ms`: later than every stamp this
    /// clock has issued or observed, even if the wall clock went backwards.
    /// Past [`MAX_DEVICE_COUNTER`] within one millisecond (a lagging wall clock, or a remote
    /// stamp observed with a high counter) it moves on to the next millisecond instead.
    pub fn tick(&mut self, now_ms: u64) -> Stamp {
        if now_ms > self.last.ms {
            self.last.ms = now_ms;
            self.last.counter = 0;
        } else if self.last.counter >= MAX_DEVICE_COUNTER {
            self.last.ms += 1;
            self.last.counter = 0;
        } else {
            self.last.counter += 1;
        }
        self.last.clone()
    }

    /// Takes a remote stamp into account, so local events after it are stamped later.
    pub fn observe(&mut self, remote: &Stamp) {
        if (remote.ms, remote.counter) > (self.last.ms, self.last.counter) {
            self.last.ms = remote.ms;
            self.last.counter = remote.counter;
        }
    }
}

/// One edit, as devices exchange them. JSON:
/// `{"id": "phone-7f3a:12", "stamp": {"ms": 1795339800000, "counter": 0, "device": "phone-7f3a"},
///   "seen": 0, "op": {"op": "add", "sku": "TV-55", "quantity": 1}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub id: String,
    pub stamp: Stamp,
    /// For `add`: the line's quantity on the device when the edit was made (0 if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<u32>,
    pub op: CartOp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaError {
    #[error("operation and device ids are 1 to {MAX_ID_LEN} characters")]
    BadId,
    /// A device's stamp out of bounds ([`Operation::check_stamp`]).
    #[error("the stamp {ms}/{counter} is {problem}")]
    StampOutOfRange {
        ms: u64,
        counter: u32,
        problem: &'static str,
    },
}

impl crate::ErrorCode for ReplicaError {
    fn code(&self) -> &'static str {
        match self {
            ReplicaError::BadId => "invalid_operation",
            ReplicaError::StampOutOfRange { .. } => "stamp_out_of_range",
        }
    }
}

impl Operation {
    pub fn validate(&self) -> Result<(), ReplicaError> {
        let ok = |s: &str| !s.is_empty() && s.len() <= MAX_ID_LEN;
        if ok(&self.id) && ok(&self.stamp.device) {
            Ok(())
        } else {
            Err(ReplicaError::BadId)
        }
    }

    /// Whether a device's operation may be accepted by a receiver whose clock reads
    /// `now_ms`: its millisecond at most [`MAX_CLOCK_AHEAD_MS`] ahead (and within
    /// [`MAX_STAMP_MS`]), its counter at most [`MAX_DEVICE_COUNTER`]. Stamps in the past are
    /// accepted however old: a device that was offline for days made its edits then, and
    /// they only lose to later ones.
    pub fn check_stamp(&self, now_ms: u64) -> Result<(), ReplicaError> {
        let Stamp { ms, counter, .. } = self.stamp;
        let problem = if ms > MAX_STAMP_MS {
            Some("beyond 2^53 − 1 milliseconds")
        } else if ms > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS) {
            Some("more than 24 hours ahead of the server's clock")
        } else if counter > MAX_DEVICE_COUNTER {
            Some("counting past the largest counter a device may use")
        } else {
            None
        };
        match problem {
            Some(problem) => Err(ReplicaError::StampOutOfRange {
                ms,
                counter,
                problem,
            }),
            None => Ok(()),
        }
    }
}

/// The compacted beginning of a log: the replay state its folded operations left.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Base {
    pub cart: Cart,
    /// Replacements replayed so far (old SKU, new SKU), sorted: later edits of an old SKU
    /// follow them (rule 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed: Vec<(Sku, Sku)>,
}

/// Where a replay ended, besides the cart: the replacements seen and the last operation
/// applied. Operations that all come after `last` in replay order can then be applied to the
/// cart at once ([`Head::advance`]) instead of replaying the log: the common case of a device
/// pushing what it has just done. The result is the same as [`OpLog::cart`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed: Vec<(Sku, Sku)>,
    /// (stamp, id) of the last operation applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<(Stamp, String)>,
}

impl Head {
    /// Applies `ops` to `cart` (the cart this head ended with) if every one of them comes after
    /// `last` in replay order, and returns whether it did; otherwise changes nothing.
    pub fn advance(&mut self, cart: &mut Cart, ops: &[Operation]) -> bool {
        let mut order: Vec<usize> = (0..ops.len()).collect();
        sort_indices(&mut order, &|a, b| {
            (&ops[a].stamp, &ops[a].id).cmp(&(&ops[b].stamp, &ops[b].id))
        });
        let (Some(&first), Some(&newest)) = (order.first(), order.last()) else {
            return true;
        };
        if self
            .last
            .as_ref()
            .is_some_and(|(stamp, id)| (&ops[first].stamp, &ops[first].id) <= (stamp, id))
        {
            return false;
        }
        let mut renamed: HashMap<Sku, Sku> = self.renamed.iter().cloned().collect();
        for &i in &order {
            replay(cart, &mut renamed, &ops[i]);
        }
        self.renamed = sorted(renamed);
        self.last = Some((ops[newest].stamp.clone(), ops[newest].id.clone()));
        true
    }
}

fn sorted(renamed: HashMap<Sku, Sku>) -> Vec<(Sku, Sku)> {
    let mut renamed: Vec<(Sku, Sku)> = renamed.into_iter().collect();
    renamed.sort_unstable();
    renamed
}

/// The operations a replica has seen, each once (by id), after its [`Base`].
#[derive(Clone, Debug, Default)]
pub struct OpLog {
    base: Base,
    ops: Vec<Operation>,
    /// id → index in `ops`.
    ids: HashMap<String, usize>,
}

impl OpLog {
    pub fn new() -> OpLog {
        OpLog::default()
    }

    /// A log that starts from a compacted base (see rule 8).
    pub fn with_base(base: Base) -> OpLog {
        OpLog {
            base,
            ..OpLog::default()
        }
    }

    pub fn base(&self) -> &Base {
        &self.base
    }

    /// Folds all but the newest `keep` operations (in stamp order) into the base and returns
    /// the ids of those folded, oldest first. The cart stays the same.
    pub fn compact(&mut self, keep: usize) -> Vec<String> {
        let fold = self.ops.len().saturating_sub(keep);
        if fold == 0 {
            return Vec::new();
        }
        let order = self.order();
        let (mut cart, mut renamed) = self.start();
        let folded: Vec<String> = order[..fold]
            .iter()
            .map(|&i| {
                replay(&mut cart, &mut renamed, &self.ops[i]);
                self.ops[i].id.clone()
            })
            .collect();
        self.base = Base {
            cart,
            renamed: sorted(renamed),
        };
        let kept: Vec<Operation> = order[fold..].iter().map(|&i| self.ops[i].clone()).collect();
        self.ops = Vec::with_capacity(kept.len());
        self.ids.clear();
        for op in kept {
            self.ids.insert(op.id.clone(), self.ops.len());
            self.ops.push(op);
        }
        folded
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// Adds an operation unless its id is known; returns whether it was new. If two different
    /// operations claim one id (a buggy client), the one first in stamp order, then in the
    /// order of their contents ([`ContentKey`], rule 9), is kept, so every replica keeps the
    /// same one.
    pub fn insert(&mut self, op: Operation) -> Result<bool, ReplicaError> {
        op.validate()?;
        if let Some(&at) = self.ids.get(&op.id) {
            let kept = &self.ops[at];
            if (&op.stamp, ContentKey::of(&op)) < (&kept.stamp, ContentKey::of(kept)) {
                self.ops[at] = op;
            }
            return Ok(false);
        }
        self.ids.insert(op.id.clone(), self.ops.len());
        self.ops.push(op);
        Ok(true)
    }

    /// Operations after the base in stamp order (then id).
    pub fn ordered(&self) -> Vec<&Operation> {
        self.order().into_iter().map(|i| &self.ops[i]).collect()
    }

    fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.ops.len()).collect();
        let ops = &self.ops;
        sort_indices(&mut order, &|a, b| {
            (&ops[a].stamp, &ops[a].id).cmp(&(&ops[b].stamp, &ops[b].id))
        });
        order
    }

    /// The replay state at the base.
    fn start(&self) -> (Cart, HashMap<Sku, Sku>) {
        (
            self.base.cart.clone(),
            self.base.renamed.iter().cloned().collect(),
        )
    }

    /// The cart these operations make (see the module docs for the rules).
    pub fn cart(&self) -> Cart {
        self.replay().0
    }

    /// The cart and where the replay ended, to [`Head::advance`] later.
    pub fn replay(&self) -> (Cart, Head) {
        let (mut cart, mut renamed) = self.start();
        let ordered = self.ordered();
        for op in &ordered {
            replay(&mut cart, &mut renamed, op);
        }
        let last = ordered.last().map(|op| (op.stamp.clone(), op.id.clone()));
        (
            cart,
            Head {
                renamed: sorted(renamed),
                last,
            },
        )
    }
}

impl PartialEq for OpLog {
    /// Two logs are equal when they have the same base and hold the same operations (in any
    /// order of arrival).
    fn eq(&self, other: &OpLog) -> bool {
        self.base == other.base
            && self.len() == other.len()
            && self.ops.iter().all(|op| {
                other
                    .ids
                    .get(&op.id)
                    .is_some_and(|&at| other.ops[at] == *op)
            })
    }
}

/// An operation's contents as stable parts, ordered as rule 9 says: the tie-break between
/// two operations that claim one id and one stamp. Two operations with equal keys are equal.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct ContentKey<'a> {
    seen: Option<u32>,
    name: &'static str,
    sku: Option<&'a str>,
    other_sku: Option<&'a str>,
    quantity: Option<u32>,
    text: Option<&'a str>,
    level: Option<Level>,
    address: bool,
    lat: Option<i64>,
    lon: Option<i64>,
    postcode: Option<&'a str>,
}

impl<'a> ContentKey<'a> {
    fn of(op: &'a Operation) -> ContentKey<'a> {
        let mut key = ContentKey {
            seen: op.seen,
            name: op.op.name(),
            sku: None,
            other_sku: None,
            quantity: None,
            text: None,
            level: None,
            address: false,
            lat: None,
            lon: None,
            postcode: None,
        };
        match &op.op {
            CartOp::Add { sku, quantity } | CartOp::SetQuantity { sku, quantity } => {
                key.sku = Some(sku.as_str());
                key.quantity = Some(quantity.get());
            }
            CartOp::Remove { sku } => key.sku = Some(sku.as_str()),
            CartOp::Replace { sku, with: other }
            | CartOp::AttachService {
                sku,
                service: other,
            }
            | CartOp::DetachService {
                sku,
                service: other,
            } => {
                key.sku = Some(sku.as_str());
                key.other_sku = Some(other.as_str());
            }
            CartOp::ApplyCoupon { code } | CartOp::RemoveCoupon { code } => {
                key.text = Some(code);
            }
            CartOp::ChooseDelivery { choice } => match choice {
                Some(DeliveryChoice::Level(level)) => key.level = Some(*level),
                Some(DeliveryChoice::Pickup(location)) => key.text = Some(location),
                None => {}
            },
            CartOp::SetAddress { address } => {
                if let Some(a) = address {
                    key.address = true;
                    key.lat = a.lat.map(ordered_bits);
                    key.lon = a.lon.map(ordered_bits);
                    key.postcode = a.postcode.as_deref();
                }
            }
        }
        key
    }
}

/// A float's bits as an integer that orders as [`f64::total_cmp`] does (by value, for the
/// coordinates a checked address holds).
fn ordered_bits(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// Follows replacements from `sku` (at most a few hops; cycles stop).
fn follow<'a>(renamed: &'a HashMap<Sku, Sku>, mut sku: &'a Sku) -> &'a Sku {
    for _ in 0..8 {
        match renamed.get(sku) {
            Some(next) => sku = next,
            None => break,
        }
    }
    sku
}

fn capped(n: u64) -> Quantity {
    Quantity::new(n.min(u64::from(MAX_LINE_QUANTITY)) as i64).unwrap_or(Quantity::ONE)
}

fn replay(cart: &mut Cart, renamed: &mut HashMap<Sku, Sku>, op: &Operation) {
    match &op.op {
        CartOp::Add { sku, quantity } => {
            let target = capped(u64::from(op.seen.unwrap_or(0)) + u64::from(quantity.get()));
            let now = cart.quantity_of(sku).map_or(0, Quantity::get);
            if target.get() > now {
                cart.upsert(sku, target);
            }
        }
        CartOp::SetQuantity { sku, quantity } => {
            let sku = if cart.quantity_of(sku).is_some() {
                sku
            } else {
                follow(renamed, sku)
            };
            cart.upsert(sku, *quantity);
        }
        CartOp::Remove { sku } => {
            let sku = if cart.quantity_of(sku).is_some() {
                sku
            } else {
                follow(renamed, sku)
            };
            cart.remove_line(sku);
        }
        CartOp::Replace { sku, with } => {
            if sku != with {
                renamed.insert(sku.clone(), with.clone());
                if let Some(q) = cart.quantity_of(sku) {
                    let merged = capped(
                        u64::from(q.get())
                            + u64::from(cart.quantity_of(with).map_or(0, Quantity::get)),
                    );
                    cart.rename_line(sku, with, merged);
                }
            }
        }
        CartOp::ApplyCoupon { code } => cart.insert_coupon(code),
        CartOp::RemoveCoupon { code } => cart.remove_coupon_code(code),
        CartOp::ChooseDelivery { choice } => cart.set_delivery(choice.clone()),
        CartOp::SetAddress { address } => cart.set_address(address.clone()),
        CartOp::AttachService { sku, service } => {
            let sku = if cart.quantity_of(sku).is_some() {
                sku
            } else {
                follow(renamed, sku)
            };
            cart.attach_service(sku, service);
        }
        CartOp::DetachService { sku, service } => {
            let sku = if cart.quantity_of(sku).is_some() {
                sku
            } else {
                follow(renamed, sku)
            };
            cart.detach_service(sku, service);
        }
    }
}

/// Edits that turn cart `from` into cart `to` under the merge rules, for a replica to stamp
/// (e.g. the server keeping a guest's cart instead of the customer's at sign-in): removals of
/// lines only `from` has, additions ("at least", rule 1) of lines only `to` has, quantities of
/// lines both have, the services attached to `to`'s lines, coupons, the delivery choice and the
/// address.
pub fn ops_towards(from: &Cart, to: &Cart) -> Vec<CartOp> {
    let mut ops = Vec::new();
    for line in from.lines() {
        if to.quantity_of(&line.sku).is_none() {
            ops.push(CartOp::Remove {
                sku: line.sku.clone(),
            });
        }
    }
    for line in to.lines() {
        let had: &[Sku] = match from.line(&line.sku) {
            None => {
                ops.push(CartOp::Add {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                });
                &[]
            }
            Some(old) => {
                if old.quantity != line.quantity {
                    ops.push(CartOp::SetQuantity {
                        sku: line.sku.clone(),
                        quantity: line.quantity,
                    });
                }
                for service in old.services.iter().filter(|s| !line.services.contains(s)) {
                    ops.push(CartOp::DetachService {
                        sku: line.sku.clone(),
                        service: service.clone(),
                    });
                }
                &old.services
            }
        };
        for service in line.services.iter().filter(|s| !had.contains(s)) {
            ops.push(CartOp::AttachService {
                sku: line.sku.clone(),
                service: service.clone(),
            });
        }
    }
    let has = |cart: &Cart, code: &str| cart.coupons().iter().any(|c| c.eq_ignore_ascii_case(code));
    for code in from.coupons() {
        if !has(to, code) {
            ops.push(CartOp::RemoveCoupon { code: code.clone() });
        }
    }
    for code in to.coupons() {
        if !has(from, code) {
            ops.push(CartOp::ApplyCoupon { code: code.clone() });
        }
    }
    if from.delivery() != to.delivery() {
        ops.push(CartOp::ChooseDelivery {
            choice: to.delivery().cloned(),
        });
    }
    if from.address() != to.address() {
        ops.push(CartOp::SetAddress {
            address: to.address().cloned(),
        });
    }
    ops
}
