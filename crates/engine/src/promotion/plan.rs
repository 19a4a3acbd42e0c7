//! Which promotions apply: context checks, candidate plans, running a plan, choosing the best.
//! The rules are in the module docs of `promotion/mod.rs`.

use rust_decimal::Decimal;

use super::apply::{Matches, line_discounts, order_discount};
use super::model::{Action, Condition, DeliveryDiscount, DiscountClass, Promotion, Target};
use crate::allocate::allocate_cents;
use crate::catalogue::Snapshot;
use crate::context::QuoteContext;
use crate::money::Currency;
use crate::pricing::{Cents, Line, Round, round_for};
use crate::sku::Sku;
use crate::sort::{sort_indices, sort_vec};

/// What a promotion needs to apply, for rejections and upsell hints.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Gap<'a> {
    Subtotal {
        missing: Cents,
    },
    Quantity {
        target: &'a Target,
        missing: u32,
    },
    Contains {
        target: &'a Target,
    },
    /// Conditions hold but nothing in the cart is what the action discounts.
    ActionTarget {
        target: &'a Target,
    },
    /// Applied, and a higher tier of a tiered spend is `missing` away.
    NextTier {
        missing: Cents,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Reason {
    pub code: &'static str,
    pub message: String,
}

fn reason(code: &'static str, message: impl Into<String>) -> Reason {
    Reason {
        code,
        message: message.into(),
    }
}

pub(crate) struct Input<'a> {
    pub lines: &'a [Line<'a>],
    /// Which lines each target matches, shared by every run of this quote.
    pub matches: Matches<'a>,
    pub promotions: &'a [Promotion],
    pub context: &'a QuoteContext,
    /// Entered coupon codes, normalized, at most `MAX_COUPONS`.
    pub codes: &'a [String],
    pub round: Round,
    pub delivery_charge: Option<Cents>,
    pub snapshot: &'a Snapshot,
    pub currency: Currency,
}

impl<'a> Input<'a> {
    /// What the promotion engine needs to evaluate these lines.
    pub(crate) fn new(
        snapshot: &'a Snapshot,
        lines: &'a [Line<'a>],
        matches: Matches<'a>,
        context: &'a QuoteContext,
        codes: &'a [String],
        currency: Currency,
    ) -> Input<'a> {
        let round = round_for(snapshot, currency);
        Input {
            lines,
            matches,
            promotions: snapshot.promotions(),
            context,
            codes,
            round,
            delivery_charge: context.delivery_charge.map(|a| round.cents(a.0)),
            snapshot,
            currency,
        }
    }
}

/// What promotion `promotion` took off line `line` (an index into the input's lines).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LineAdjustment {
    pub line: usize,
    pub promotion: usize,
    pub amount: Cents,
}

/// What promotion `promotion` took off the order or the delivery charge (or, for
/// [`Evaluation::adjustments`], off anything).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Discount {
    pub promotion: usize,
    pub amount: Cents,
}

/// A gift line promotion `promotion` adds: `quantity` of `sku`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Gift {
    pub promotion: usize,
    pub sku: Sku,
    pub quantity: u32,
}

/// What an applied promotion saved: in money, and in the worth of its gifts.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Saved {
    money: Cents,
    gift_worth: Cents,
}

/// Why promotion `promotion` did not apply.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rejected {
    pub promotion: usize,
    pub reason: Reason,
}

/// What promotion `promotion` lacks to apply (or to reach its next tier).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Missed<'a> {
    pub promotion: usize,
    pub gap: Gap<'a>,
}

/// The outcome of one plan.
#[derive(Default, Clone, Debug, PartialEq)]
pub(crate) struct Evaluation<'a> {
    /// The promotions run, in order.
    plan: Vec<usize>,
    /// Line discounts in application order: one list for the whole cart, so a plan run
    /// allocates nothing per line.
    pub line_adjustments: Vec<LineAdjustment>,
    pub order_adjustments: Vec<Discount>,
    pub delivery: Vec<Discount>,
    pub gifts: Vec<Gift>,
    pub applied: Vec<usize>,
    /// Beside `applied`: what each took off in money (lines, order or delivery; nothing for a
    /// gift) and what its gifts are worth.
    saved: Vec<Saved>,
    pub rejected: Vec<Rejected>,
    pub gaps: Vec<Missed<'a>>,
    /// What the customer saves in money: the total is lower by this much.
    saving: Cents,
    /// What the gift items are worth: the second measure, only between plans that save the
    /// same amount of money.
    gift_worth: Cents,
}

