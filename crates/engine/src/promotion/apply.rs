//! What one promotion's action takes off a cart in a given state. Pure arithmetic on lines;
//! which promotions run, and in what order, is decided in `plan.rs`.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use super::model::{Action, Amount, BundleComponent, Caps, Percent, Pick, Target};
use crate::allocate::allocate_cents;
use crate::hash::HashMap;
use crate::pricing::{Cents, Line, Round};
use crate::sort::{ascending_unique, sort_indices, sort_vec};

/// The lines each target matches, computed once per quote and shared by every plan run (a
/// quote may run several plans). Lines are indexed by SKU, product, category and tag when the
/// quote starts, so a target's lines are looked up by the names it lists instead of comparing
/// every line with them.
pub(crate) struct Matches<'a> {
    pub lines: &'a [Line<'a>],
    /// Whether targets are looked up in `by_name` (else compared with every line).
    indexed: bool,
    /// The lines by SKU, product id, category and tag (the order of [`Kind`]).
    by_name: [OnceCell<NameIndex<'a>>; 4],
    cache: RefCell<HashMap<usize, Rc<[usize]>>>,
}

/// The lines under each name of one kind, as chains through one list (no list per name): a
/// cart's 200 SKUs would otherwise cost 200 allocations.
struct NameIndex<'a> {
    /// Each name's first node and how many nodes its chain has.
    first: HashMap<&'a str, (u32, u32)>,
    /// (line, next node of the same name or `u32::MAX`), lines ascending along a chain.
    nodes: Vec<(u32, u32)>,
}

impl NameIndex<'_> {
    /// The lines under `name`, ascending (a line listing a tag twice comes twice).
    fn lines(&self, name: &str) -> impl ExactSizeIterator<Item = usize> + '_ {
        let (mut node, len) = self.first.get(name).copied().unwrap_or((u32::MAX, 0));
        (0..len).map(move |_| {
            let (line, next) = self.nodes[node as usize];
            node = next;
            line as usize
        })
    }
}

/// What a target names, as an index into [`Matches::by_name`].
#[derive(Clone, Copy)]
enum Kind {
    Sku = 0,
    Product = 1,
    Category = 2,
    Tag = 3,
}