impl<'a> Evaluation<'a> {
    /// What the applied promotions selected by `which` took off in this evaluation.
    fn applied_saving(&self, which: impl Fn(usize) -> bool) -> Cents {
        let saved = self
            .applied
            .iter()
            .zip(&self.saved)
            .filter(|(p, _)| which(**p))
            .map(|(_, s)| s.money)
            .sum();
        debug_assert_eq!(
            saved,
            self.adjustments()
                .filter(|d| which(d.promotion))
                .map(|d| d.amount)
                .sum::<Cents>()
        );
        saved
    }

    /// Records that promotion `p` applied, saving `saved` in money or gifts worth `gift`.
    fn apply(&mut self, p: usize, saved: Cents, gift: Cents) {
        self.applied.push(p);
        self.saved.push(Saved {
            money: saved,
            gift_worth: gift,
        });
        // Money saved is bounded by the cart's limit (`pricing::MAX_CENTS`); gifts are not, so
        // both add without overflowing.
        self.saving = self.saving.saturating_add(saved);
        self.gift_worth = self.gift_worth.saturating_add(gift);
    }

    /// Records that promotion `p` lacks `gap`: a rejection saying so, and the gap for hints.
    fn missed(&mut self, p: usize, gap: Gap<'a>, input: &Input) {
        let reason = gap_reason(&gap, input.currency.code(), input.round);
        self.rejected.push(Rejected {
            promotion: p,
            reason,
        });
        self.gaps.push(Missed { promotion: p, gap });
    }

    /// What this evaluation recorded for the promotions `shared` selects: every list keeps
    /// its order.
    fn records_of(&self, plan: Vec<usize>, shared: impl Fn(usize) -> bool) -> Evaluation<'a> {
        let mut out = Evaluation {
            plan,
            ..Evaluation::default()
        };
        out.line_adjustments
            .extend(self.line_adjustments.iter().filter(|a| shared(a.promotion)));
        out.order_adjustments.extend(
            self.order_adjustments
                .iter()
                .filter(|a| shared(a.promotion)),
        );
        out.delivery
            .extend(self.delivery.iter().filter(|a| shared(a.promotion)));
        out.gifts
            .extend(self.gifts.iter().filter(|g| shared(g.promotion)).cloned());
        for (&p, &Saved { money, gift_worth }) in self
            .applied
            .iter()
            .zip(&self.saved)
            .filter(|(p, _)| shared(**p))
        {
            out.apply(p, money, gift_worth);
        }
        out.rejected.extend(
            self.rejected
                .iter()
                .filter(|r| shared(r.promotion))
                .cloned(),
        );
        out.gaps
            .extend(self.gaps.iter().filter(|g| shared(g.promotion)).cloned());
        out
    }

    /// Each applied promotion, in application order, with the money it took off (its gifts'
    /// worth not included).
    pub fn applied_amounts(&self) -> impl Iterator<Item = Discount> + '_ {
        self.applied
            .iter()
            .zip(&self.saved)
            .map(|(&promotion, saved)| Discount {
                promotion,
                amount: saved.money,
            })
    }

    /// Every discount of the plan: lines, order, delivery.
    pub fn adjustments(&self) -> impl Iterator<Item = Discount> + '_ {
        let lines = self.line_adjustments.iter().map(|a| Discount {
            promotion: a.promotion,
            amount: a.amount,
        });
        lines
            .chain(self.order_adjustments.iter().copied())
            .chain(self.delivery.iter().copied())
    }

    /// Whether this plan is better for the customer than `other`: a lower total first, then
    /// gifts worth more.
    fn beats(&self, other: &Evaluation) -> bool {
        (self.saving, self.gift_worth) > (other.saving, other.gift_worth)
    }
}

/// Applies the best plan of the candidate promotions `candidates` (indices into promotions).
pub(crate) fn evaluate<'a>(input: &Input<'a>, candidates: &[usize]) -> Evaluation<'a> {
    let mut eligible = Vec::new();
    let mut rejected = Vec::new();
    let mut sorted = candidates.to_vec();
    let rank = &input.snapshot.promotion_index().rank;
    sort_indices(&mut sorted, &|a, b| rank[a].cmp(&rank[b]));
    for p in sorted {
        match context_check(input, &input.promotions[p]) {
            Ok(true) => eligible.push(p),
            Ok(false) => {}
            Err(reason) => rejected.push(Rejected {
                promotion: p,
                reason,
            }),
        }
    }
    let mut best = search(input, &eligible);
    for &p in &eligible {
        if !best.applied.contains(&p) && !best.rejected.iter().any(|r| r.promotion == p) {
            let reason = not_chosen(input, p, &best.applied);
            best.rejected.push(Rejected {
                promotion: p,
                reason,
            });
        }
    }
    best.rejected.extend(rejected);
    let by_id = &input.snapshot.promotion_index().id_rank;
    sort_vec(&mut best.rejected, &|a, b| {
        by_id[a.promotion].cmp(&by_id[b.promotion])
    });
    best
}

/// Context conditions. `Ok(false)`: a coupon promotion whose code was not entered (silent).
fn context_check(input: &Input, p: &Promotion) -> Result<bool, Reason> {
    let context = input.context;
    for c in &p.conditions {
        match c {
            Condition::Coupon { code } => {
                let code = super::normalize_code(code);
                if !input.codes.contains(&code) {
                    return Ok(false);
                }
                if p.once_per_customer
                    && context
                        .used_coupons
                        .iter()
                        .any(|u| super::normalize_code(u) == code)
                {
                    return Err(reason(
                        "coupon_already_used",
                        format!("You have already used the code {code}."),
                    ));
                }
            }
            Condition::Schedule { starts_at, ends_at } => {
                let Some(now) = context.now else {
                    return Err(reason(
                        "not_active",
                        "This offer is only available at certain times.",
                    ));
                };
                if starts_at.is_some_and(|s| now < s) {
                    return Err(reason(
                        "not_started",
                        format!("This offer starts on {}.", starts_at.unwrap().date_label()),
                    ));
                }
                if ends_at.is_some_and(|e| now >= e) {
                    return Err(reason(
                        "expired",
                        format!("This offer ended on {}.", ends_at.unwrap().date_label()),
                    ));
                }
            }
            Condition::Channel { channels } if !channels.contains(&context.channel) => {
                return Err(reason("wrong_channel", "This offer is not available here."));
            }
            Condition::CustomerSegment { segments }
                if !segments.iter().any(|s| context.segments.contains(s)) =>
            {
                return Err(reason(
                    "not_in_segment",
                    "This offer is for selected customers.",
                ));
            }
            Condition::FirstOrder if !context.first_order => {
                return Err(reason(
                    "first_order_only",
                    "This offer is for your first order.",
                ));
            }
            _ => {}
        }
    }
    let usage = context.usage.get(&*p.id);
    let exhausted = usage.is_some_and(|u| {
        u.remaining_uses == Some(0) || u.remaining_budget.is_some_and(|b| b.0.is_zero())
    });
    if exhausted {
        return Err(reason(
            "usage_exhausted",
            "This offer is no longer available.",
        ));
    }
    Ok(true)
}

/// Whether promotions `p` and `q` may apply together (rule 5).
fn compatible(input: &Input, p: usize, q: usize) -> bool {
    let stacking = &input.snapshot.promotion_index().stacking;
    stacking[p].with(stacking[q])
}

/// Greedy: take promotions in the given order when they stack with all taken so far.
fn greedy(input: &Input, order: impl Iterator<Item = usize>) -> (Vec<usize>, Vec<usize>) {
    let index = input.snapshot.promotion_index();
    let (rank, stacking) = (&index.rank, &index.stacking);
    let (mut taken, mut blocked) = (Vec::new(), Vec::new());
    // Whether two promotions stack depends only on their stacking bytes, and the promotions
    // taken have few distinct ones: compare with those.
    let mut kinds: Vec<super::Stacking> = Vec::new();
    for p in order {
        if kinds.iter().all(|k| stacking[p].with(*k)) {
            if !kinds.contains(&stacking[p]) {
                kinds.push(stacking[p]);
            }
            taken.push(p);
        } else {
            blocked.push(p);
        }
    }
    sort_indices(&mut taken, &|a, b| rank[a].cmp(&rank[b]));
    (taken, blocked)
}

/// Most plan runs one quote may spend on the search (each is one pass over the cart).
const MAX_RUNS: usize = 48;