impl<'a> Matches<'a> {
    /// For a quote: the lines are indexed by name as targets need it.
    pub fn new(lines: &'a [Line<'a>]) -> Matches<'a> {
        Matches {
            lines,
            indexed: true,
            by_name: Default::default(),
            cache: RefCell::new(HashMap::default()),
        }
    }

    /// For a single run (a hint's saving): each target compared with every line, which costs
    /// less than building an index for one or two targets.
    pub fn scanning(lines: &'a [Line<'a>]) -> Matches<'a> {
        Matches {
            indexed: false,
            ..Matches::new(lines)
        }
    }

    /// For a run on `lines`: the quote's lines (`quote.lines`, names alike, quantities may
    /// differ) and perhaps one more after them. The lines of `targets` are taken from the
    /// quote's matches, so a hint's run compares only the added line with them.
    pub fn after(quote: &Matches, lines: &'a [Line<'a>], targets: &[&Target]) -> Matches<'a> {
        let matches = Matches::scanning(lines);
        let added = &lines[quote.lines.len()..];
        for &t in targets {
            let mut found = quote.of(t).to_vec();
            found.extend(
                (quote.lines.len()..lines.len())
                    .filter(|&i| t.matches(&added[i - quote.lines.len()])),
            );
            debug_assert!(
                found
                    .iter()
                    .copied()
                    .eq((0..lines.len()).filter(|&i| t.matches(&lines[i])))
            );
            matches
                .cache
                .borrow_mut()
                .insert(t as *const Target as usize, Rc::from(found));
        }
        matches
    }

    /// The index of one kind of name, built the first time a target of that kind is looked up.
    fn index(&self, kind: Kind) -> &NameIndex<'a> {
        self.by_name[kind as usize].get_or_init(|| {
            let mut index = NameIndex {
                first: HashMap::default(),
                nodes: Vec::with_capacity(self.lines.len()),
            };
            index.first.reserve(self.lines.len());
            // Last line first, each node put before its name's chain: chains come out ascending.
            for (i, l) in self.lines.iter().enumerate().rev() {
                let mut add = |name: &'a str| {
                    let node = index.nodes.len() as u32;
                    let chain = index.first.entry(name).or_insert((u32::MAX, 0));
                    index.nodes.push((i as u32, chain.0));
                    *chain = (node, chain.1 + 1);
                };
                match kind {
                    Kind::Sku => add(l.sku.as_str()),
                    Kind::Product => add(l.product.id.as_str()),
                    Kind::Category => add(l.product.category.as_str()),
                    Kind::Tag => l.product.tags.iter().rev().for_each(|t| add(t.as_str())),
                }
            }
            index
        })
    }

    /// Indices of the lines `target` matches, ascending. Targets live in the snapshot for the
    /// whole quote, so their address identifies them.
    pub fn of(&self, target: &Target) -> Rc<[usize]> {
        let key = target as *const Target as usize;
        if let Some(found) = self.cache.borrow().get(&key) {
            return found.clone();
        }
        let found: Rc<[usize]> = match target {
            Target::Any => (0..self.lines.len()).collect(),
            _ if !self.indexed => (0..self.lines.len())
                .filter(|&i| target.matches(&self.lines[i]))
                .collect(),
            Target::Skus(v) => self.named(Kind::Sku, v.iter().map(|s| s.as_str())),
            Target::Products(v) => self.named(Kind::Product, v.iter().map(String::as_str)),
            Target::Categories(v) => self.named(Kind::Category, v.iter().map(String::as_str)),
            Target::Tags(v) => self.named(Kind::Tag, v.iter().map(String::as_str)),
        };
        // Every test quote checks the index against comparing each line with the target.
        debug_assert!(
            found
                .iter()
                .copied()
                .eq((0..self.lines.len()).filter(|&i| target.matches(&self.lines[i])))
        );
        self.cache.borrow_mut().insert(key, found.clone());
        found
    }

    /// The lines indexed under any of `names`, ascending, each once.
    fn named<'n>(
        &self,
        kind: Kind,
        mut names: impl ExactSizeIterator<Item = &'n str>,
    ) -> Rc<[usize]> {
        let index = self.index(kind);
        if names.len() == 1 {
            let mut lines: Vec<usize> = index.lines(names.next().expect("one name")).collect();
            lines.dedup();
            return Rc::from(lines);
        }
        Rc::from(ascending_unique(
            self.lines.len(),
            names.flat_map(|n| index.lines(n)),
        ))
    }
}

/// Percentages are promotions' own: the rest of [`Round`] is in `pricing`.
impl Round {
    /// `percent` % of `amount` (≥ 0), rounded.
    pub fn percent(self, amount: Cents, percent: Percent) -> Cents {
        let (p, scale) = (percent.0.mantissa(), percent.0.scale());
        let exact = match (
            i64::try_from(p),
            10i64.checked_pow(scale).and_then(|s| s.checked_mul(100)),
        ) {
            (Ok(p), Some(den)) if p >= 0 => {
                crate::exact::mul_div_int(amount, p, den, self.strategy)
            }
            _ => None,
        };
        exact.unwrap_or_else(|| self.cents(self.decimal(amount) * percent.fraction()))
    }
}

impl Target {
    pub(crate) fn matches(&self, line: &Line) -> bool {
        match self {
            Target::Any => true,
            Target::Skus(v) => v.contains(line.sku),
            Target::Products(v) => v.contains(&line.product.id),
            Target::Categories(v) => v.contains(&line.product.category),
            Target::Tags(v) => v.iter().any(|t| line.product.tags.contains(t)),
        }
    }
}