/// Finds the plan that saves the customer most (rule 5): starting plans, then dropping one
/// applied promotion at a time while that helps. Deterministic: plans are tried in a fixed
/// order and only a strictly better saving replaces the best.
fn search<'a>(input: &Input<'a>, eligible: &[usize]) -> Evaluation<'a> {
    let promotions = input.promotions;
    let stackable: Vec<usize> = eligible
        .iter()
        .copied()
        .filter(|&p| !promotions[p].exclusive)
        .collect();
    let mut runs = 0;
    let mut best: Option<Found<'a>> = None;
    let base = settle(input, &stackable, None, Vec::new(), &mut runs, None);
    let started = starting_plans(input, &stackable, &base, &mut runs);
    consider(&mut best, Vec::new(), base);
    for found in started {
        consider(&mut best, found.excluded, found.eval);
    }
    for &e in eligible.iter().filter(|&&p| promotions[p].exclusive) {
        consider(&mut best, Vec::new(), run(input, &[e]));
    }
    improve(input, &stackable, &mut best, &mut runs);
    best.map(|b| b.eval).unwrap_or_else(|| run(input, &[]))
}

/// A plan the search settled on: the promotions it left out and its run.
struct Found<'a> {
    excluded: Vec<usize>,
    eval: Evaluation<'a>,
}

/// Keeps `found` if it beats the best so far (strictly: the first of equals stays).
fn consider<'a>(best: &mut Option<Found<'a>>, excluded: Vec<usize>, found: Evaluation<'a>) {
    if best.as_ref().is_none_or(|b| found.beats(&b.eval)) {
        *best = Some(Found {
            excluded,
            eval: found,
        });
    }
}

/// The plans started other than from the base: each blocked promotion worth moving first,
/// then each coupon's promotion left out.
fn starting_plans<'a>(
    input: &Input<'a>,
    stackable: &[usize],
    base: &Evaluation<'a>,
    runs: &mut usize,
) -> Vec<Found<'a>> {
    let promotions = input.promotions;
    let (_, blocked) = greedy(input, stackable.iter().copied());
    let coupons: Vec<usize> = stackable
        .iter()
        .copied()
        .filter(|&p| promotions[p].coupon().is_some())
        .collect();
    // Moving a blocked promotion first is worth a run only if, alone, it saves more than the
    // applied promotions it cannot stack with: otherwise that plan cannot save more.
    let mut forced = Vec::new();
    for &q in blocked.iter().take(8) {
        let conflicting = base.applied_saving(|p| !compatible(input, p, q));
        if alone(input, q) > conflicting {
            forced.push(q);
        }
    }
    let mut starts: Vec<(Option<usize>, Vec<usize>)> =
        forced.into_iter().map(|q| (Some(q), Vec::new())).collect();
    starts.extend(
        coupons
            .iter()
            .take(super::MAX_COUPONS)
            .map(|&c| (None, vec![c])),
    );
    starts
        .into_iter()
        .map(|(first, excluded)| {
            let eval = settle(input, stackable, first, excluded.clone(), runs, Some(base));
            Found { excluded, eval }
        })
        .collect()
}

/// Local search: would the customer be better off without one of the applied promotions?
/// Only where that can help: a line discount that may keep the cart under a threshold it
/// missed, or a promotion that keeps a stackable one out.
fn improve<'a>(
    input: &Input<'a>,
    stackable: &[usize],
    best: &mut Option<Found<'a>>,
    runs: &mut usize,
) {
    let promotions = input.promotions;
    for _round in 0..2 {
        let Some(Found {
            excluded,
            eval: current,
        }) = best.as_ref()
        else {
            break;
        };
        if current.applied.iter().any(|p| promotions[*p].exclusive) {
            break;
        }
        let before = (current.saving, current.gift_worth);
        let (excluded, applied, current) = (
            excluded.clone(),
            worth_dropping(input, stackable, current),
            current.clone(),
        );
        for p in applied.into_iter().take(8) {
            if *runs >= MAX_RUNS {
                break;
            }
            let mut without = excluded.clone();
            without.push(p);
            let found = settle(
                input,
                stackable,
                None,
                without.clone(),
                runs,
                Some(&current),
            );
            consider(best, without, found);
        }
        if best
            .as_ref()
            .is_none_or(|b| (b.eval.saving, b.eval.gift_worth) <= before)
        {
            break;
        }
    }
}