/// The discount per line of a line-class action, given each line's current net.
/// Never more than a line's net. Empty when nothing matches.
pub(crate) fn line_discounts(
    m: &Matches,
    net: &[Cents],
    action: &Action,
    caps: &Caps,
    round: Round,
) -> Vec<(usize, Cents)> {
    let lines = m.lines;
    // The units a per-unit action discounts: at most `units`, and at most the cap.
    let choose_units = |target, units, pick| {
        choose(
            m,
            net,
            target,
            caps,
            min_opt(units, caps.max_applications),
            pick,
        )
    };
    match action {
        Action::PercentOff {
            target,
            percent,
            units,
            pick,
        } => {
            let chosen = choose_units(target, *units, *pick);
            per_unit(lines, net, &chosen, round, |base, _| {
                round.percent(base, *percent)
            })
        }
        Action::AmountOff {
            target,
            amount,
            units,
            pick,
        } => {
            let chosen = choose_units(target, *units, *pick);
            let amount = round.cents(amount.0);
            per_unit(lines, net, &chosen, round, |base, k| {
                amount.saturating_mul(i64::from(k)).min(base)
            })
        }
        Action::FixedPrice {
            target,
            price,
            units,
            pick,
        } => {
            let chosen = choose_units(target, *units, *pick);
            let price = round.cents(price.0);
            per_unit(lines, net, &chosen, round, |base, k| {
                (base - price.saturating_mul(i64::from(k))).max(0)
            })
        }
        Action::BuyXGetY {
            buy,
            buy_quantity,
            get,
            get_quantity,
            percent,
            pick,
            max_repeats,
        } => {
            let repeats = bxgy_repeats(m, net, buy, *buy_quantity, get, *get_quantity);
            let repeats =
                min_opt(Some(repeats), min_opt(*max_repeats, caps.max_applications)).unwrap_or(0);
            let chosen = choose(m, net, get, caps, Some(repeats * get_quantity), *pick);
            per_unit(lines, net, &chosen, round, |base, _| {
                round.percent(base, *percent)
            })
        }
        Action::Bundle { components, price } => {
            bundle_discounts(m, net, components, price, caps, round)
        }
        _ => Vec::new(),
    }
}

/// The discount per line of a bundle: each complete bundle's units (dearest first) cost
/// `price` together, the difference shared over them by value (largest remainder).
fn bundle_discounts(
    m: &Matches,
    net: &[Cents],
    components: &[BundleComponent],
    price: &Amount,
    caps: &Caps,
    round: Round,
) -> Vec<(usize, Cents)> {
    let lines = m.lines;
    let (repeats, chosen) = bundle_units(m, net, components, caps.max_applications);
    let bases: Vec<Cents> = chosen
        .iter()
        .map(|&(i, k)| base_of(lines, net, i, k, round))
        .collect();
    let value: Cents = bases.iter().sum();
    let discount = (value - round.cents(price.0).saturating_mul(i64::from(repeats))).max(0);
    let keys: Vec<&str> = chosen.iter().map(|&(i, _)| lines[i].sku.as_str()).collect();
    let parts = allocate_cents(discount, &bases, &keys);
    chosen
        .iter()
        .map(|&(i, _)| i)
        .zip(parts)
        .filter(|&(_, d)| d != 0)
        .collect()
}

/// The lines of `matched` with something left to discount.
fn discountable(matched: &[usize], net: &[Cents]) -> Vec<usize> {
    let mut out = Vec::with_capacity(matched.len());
    out.extend(matched.iter().copied().filter(|&i| net[i] > 0));
    out
}

fn min_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The value of `k` of line `i`'s units at its current net.
fn base_of(lines: &[Line], net: &[Cents], i: usize, k: u32, round: Round) -> Cents {
    if k == lines[i].quantity {
        net[i]
    } else {
        round.share(net[i], k, lines[i].quantity)
    }
}

fn per_unit(
    lines: &[Line],
    net: &[Cents],
    chosen: &[(usize, u32)],
    round: Round,
    f: impl Fn(Cents, u32) -> Cents,
) -> Vec<(usize, Cents)> {
    let mut out = Vec::with_capacity(chosen.len());
    for &(i, k) in chosen {
        let base = base_of(lines, net, i, k, round);
        let d = f(base, k).min(net[i]).max(0);
        if d != 0 {
            out.push((i, d));
        }
    }
    out
}

/// Units of matching lines, at most `per_line` of each and `limit` in all, chosen by unit net
/// price (`pick`), ties by SKU: quantities are taken from sorted lines, never expanded.
fn choose(
    m: &Matches,
    net: &[Cents],
    target: &Target,
    caps: &Caps,
    limit: Option<u32>,
    pick: Pick,
) -> Vec<(usize, u32)> {
    let lines = m.lines;
    let matching = discountable(&m.of(target), net);
    if limit.is_none() && caps.max_quantity_per_line.is_none() {
        // Every matching unit is taken; which comes first does not change any amount.
        return matching
            .into_iter()
            .map(|i| (i, lines[i].quantity))
            .collect();
    }
    // Each line taken gives at least one unit, so `limit` units need at most `limit` lines.
    let needed = limit.map_or(usize::MAX, |k| k as usize);
    take(
        lines,
        by_unit_price(lines, net, matching, pick, needed),
        caps.max_quantity_per_line,
        limit,
    )
}

/// Line indices sorted by unit net price (`pick`), ties by SKU. Unit prices are compared as
/// cross-multiplied minor units: exact, and far cheaper than division.
/// Only the first `needed` are returned: when that is a few lines, they are selected one at a
/// time (the same lines, in the same order, as the first of a stable sort) instead of sorting.
fn by_unit_price(
    lines: &[Line],
    net: &[Cents],
    matching: Vec<usize>,
    pick: Pick,
    needed: usize,
) -> Vec<usize> {
    let before = |a: usize, b: usize| {
        let (i, j) = (matching[a], matching[b]);
        let by_price =
            crate::exact::cross_cmp(net[i], lines[j].quantity, net[j], lines[i].quantity);
        let by_price = if pick == Pick::Dearest {
            by_price.reverse()
        } else {
            by_price
        };
        by_price.then_with(|| lines[i].sku.cmp(lines[j].sku))
    };
    let mut order: Vec<usize> = (0..matching.len()).collect();
    if needed <= 8 && needed < order.len() {
        let mut chosen = Vec::with_capacity(needed);
        for _ in 0..needed {
            // The first best of the rest: ties keep their order, as in a stable sort.
            let best = (1..order.len()).fold(0, |best, k| {
                if before(order[k], order[best]).is_lt() {
                    k
                } else {
                    best
                }
            });
            chosen.push(order.remove(best));
        }
        #[cfg(debug_assertions)]
        {
            let mut all: Vec<usize> = (0..matching.len()).collect();
            sort_indices(&mut all, &|a, b| before(a, b).then(a.cmp(&b)));
            debug_assert_eq!(
                chosen,
                all[..needed],
                "selection = the first of a stable sort"
            );
        }
        return chosen.into_iter().map(|k| matching[k]).collect();
    }
    sort_indices(&mut order, &before);
    order.into_iter().map(|k| matching[k]).collect()
}

/// Takes quantities from lines in order, at most `per_line` of each and `limit` in all.
fn take(
    lines: &[Line],
    order: Vec<usize>,
    per_line: Option<u32>,
    limit: Option<u32>,
) -> Vec<(usize, u32)> {
    let mut left = limit.unwrap_or(u32::MAX);
    let mut out = Vec::new();
    for i in order {
        if left == 0 {
            break;
        }
        let k = lines[i]
            .quantity
            .min(per_line.unwrap_or(u32::MAX))
            .min(left);
        if k > 0 {
            out.push((i, k));
            left -= k;
        }
    }
    out
}