/// Applied promotions whose absence could let the customer save more: a line discount that may
/// keep the cart under a threshold it missed (dropping it raises the subtotal by at most what
/// it gave), or the only applied promotion keeping a stackable one out.
fn worth_dropping(input: &Input, stackable: &[usize], current: &Evaluation) -> Vec<usize> {
    let promotions = input.promotions;
    let nearest_threshold = current
        .gaps
        .iter()
        .filter_map(|m| match m.gap {
            Gap::Subtotal { missing } | Gap::NextTier { missing } => Some(missing),
            _ => None,
        })
        .min();
    let outside: Vec<usize> = stackable
        .iter()
        .copied()
        .filter(|p| !current.applied.contains(p))
        .collect();
    let reaches = |p: usize| {
        let given = current.applied_saving(|q| q == p);
        nearest_threshold
            .is_some_and(|m| promotions[p].class() == DiscountClass::Line && given >= m)
    };
    let sole_blocker = |p: usize, q: usize| {
        !compatible(input, p, q)
            && current
                .applied
                .iter()
                .all(|&o| o == p || compatible(input, o, q))
    };
    current
        .applied
        .iter()
        .copied()
        .filter(|&p| reaches(p) || outside.iter().any(|&q| sole_blocker(p, q)))
        .collect()
}

/// Runs the greedy plan over `stackable` minus `excluded` (with `first` moved to the front),
/// and again without any promotion that did not apply in it, so a promotion that gives
/// nothing never keeps another out.
/// Why the promotions left out as idle did not apply (and their hints) are kept.
/// Runs resume from `prior` (and then from the previous run) where their plans start alike.
fn settle<'a>(
    input: &Input<'a>,
    stackable: &[usize],
    first: Option<usize>,
    mut excluded: Vec<usize>,
    runs: &mut usize,
    prior: Option<&Evaluation<'a>>,
) -> Evaluation<'a> {
    let (mut why, mut gaps) = (Vec::new(), Vec::new());
    let mut previous: Option<Evaluation<'a>> = None;
    loop {
        let order = first
            .into_iter()
            .chain(stackable.iter().copied().filter(|&p| Some(p) != first))
            .filter(|p| !excluded.contains(p));
        let (plan, blocked) = greedy(input, order);
        let mut found = run_after(input, &plan, previous.as_ref().or(prior));
        *runs += 1;
        let idle: Vec<usize> = plan
            .iter()
            .copied()
            .filter(|p| !found.applied.contains(p))
            .collect();
        // Idle promotions matter only if they kept another one out.
        let kept_out = blocked
            .iter()
            .any(|b| idle.iter().any(|i| !compatible(input, *b, *i)));
        if !kept_out || *runs >= MAX_RUNS {
            found.rejected.extend(
                why.into_iter()
                    .filter(|r: &Rejected| !found.applied.contains(&r.promotion)),
            );
            found.gaps.extend(
                gaps.into_iter()
                    .filter(|m: &Missed| !found.applied.contains(&m.promotion)),
            );
            return found;
        }
        why.extend(
            found
                .rejected
                .iter()
                .filter(|r| idle.contains(&r.promotion))
                .cloned(),
        );
        gaps.extend(
            found
                .gaps
                .iter()
                .filter(|m| idle.contains(&m.promotion))
                .cloned(),
        );
        excluded.extend(idle);
        previous = Some(found);
    }
}

fn not_chosen(input: &Input, p: usize, applied: &[usize]) -> Reason {
    let (promotions, promo) = (input.promotions, &input.promotions[p]);
    if let Some(&q) = applied.iter().find(|&&q| !compatible(input, p, q)) {
        let other = &promotions[q];
        if promo.exclusive {
            return reason(
                "better_offer",
                format!("\u{201c}{}\u{201d} saves you more.", other.label),
            );
        }
        return reason(
            "not_combinable",
            format!("Cannot be combined with \u{201c}{}\u{201d}.", other.label),
        );
    }
    reason(
        "better_offer",
        "A better combination of offers was applied.",
    )
}

/// What promotion `p` alone would take off (for upsell hints: one run, no plan search).
pub(crate) fn alone(input: &Input, p: usize) -> Cents {
    let found = run(input, &[p]);
    if !found.applied.contains(&p) {
        return 0;
    }
    found
        .adjustments()
        .filter(|d| d.promotion == p)
        .map(|d| d.amount)
        .sum::<Cents>()
        + gift_value(input, &found, p)
}

fn gift_value(input: &Input, found: &Evaluation, p: usize) -> Cents {
    found
        .gifts
        .iter()
        .filter(|g| g.promotion == p)
        .filter_map(|g| {
            input
                .snapshot
                .price_for(&g.sku, input.context.channel, input.currency)
                .map(|u| {
                    input
                        .round
                        .cents(u.amount())
                        .saturating_mul(i64::from(g.quantity))
                })
        })
        .sum()
}

/// Runs one plan: each promotion in application order against the cart as discounted so far.
fn run<'a>(input: &Input<'a>, plan: &[usize]) -> Evaluation<'a> {
    run_after(input, plan, None)
}

/// How many promotions `plan` starts with that `prior`'s plan ran in the same order, passing
/// over promotions of `prior` that gave nothing and are not in `plan`: a promotion that gives
/// nothing leaves the cart as it found it, so after that start both runs are in one state.
fn shared_start(plan: &[usize], prior: &Evaluation) -> usize {
    let (mut j, mut k) = (0, 0);
    while k < plan.len() {
        while j < prior.plan.len()
            && prior.plan[j] != plan[k]
            && !prior.applied.contains(&prior.plan[j])
            && !plan.contains(&prior.plan[j])
        {
            j += 1;
        }
        if j == prior.plan.len() || prior.plan[j] != plan[k] {
            break;
        }
        (j, k) = (j + 1, k + 1);
    }
    k
}

/// [`run`], resumed from `prior` (a run of another plan with the same input) where the two
/// plans start alike: the search's plans mostly differ late (a promotion left out, an order
/// discount let in), so a run redoes only what follows.
fn run_after<'a>(
    input: &Input<'a>,
    plan: &[usize],
    prior: Option<&Evaluation<'a>>,
) -> Evaluation<'a> {
    let start = prior.map_or(0, |prior| shared_start(plan, prior));
    let mut eval = match prior {
        Some(prior) if start > 0 => {
            let mut shared = vec![false; input.promotions.len()];
            plan[..start].iter().for_each(|&p| shared[p] = true);
            prior.records_of(plan.to_vec(), |p| shared[p])
        }
        _ => Evaluation {
            plan: plan.to_vec(),
            ..Evaluation::default()
        },
    };
    let mut state = RunState::after(input, &eval);
    for &p in &plan[start..] {
        run_one(input, p, &mut state, &mut eval);
    }
    // Every resumed run is checked against a run from the start in the tests.
    #[cfg(debug_assertions)]
    if start > 0 {
        debug_assert_eq!(eval, run(input, plan), "resumed after {start} of {plan:?}");
    }
    eval
}

/// Where a plan run stands after the promotions run so far.
struct RunState {
    /// Each line's net of the line promotions so far.
    net: Vec<Cents>,
    /// Σ net once something reads it (conditions, order discounts), then kept as line
    /// promotions take their share off.
    subtotal: Option<Cents>,
    /// Σ order discounts so far.
    order_total: Cents,
    /// The delivery charge left after the delivery discounts so far.
    delivery_left: Option<Cents>,
}

impl RunState {
    /// The state after `eval`'s records, by the same operations in the same order as a run
    /// from the beginning.
    fn after(input: &Input, eval: &Evaluation) -> RunState {
        let mut net: Vec<Cents> = input.lines.iter().map(|l| l.gross).collect();
        for a in &eval.line_adjustments {
            net[a.line] -= a.amount;
        }
        RunState {
            net,
            subtotal: None,
            order_total: eval.order_adjustments.iter().map(|d| d.amount).sum(),
            delivery_left: eval
                .delivery
                .iter()
                .fold(input.delivery_charge, |left, d| left.map(|l| l - d.amount)),
        }
    }
}

/// Runs promotion `p` of a plan: checks it against the cart as it stands, then applies it or
/// records why not.
fn run_one<'a>(input: &Input<'a>, p: usize, state: &mut RunState, eval: &mut Evaluation<'a>) {
    let promo = &input.promotions[p];
    let checked = cart_check(
        &input.matches,
        &state.net,
        &mut state.subtotal,
        promo,
        input.round,
    );
    if let Err(gap) = checked {
        eval.missed(p, gap, input);
        return;
    }
    if let Action::GiftItem { sku, quantity } = &promo.action {
        give(input, p, sku, *quantity, eval);
        return;
    }
    let cap = cap_of(input, promo);
    let taken = match promo.class() {
        DiscountClass::Line => {
            let taken = apply_line(input, p, &mut state.net, cap, eval);
            if let Some(s) = state.subtotal.as_mut() {
                *s -= taken;
            }
            debug_assert!(
                state
                    .subtotal
                    .is_none_or(|s| s == state.net.iter().sum::<Cents>())
            );
            taken
        }
        DiscountClass::Order => match apply_order(input, p, cap, state, eval) {
            Some(taken) => taken,
            None => return,
        },
        DiscountClass::Delivery => {
            let d = delivery_discount_of(&promo.action, state.delivery_left, input.round);
            state.delivery_left = state.delivery_left.map(|left| left - d);
            eval.delivery.push(Discount {
                promotion: p,
                amount: d,
            });
            eval.apply(p, d, 0);
            return;
        }
    };
    if taken == 0 {
        eval.order_adjustments.retain(|d| d.promotion != p);
        eval.rejected.push(Rejected {
            promotion: p,
            reason: reason(
                "nothing_to_discount",
                "Nothing in your cart is discounted by this offer yet.",
            ),
        });
        if let Some(target) = action_target(&promo.action) {
            eval.gaps.push(Missed {
                promotion: p,
                gap: Gap::ActionTarget { target },
            });
        }
        return;
    }
    eval.apply(p, taken, 0);
}