/// How many times "buy X get Y" fits the cart. Units matching both sides can serve either,
/// so: r·(X+Y) ≤ all units, r·X ≤ buy-side units, r·Y ≤ get-side units.
fn bxgy_repeats(m: &Matches, net: &[Cents], buy: &Target, x: u32, get: &Target, y: u32) -> u32 {
    let (mut buy_only, mut get_only, mut both) = (0u64, 0u64, 0u64);
    let (buys, gets) = (m.of(buy), m.of(get));
    let mut involved: Vec<usize> = buys.iter().chain(gets.iter()).copied().collect();
    sort_indices(&mut involved, &|a, b| a.cmp(&b));
    involved.dedup();
    for i in involved {
        let q = u64::from(m.lines[i].quantity);
        match (buys.contains(&i), gets.contains(&i) && net[i] > 0) {
            (true, true) => both += q,
            (true, false) => buy_only += q,
            (false, true) => get_only += q,
            _ => {}
        }
    }
    let (x, y) = (u64::from(x), u64::from(y));
    let r = ((buy_only + get_only + both) / (x + y))
        .min((buy_only + both) / x)
        .min((get_only + both) / y);
    r.min(u64::from(u32::MAX)) as u32
}

/// How many complete bundles the cart holds and the units they use (dearest units first, so
/// the bundle price replaces the most value). Components take distinct units.
fn bundle_units(
    m: &Matches,
    net: &[Cents],
    components: &[super::model::BundleComponent],
    cap: Option<u32>,
) -> (u32, Vec<(usize, u32)>) {
    let upper = components
        .iter()
        .map(|c| {
            m.of(&c.target)
                .iter()
                .map(|&i| m.lines[i].quantity)
                .sum::<u32>()
                / c.quantity
        })
        .min()
        .unwrap_or(0)
        .min(cap.unwrap_or(u32::MAX));
    for n in (1..=upper).rev() {
        if let Some(units) = assign_bundle(m, net, components, n) {
            return (n, units);
        }
    }
    (0, Vec::new())
}

fn assign_bundle(
    m: &Matches,
    net: &[Cents],
    components: &[super::model::BundleComponent],
    n: u32,
) -> Option<Vec<(usize, u32)>> {
    let lines = m.lines;
    let mut used = vec![0u32; lines.len()];
    let mut out = Vec::new();
    for c in components {
        let mut need = c.quantity * n;
        let matching = discountable(&m.of(&c.target), net);
        for (i, k) in take(
            lines,
            by_unit_price(lines, net, matching, Pick::Dearest, usize::MAX),
            None,
            None,
        ) {
            let k = (k - used[i]).min(need);
            if k > 0 {
                used[i] += k;
                need -= k;
                out.push((i, k));
            }
            if need == 0 {
                break;
            }
        }
        if need > 0 {
            return None;
        }
    }
    // Merge units taken from one line by several components.
    sort_vec(&mut out, &|a, b| a.0.cmp(&b.0));
    out.dedup_by(|b, a| {
        if a.0 == b.0 {
            a.1 += b.1;
            true
        } else {
            false
        }
    });
    Some(out)
}

/// The order-level discount of an order-class action on the current order base.
pub(crate) fn order_discount(base: Cents, action: &Action, round: Round) -> Cents {
    let d = match action {
        Action::OrderPercentOff { percent } => round.percent(base.max(0), *percent),
        Action::OrderAmountOff { amount } => round.cents(amount.0),
        Action::TieredSpend { tiers } => tiers
            .iter()
            .rev()
            .find(|t| round.cents_up(t.threshold.0) <= base)
            .map_or(0, |t| round.cents(t.amount_off.0)),
        _ => 0,
    };
    d.min(base).max(0)
}