/// Gives gift promotion `p`'s item. A gift applies when the item can be sold here, even at no
/// price (a free sample): it adds a line and takes nothing off the others.
/// While stocks last: a gift the network cannot promise now, on top of the cart's own units
/// of that item, is `gift_out_of_stock` (so every gift a quote gives can be shipped, and is
/// reserved at placement with the cart's goods).
fn give(input: &Input, p: usize, sku: &Sku, quantity: u32, eval: &mut Evaluation) {
    let in_cart: u32 = input
        .lines
        .iter()
        .filter(|l| l.sku == sku)
        .map(|l| l.quantity)
        .sum();
    let live = (!input.context.stock.is_empty()).then_some(&input.context.stock);
    let needed = in_cart.saturating_add(quantity);
    if !input.snapshot.network().can_promise(sku, needed, live) {
        eval.rejected.push(Rejected {
            promotion: p,
            reason: reason("gift_out_of_stock", "The gift is out of stock."),
        });
        return;
    }
    match input
        .snapshot
        .price_for(sku, input.context.channel, input.currency)
    {
        Some(unit) => {
            eval.gifts.push(Gift {
                promotion: p,
                sku: sku.clone(),
                quantity,
            });
            eval.apply(
                p,
                0,
                input
                    .round
                    .cents(unit.amount())
                    .saturating_mul(i64::from(quantity)),
            );
        }
        None => eval.rejected.push(Rejected {
            promotion: p,
            reason: reason("gift_unavailable", "The gift is not available here."),
        }),
    }
}

/// Applies order-class promotion `p`; returns what it took off, or `None` when it is rejected
/// for the tier it misses.
fn apply_order<'a>(
    input: &Input<'a>,
    p: usize,
    cap: Option<Cents>,
    state: &mut RunState,
    eval: &mut Evaluation<'a>,
) -> Option<Cents> {
    let promo = &input.promotions[p];
    let base = sum_of(&state.net, &mut state.subtotal) - state.order_total;
    let full = order_discount(base, &promo.action, input.round);
    let d = cap.map_or(full, |c| full.min(c));
    if let Some(gap) = tier_gap(&promo.action, base, input.round) {
        if d == 0 {
            eval.missed(p, gap, input);
            return None;
        }
        if let Gap::Subtotal { missing } = gap {
            eval.gaps.push(Missed {
                promotion: p,
                gap: Gap::NextTier { missing },
            });
        }
    }
    state.order_total += d;
    eval.order_adjustments.push(Discount {
        promotion: p,
        amount: d,
    });
    Some(d)
}

/// Applies a line-class promotion (not a gift); returns what it took off.
fn apply_line(
    input: &Input,
    p: usize,
    net: &mut [Cents],
    cap: Option<Cents>,
    eval: &mut Evaluation,
) -> Cents {
    let promo = &input.promotions[p];
    let mut found = line_discounts(&input.matches, net, &promo.action, &promo.caps, input.round);
    let total: Cents = found.iter().map(|(_, d)| d).sum();
    if let Some(cap) = cap.filter(|c| total > *c) {
        let weights: Vec<Cents> = found.iter().map(|(_, d)| *d).collect();
        let keys: Vec<&str> = found
            .iter()
            .map(|(i, _)| input.lines[*i].sku.as_str())
            .collect();
        let parts = allocate_cents(cap, &weights, &keys);
        for (f, part) in found.iter_mut().zip(parts) {
            f.1 = part;
        }
    }
    let mut taken = 0;
    for (i, d) in found.into_iter().filter(|&(_, d)| d != 0) {
        net[i] -= d;
        taken += d;
        eval.line_adjustments.push(LineAdjustment {
            line: i,
            promotion: p,
            amount: d,
        });
    }
    taken
}

/// The tighter of the promotion's `max_discount` and its remaining campaign budget.
fn cap_of(input: &Input, promo: &Promotion) -> Option<Cents> {
    let round = input.round;
    let budget = input
        .context
        .usage
        .get(&*promo.id)
        .and_then(|u| u.remaining_budget)
        .map(|b| round.cents_down(b.0));
    match (
        promo.caps.max_discount.map(|a| round.cents_down(a.0)),
        budget,
    ) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn delivery_discount_of(action: &Action, charge: Option<Cents>, round: Round) -> Cents {
    let (Action::DeliveryDiscount { discount }, Some(charge)) = (action, charge) else {
        return 0;
    };
    discount_on(discount, charge, round)
}

/// What a delivery discount takes off a charge: the one rule the quote and the delivery
/// calculator share.
pub(crate) fn delivery_discount(
    discount: &DeliveryDiscount,
    charge: Decimal,
    round: Round,
) -> Decimal {
    round.decimal(discount_on(discount, round.cents(charge), round))
}

fn discount_on(discount: &DeliveryDiscount, charge: Cents, round: Round) -> Cents {
    match discount {
        DeliveryDiscount::Free => charge,
        DeliveryDiscount::Percent(p) => round.percent(charge.max(0), *p),
        DeliveryDiscount::Amount(a) => round.cents(a.0).min(charge),
    }
}

/// For a tiered spend: how far the next tier above `base` is, if there is one.
fn tier_gap<'a>(action: &Action, base: Cents, round: Round) -> Option<Gap<'a>> {
    let Action::TieredSpend { tiers } = action else {
        return None;
    };
    tiers
        .iter()
        .map(|t| round.cents_up(t.threshold.0))
        .find(|&t| t > base)
        .map(|t| Gap::Subtotal { missing: t - base })
}

fn action_target(action: &Action) -> Option<&Target> {
    match action {
        Action::PercentOff { target, .. }
        | Action::AmountOff { target, .. }
        | Action::FixedPrice { target, .. } => Some(target),
        Action::BuyXGetY { get, .. } => Some(get),
        Action::Bundle { components, .. } => components.first().map(|c| &c.target),
        _ => None,
    }
}

/// Cart conditions against the current state (rule 2).
/// Σ `net`, computed on first use.
fn sum_of(net: &[Cents], cached: &mut Option<Cents>) -> Cents {
    *cached.get_or_insert_with(|| net.iter().sum())
}

fn cart_check<'a>(
    m: &Matches,
    net: &[Cents],
    subtotal: &mut Option<Cents>,
    promo: &'a Promotion,
    round: Round,
) -> Result<(), Gap<'a>> {
    let lines = m.lines;
    for c in &promo.conditions {
        match c {
            Condition::SubtotalAtLeast { amount } => {
                let (subtotal, amount) = (sum_of(net, subtotal), round.cents_up(amount.0));
                if subtotal < amount {
                    return Err(Gap::Subtotal {
                        missing: amount - subtotal,
                    });
                }
            }
            Condition::QuantityAtLeast { target, quantity } => {
                let have: u32 = m.of(target).iter().map(|&i| lines[i].quantity).sum();
                if have < *quantity {
                    return Err(Gap::Quantity {
                        target,
                        missing: quantity - have,
                    });
                }
            }
            Condition::CartContains { target } if m.of(target).is_empty() => {
                return Err(Gap::Contains { target });
            }
            _ => {}
        }
    }
    Ok(())
}

fn gap_reason(gap: &Gap, currency: &str, round: Round) -> Reason {
    match gap {
        Gap::Subtotal { missing } => reason(
            "subtotal_below",
            format!(
                "Add {} {currency} more to qualify.",
                round.decimal(*missing)
            ),
        ),
        Gap::Quantity { missing, .. } => reason(
            "quantity_below",
            format!("Add {missing} more qualifying item(s) to qualify."),
        ),
        Gap::Contains { .. } => reason("missing_item", "Add a qualifying item to qualify."),
        Gap::ActionTarget { .. } => reason(
            "nothing_to_discount",
            "Nothing in your cart is discounted by this offer yet.",
        ),
        Gap::NextTier { missing } => reason(
            "next_tier",
            format!(
                "Add {} {currency} more to save more.",
                round.decimal(*missing)
            ),
        ),
    }
}
