//! The replicated cart: the merge rules of `replica.rs` as cases, and convergence as a property
//! (3 replicas, random operations, random delivery orders with duplicates → identical carts).

use omnicart_engine::replica::{Base, Clock, OpLog, Operation, Stamp};
use omnicart_engine::{Cart, CartOp};
use proptest::prelude::*;

fn op(id: &str, device: &str, ms: u64, seen: Option<u32>, json: &str) -> Operation {
    Operation {
        id: id.into(),
        stamp: Stamp {
            ms,
            counter: 0,
            device: device.into(),
        },
        seen,
        op: serde_json::from_str(json).unwrap(),
    }
}

fn cart_of(ops: &[Operation]) -> Cart {
    let mut log = OpLog::new();
    for o in ops {
        log.insert(o.clone()).unwrap();
    }
    log.cart()
}

fn lines(cart: &Cart) -> Vec<(String, u32)> {
    cart.lines()
        .iter()
        .map(|l| (l.sku.to_string(), l.quantity.get()))
        .collect()
}

const ADD_TV: &str = r#"{"op":"add","sku":"TV","quantity":1}"#;

#[test]
fn two_devices_adding_the_same_tv_while_apart_make_one_tv() {
    let cart = cart_of(&[
        op("p:1", "phone", 10, Some(0), ADD_TV),
        op("l:1", "laptop", 11, Some(0), ADD_TV),
    ]);
    assert_eq!(lines(&cart), [("TV".into(), 1)]);
    // One device adding twice means two.
    let cart = cart_of(&[
        op("p:1", "phone", 10, Some(0), ADD_TV),
        op("p:2", "phone", 11, Some(1), ADD_TV),
    ]);
    assert_eq!(lines(&cart), [("TV".into(), 2)]);
}

#[test]
fn the_later_quantity_wins_and_a_later_edit_undoes_a_removal() {
    let base = op("p:1", "phone", 1, Some(0), ADD_TV);
    let set = |id: &str, dev: &str, ms: u64, q: u32| {
        op(
            id,
            dev,
            ms,
            None,
            &format!(r#"{{"op":"set_quantity","sku":"TV","quantity":{q}}}"#),
        )
    };
    let remove =
        |id: &str, dev: &str, ms: u64| op(id, dev, ms, None, r#"{"op":"remove","sku":"TV"}"#);
    assert_eq!(
        lines(&cart_of(&[
            base.clone(),
            set("p:2", "phone", 10, 3),
            set("l:1", "laptop", 12, 2)
        ])),
        [("TV".into(), 2)]
    );
    assert_eq!(
        lines(&cart_of(&[
            base.clone(),
            remove("l:1", "laptop", 10),
            set("p:2", "phone", 11, 4)
        ])),
        [("TV".into(), 4)]
    );
    assert!(
        lines(&cart_of(&[
            base,
            set("p:2", "phone", 10, 4),
            remove("l:1", "laptop", 11)
        ]))
        .is_empty()
    );
}

#[test]
fn a_quantity_edit_follows_a_replacement() {
    let base = op(
        "p:1",
        "phone",
        1,
        Some(0),
        r#"{"op":"add","sku":"TV-55","quantity":1}"#,
    );
    let replace = op(
        "p:2",
        "phone",
        10,
        None,
        r#"{"op":"replace","sku":"TV-55","with":"TV-65"}"#,
    );
    let set = |ms| {
        op(
            "l:1",
            "laptop",
            ms,
            None,
            r#"{"op":"set_quantity","sku":"TV-55","quantity":3}"#,
        )
    };
    assert_eq!(
        lines(&cart_of(&[base.clone(), replace.clone(), set(11)])),
        [("TV-65".into(), 3)],
        "edit after the replace follows it"
    );
    assert_eq!(
        lines(&cart_of(&[base.clone(), replace.clone(), set(9)])),
        [("TV-65".into(), 3)],
        "replace keeps the edited quantity"
    );
    let add_old = op(
        "l:2",
        "laptop",
        12,
        Some(0),
        r#"{"op":"add","sku":"TV-55","quantity":1}"#,
    );
    assert_eq!(
        lines(&cart_of(&[base, replace, add_old])),
        [("TV-65".into(), 1), ("TV-55".into(), 1)],
        "adding the old SKU again is a new wish"
    );
}

#[test]
fn coupons_delivery_choice_and_address_are_last_writer_wins() {
    let cart = cart_of(&[
        op(
            "p:1",
            "phone",
            1,
            None,
            r#"{"op":"apply_coupon","code":"welcome10"}"#,
        ),
        op(
            "l:1",
            "laptop",
            2,
            None,
            r#"{"op":"remove_coupon","code":"WELCOME10"}"#,
        ),
        op(
            "p:2",
            "phone",
            3,
            None,
            r#"{"op":"apply_coupon","code":"CABLE20"}"#,
        ),
        op(
            "p:3",
            "phone",
            4,
            None,
            r#"{"op":"choose_delivery","level":"express"}"#,
        ),
        op(
            "l:2",
            "laptop",
            5,
            None,
            r#"{"op":"choose_delivery","pickup":"store-berlin-alexanderplatz"}"#,
        ),
        op(
            "l:3",
            "laptop",
            7,
            None,
            r#"{"op":"set_address","address":{"postcode":"80331"}}"#,
        ),
        op(
            "p:4",
            "phone",
            6,
            None,
            r#"{"op":"set_address","address":{"lat":52.52,"lon":13.4}}"#,
        ),
    ]);
    assert_eq!(cart.coupons(), ["CABLE20"]);
    assert_eq!(
        serde_json::to_value(cart.address()).unwrap(),
        serde_json::json!({"postcode": "80331"}),
        "the later address"
    );
    assert_eq!(
        serde_json::to_value(cart.delivery()).unwrap(),
        serde_json::json!({"pickup": "store-berlin-alexanderplatz"})
    );
}

#[test]
fn services_live_with_their_line_and_follow_a_replacement() {
    let services = |cart: &Cart| {
        cart.lines()
            .iter()
            .map(|l| {
                (
                    l.sku.to_string(),
                    l.services.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    };
    let add = op(
        "p:1",
        "phone",
        1,
        Some(0),
        r#"{"op":"add","sku":"TV-55","quantity":1}"#,
    );
    let attach = |id: &str, dev: &str, ms: u64, sku: &str, service: &str| {
        op(
            id,
            dev,
            ms,
            None,
            &format!(r#"{{"op":"attach_service","sku":"{sku}","service":"{service}"}}"#),
        )
    };
    let detach = |id: &str, dev: &str, ms: u64| {
        op(
            id,
            dev,
            ms,
            None,
            r#"{"op":"detach_service","sku":"TV-55","service":"INSTALL"}"#,
        )
    };
    let remove = op(
        "l:9",
        "laptop",
        20,
        None,
        r#"{"op":"remove","sku":"TV-55"}"#,
    );
    // Last writer wins per line and service.
    let cart = cart_of(&[
        add.clone(),
        attach("p:2", "phone", 5, "TV-55", "INSTALL"),
        detach("l:1", "laptop", 6),
        attach("p:3", "phone", 7, "TV-55", "MOUNT"),
    ]);
    assert_eq!(
        services(&cart),
        [("TV-55".to_string(), vec!["MOUNT".to_string()])]
    );
    let cart = cart_of(&[
        add.clone(),
        detach("l:1", "laptop", 4),
        attach("p:2", "phone", 5, "TV-55", "INSTALL"),
    ]);
    assert_eq!(
        services(&cart),
        [("TV-55".to_string(), vec!["INSTALL".to_string()])]
    );
    // An attach racing a removal does not bring the line back; a removal drops the services.
    assert!(
        cart_of(&[
            add.clone(),
            remove.clone(),
            attach("p:2", "phone", 21, "TV-55", "INSTALL")
        ])
        .is_empty()
    );
    let readd = op(
        "p:4",
        "phone",
        30,
        Some(0),
        r#"{"op":"add","sku":"TV-55","quantity":1}"#,
    );
    assert_eq!(
        services(&cart_of(&[
            add.clone(),
            attach("p:2", "phone", 5, "TV-55", "INSTALL"),
            remove,
            readd
        ])),
        [("TV-55".to_string(), vec![])]
    );
    // A replacement carries the services; an attach to the old SKU made after it follows it.
    let replace = op(
        "p:5",
        "phone",
        10,
        None,
        r#"{"op":"replace","sku":"TV-55","with":"TV-65"}"#,
    );
    let cart = cart_of(&[
        add,
        attach("p:2", "phone", 5, "TV-55", "INSTALL"),
        replace,
        attach("l:2", "laptop", 11, "TV-55", "MOUNT"),
    ]);
    assert_eq!(
        services(&cart),
        [(
            "TV-65".to_string(),
            vec!["INSTALL".to_string(), "MOUNT".to_string()]
        )]
    );
}

#[test]
fn a_clock_never_goes_back_and_follows_what_it_observes() {
    let mut clock = Clock::new("phone");
    let a = clock.tick(1_000);
    let b = clock.tick(900); // the wall clock went back
    assert!(b > a);
    clock.observe(&Stamp {
        ms: 5_000,
        counter: 7,
        device: "laptop".into(),
    });
    let c = clock.tick(1_200);
    assert!((c.ms, c.counter) > (5_000, 7));
}

#[test]
fn ids_are_kept_once_and_bad_ids_refused() {
    let mut log = OpLog::new();
    assert!(log.insert(op("p:1", "phone", 10, Some(0), ADD_TV)).unwrap());
    assert!(
        !log.insert(op("p:1", "phone", 10, Some(0), ADD_TV)).unwrap(),
        "a replayed operation is ignored"
    );
    assert_eq!(log.len(), 1);
    assert!(log.insert(op("", "phone", 10, None, ADD_TV)).is_err());
    assert!(
        log.insert(op(&"x".repeat(65), "phone", 10, None, ADD_TV))
            .is_err()
    );
}

/// A random operation from device `d` at `ms`.
fn arb_op() -> impl Strategy<Value = (usize, u64, u32, u8, u8, u8, u32)> {
    (
        0usize..3,
        0u64..30,
        0u32..3,
        0u8..11,
        0u8..4,
        0u8..4,
        1u32..5,
    )
}

fn build(spec: &[(usize, u64, u32, u8, u8, u8, u32)]) -> Vec<Operation> {
    let skus = ["TV-55", "TV-65", "PS5", "HDMI"];
    spec.iter()
        .enumerate()
        .map(|(k, &(d, ms, counter, kind, a, b, q))| {
            let (sku, with) = (skus[a as usize], skus[b as usize]);
            let (code, level) = (["A1", "B2"][a as usize % 2], ["standard", "express"][a as usize % 2]);
            let json = match kind {
                0 | 1 => serde_json::json!({"op": "add", "sku": sku, "quantity": q}),
                2 => serde_json::json!({"op": "set_quantity", "sku": sku, "quantity": q}),
                3 => serde_json::json!({"op": "remove", "sku": sku}),
                4 => serde_json::json!({"op": "replace", "sku": sku, "with": with}),
                5 => serde_json::json!({"op": "apply_coupon", "code": code}),
                6 => serde_json::json!({"op": "remove_coupon", "code": code}),
                7 => serde_json::json!({"op": "set_address", "address": {"postcode": (["10115", "80331"][a as usize % 2])}}),
                9 => serde_json::json!({"op": "attach_service", "sku": sku, "service": (["INSTALL", "MOUNT"][b as usize % 2])}),
                10 => serde_json::json!({"op": "detach_service", "sku": sku, "service": (["INSTALL", "MOUNT"][b as usize % 2])}),
                _ => serde_json::json!({"op": "choose_delivery", "level": level}),
            };
            // Every 7th operation reuses an id with different content (a buggy client).
            let id = if k % 7 == 6 { format!("d{d}:dup") } else { format!("d{d}:{k}") };
            let op: CartOp = serde_json::from_value(json).unwrap();
            Operation { id, stamp: Stamp { ms, counter, device: format!("d{d}") }, seen: Some(b as u32 % 3), op }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]
    #[test]
    fn replicas_that_saw_the_same_operations_hold_the_same_cart(
        spec in prop::collection::vec(arb_op(), 0..30),
        orders in prop::collection::vec(prop::collection::vec(any::<u32>(), 60), 3),
    ) {
        let ops = build(&spec);
        let mut carts = Vec::new();
        for keys in &orders {
            // Each replica receives every operation, some twice, in its own order.
            let mut delivery: Vec<(u32, &Operation)> = ops.iter().enumerate().map(|(i, o)| (keys[i], o)).collect();
            delivery.extend(ops.iter().enumerate().filter(|(i, _)| keys[30 + i] % 3 == 0).map(|(i, o)| (keys[30 + i], o)));
            delivery.sort_by_key(|(k, _)| *k);
            let mut log = OpLog::new();
            for (_, o) in delivery {
                log.insert(o.clone()).unwrap();
            }
            carts.push(log.cart());
        }
        prop_assert_eq!(&carts[0], &carts[1]);
        prop_assert_eq!(&carts[1], &carts[2]);
        let cart = &carts[0];
        prop_assert!(cart.lines().iter().all(|l| (1..=999).contains(&l.quantity.get())));
        let mut skus: Vec<_> = cart.lines().iter().map(|l| l.sku.clone()).collect();
        skus.dedup();
        prop_assert_eq!(skus.len(), cart.lines().len(), "one line per SKU");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    /// Rule 7: folding the oldest operations into a base leaves the cart as it was, the base
    /// survives JSON (the server stores it, devices receive it), and replicas that share a base
    /// converge on the operations that arrive afterwards, whatever their stamps.
    #[test]
    fn compaction_keeps_the_cart_and_replicas_sharing_a_base_converge(
        spec in prop::collection::vec(arb_op(), 0..30),
        later in prop::collection::vec(arb_op(), 0..10),
        keep in 0usize..12,
        keys in prop::collection::vec(any::<u32>(), 10),
    ) {
        let ops = build(&spec);
        let mut log = OpLog::new();
        for o in &ops {
            log.insert(o.clone()).unwrap();
        }
        let before = log.cart();
        let kept_before = log.len();
        let folded = log.compact(keep);
        prop_assert_eq!(log.cart(), before);
        prop_assert_eq!(folded.len(), kept_before.saturating_sub(keep));
        prop_assert_eq!(log.len(), kept_before.min(keep));
        prop_assert!(folded.iter().all(|id| !log.contains(id)));

        let base: Base = serde_json::from_str(&serde_json::to_string(log.base()).unwrap()).unwrap();
        let late: Vec<Operation> = build(&later).into_iter().map(|mut o| { o.id = format!("late-{}", o.id); o }).collect();
        let mut a = log.clone();
        let mut b = OpLog::with_base(base);
        for o in log.ordered().into_iter().rev() {
            b.insert(o.clone()).unwrap();
        }
        let mut order: Vec<usize> = (0..late.len()).collect();
        order.sort_by_key(|&i| keys[i]);
        for o in &late {
            a.insert(o.clone()).unwrap();
        }
        for &i in &order {
            b.insert(late[i].clone()).unwrap();
        }
        prop_assert_eq!(a.cart(), b.cart());
        prop_assert!(a == b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    /// `ops_towards(a, b)`, stamped after everything in a log whose cart is `a`, makes `b`.
    #[test]
    fn ops_towards_turns_one_cart_into_another(
        first in prop::collection::vec(arb_op(), 0..20),
        second in prop::collection::vec(arb_op(), 0..20),
    ) {
        let mut log = OpLog::new();
        for o in build(&first) {
            log.insert(o).unwrap();
        }
        let mut other = OpLog::new();
        for o in build(&second) {
            other.insert(o).unwrap();
        }
        let (from, to) = (log.cart(), other.cart());
        for (i, op) in omnicart_engine::replica::ops_towards(&from, &to).into_iter().enumerate() {
            let seen = matches!(op, CartOp::Add { .. }).then_some(0);
            log.insert(Operation { id: format!("towards-{i}"), stamp: Stamp { ms: 1_000, counter: i as u32, device: "server".into() }, seen, op }).unwrap();
        }
        let (made, want) = (log.cart(), to);
        // Line order may differ (new lines join the end); contents may not.
        // Services: the same set per line (attached in another order, perhaps).
        let key = |c: &Cart| {
            let mut l: Vec<(String, u32, Vec<String>)> = c.lines().iter().map(|l| {
                let mut services: Vec<String> = l.services.iter().map(|s| s.to_string()).collect();
                services.sort();
                (l.sku.to_string(), l.quantity.get(), services)
            }).collect();
            l.sort();
            l
        };
        prop_assert_eq!(key(&made), key(&want));
        let codes = |c: &Cart| { let mut v: Vec<String> = c.coupons().iter().map(|s| s.to_uppercase()).collect(); v.sort(); v };
        prop_assert_eq!(codes(&made), codes(&want));
        prop_assert_eq!(made.delivery(), want.delivery());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    /// `Head::advance` (the server's shortcut for operations newer than all before them) gives
    /// the cart a full replay gives, and refuses operations that are not newer.
    #[test]
    fn advancing_the_head_equals_replaying_the_log(
        first in prop::collection::vec(arb_op(), 0..20),
        later in prop::collection::vec(arb_op(), 0..8),
        shift in 0u64..40,
    ) {
        let mut log = OpLog::new();
        for o in build(&first) {
            log.insert(o).unwrap();
        }
        let (mut cart, mut head) = log.replay();
        let later: Vec<Operation> = build(&later).into_iter().map(|mut o| { o.id = format!("later-{}", o.id); o.stamp.ms += shift; o }).collect();
        let fresh: Vec<Operation> = later.into_iter().filter(|o| !log.contains(&o.id)).collect();
        let mut unique: Vec<Operation> = Vec::new();
        for o in fresh {
            if !unique.iter().any(|u| u.id == o.id) {
                unique.push(o);
            }
        }
        let before = (cart.clone(), head.clone());
        let advanced = head.advance(&mut cart, &unique);
        for o in &unique {
            log.insert(o.clone()).unwrap();
        }
        let newer = unique.iter().all(|o| before.1.last.as_ref().is_none_or(|(s, id)| (&o.stamp, &o.id) > (s, id)));
        prop_assert_eq!(advanced, newer);
        if advanced {
            prop_assert_eq!(&cart, &log.cart());
            prop_assert_eq!(&head, &log.replay().1);
        } else {
            prop_assert_eq!((cart, head), before, "a refused advance changes nothing");
        }
    }
}

#[test]
fn an_id_claimed_twice_keeps_the_same_operation_in_either_order() {
    let kept = |a: &Operation, b: &Operation| {
        let mut one = OpLog::new();
        one.insert(a.clone()).unwrap();
        one.insert(b.clone()).unwrap();
        let mut other = OpLog::new();
        other.insert(b.clone()).unwrap();
        other.insert(a.clone()).unwrap();
        assert_eq!(one, other);
        one.ordered()[0].clone()
    };
    let add = |q: u32| {
        let json = format!(r#"{{"op":"add","sku":"TV","quantity":{q}}}"#);
        op("x:1", "phone", 10, Some(0), &json)
    };
    let remove = op("x:1", "phone", 10, Some(0), r#"{"op":"remove","sku":"TV"}"#);
    // The earlier stamp wins, whatever the contents.
    let later_add = op("x:1", "phone", 11, Some(0), ADD_TV);
    assert_eq!(kept(&remove, &later_add), remove);
    // At equal stamps: `seen` (absent first), then the wire name, then the fields.
    let unseen = op("x:1", "phone", 10, None, r#"{"op":"remove","sku":"TV"}"#);
    assert_eq!(kept(&add(1), &unseen), unseen);
    assert_eq!(kept(&remove, &add(3)), add(3));
    assert_eq!(kept(&add(3), &add(1)), add(1));
    let address = |postcode: &str| {
        let json =
            format!(r#"{{"op":"set_address","address":{{"lat":52.5,"postcode":"{postcode}"}}}}"#);
        op("x:1", "phone", 10, None, &json)
    };
    assert_eq!(kept(&address("10117"), &address("10115")), address("10115"));
}

mod one_device {
    //! One device's edits, as the storefront records them, replay to the cart `Cart::apply`
    //! made: the merge rules agree with the cart's own rules when nothing is concurrent.

    use omnicart_engine::fulfilment::Level;
    use omnicart_engine::replica::{Clock, OpLog, Operation};
    use omnicart_engine::{Cart, CartOp, DeliveryChoice, Destination, Quantity, Sku, Snapshot};
    use proptest::prelude::*;

    fn snapshot() -> Snapshot {
        serde_json::from_str(include_str!("../../server/data/demo-catalogue.json")).unwrap()
    }

    fn sku() -> impl Strategy<Value = Sku> {
        prop::sample::select(vec![
            "LUM-OLED-C4-55",
            "LUM-OLED-C4-65",
            "PS5-PRO",
            "CBL-HDMI21-2M",
            "SVC-SETUP",
            "NOT-SOLD",
        ])
        .prop_map(|s| Sku::new(s).unwrap())
    }

    fn service() -> impl Strategy<Value = Sku> {
        prop::sample::select(vec![
            "SVC-INSTALL-TV",
            "SVC-WALLMOUNT",
            "SVC-SETUP",
            "CBL-HDMI21-2M",
        ])
        .prop_map(|s| Sku::new(s).unwrap())
    }

    fn code() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["WELCOME10", " cable20", "STREAM20", "NOPE"])
            .prop_map(str::to_owned)
    }

    fn choice() -> impl Strategy<Value = Option<DeliveryChoice>> {
        prop_oneof![
            Just(None),
            prop::sample::select(Level::ALL.to_vec()).prop_map(|l| Some(DeliveryChoice::Level(l))),
            prop::sample::select(vec!["store-berlin-alexanderplatz", "wh-leipzig"])
                .prop_map(|p| Some(DeliveryChoice::Pickup(p.into()))),
        ]
    }

    fn address() -> impl Strategy<Value = Option<Destination>> {
        let postcode = prop::sample::select(vec!["10115", "01067", "99999"]);
        prop_oneof![
            Just(None),
            postcode.prop_map(|p| Some(Destination {
                lat: None,
                lon: None,
                postcode: Some(p.into()),
            })),
            (47.0..55.0f64, 6.0..15.0f64).prop_map(|(lat, lon)| Some(Destination {
                lat: Some(lat),
                lon: Some(lon),
                postcode: None,
            })),
        ]
    }

    fn op() -> impl Strategy<Value = CartOp> {
        let quantity = (1i64..=600).prop_map(|n| Quantity::new(n).unwrap());
        prop_oneof![
            3 => (sku(), quantity.clone()).prop_map(|(sku, quantity)| CartOp::Add { sku, quantity }),
            2 => (sku(), quantity).prop_map(|(sku, quantity)| CartOp::SetQuantity { sku, quantity }),
            1 => sku().prop_map(|sku| CartOp::Remove { sku }),
            2 => (sku(), sku()).prop_map(|(sku, with)| CartOp::Replace { sku, with }),
            1 => code().prop_map(|code| CartOp::ApplyCoupon { code }),
            1 => code().prop_map(|code| CartOp::RemoveCoupon { code }),
            1 => choice().prop_map(|choice| CartOp::ChooseDelivery { choice }),
            1 => address().prop_map(|address| CartOp::SetAddress { address }),
            2 => (sku(), service()).prop_map(|(sku, service)| CartOp::AttachService { sku, service }),
            1 => (sku(), service()).prop_map(|(sku, service)| CartOp::DetachService { sku, service }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn accepted_edits_replay_to_the_applied_cart(
            ops in prop::collection::vec(op(), 0..40),
            steps in prop::collection::vec(0u64..3, 40),
        ) {
            let snapshot = snapshot();
            let mut cart = Cart::new();
            let mut clock = Clock::new("phone");
            let mut log = OpLog::new();
            let mut now_ms = 1_795_339_800_000;
            for (i, (op, step)) in ops.into_iter().zip(steps).enumerate() {
                // As the storefront records an edit: an add carries the quantity it was
                // added to, on the cart as it was before the edit.
                let seen = match &op {
                    CartOp::Add { sku, .. } => Some(cart.quantity_of(sku).map_or(0, Quantity::get)),
                    _ => None,
                };
                if cart.apply(&snapshot, &op).is_err() {
                    continue;
                }
                // The wall clock may stand still between edits: the counter orders them.
                now_ms += step;
                let recorded = Operation {
                    id: format!("phone:{i}"),
                    stamp: clock.tick(now_ms),
                    seen,
                    op,
                };
                prop_assert!(log.insert(recorded).unwrap());
                prop_assert_eq!(&log.cart(), &cart);
            }
            prop_assert_eq!(log.cart(), cart);
        }
    }
}

// ---- Stamps from untrusted devices (the server's edit always wins) ----

use omnicart_engine::replica::{MAX_CLOCK_AHEAD_MS, MAX_DEVICE_COUNTER, MAX_STAMP_MS};

fn stamped(ms: u64, counter: u32, device: &str) -> Operation {
    let mut o = op("x:1", device, ms, Some(0), ADD_TV);
    o.stamp.counter = counter;
    o
}

const NOW: u64 = 1_795_339_800_000;

#[test]
fn stamps_a_server_cannot_outrank_are_refused() {
    let code = |o: &Operation| {
        o.check_stamp(NOW)
            .err()
            .map(|e| omnicart_engine::ErrorCode::code(&e))
    };
    // The saturated counter of the report, a year ahead.
    let year = 365 * 24 * 60 * 60 * 1000;
    assert_eq!(
        code(&stamped(NOW + year, u32::MAX, "zzzz")),
        Some("stamp_out_of_range")
    );
    // A saturated counter at the server's own millisecond.
    assert_eq!(
        code(&stamped(NOW, u32::MAX, "zzzz")),
        Some("stamp_out_of_range")
    );
    assert_eq!(
        code(&stamped(NOW, MAX_DEVICE_COUNTER + 1, "a")),
        Some("stamp_out_of_range")
    );
    assert_eq!(code(&stamped(NOW, MAX_DEVICE_COUNTER, "a")), None);
    // More than 24 h ahead, and past what JavaScript holds exactly (2^53 + 1).
    assert_eq!(
        code(&stamped(NOW + MAX_CLOCK_AHEAD_MS + 1, 0, "a")),
        Some("stamp_out_of_range")
    );
    assert_eq!(code(&stamped(NOW + MAX_CLOCK_AHEAD_MS, 0, "a")), None);
    assert_eq!(
        code(&stamped((1 << 53) + 1, 0, "a")),
        Some("stamp_out_of_range")
    );
    assert!(
        stamped(MAX_STAMP_MS + 1, 0, "a")
            .check_stamp(u64::MAX)
            .is_err()
    );
    // A device that was offline for a week: old stamps are fine.
    assert_eq!(code(&stamped(NOW - 7 * 24 * 60 * 60 * 1000, 3, "a")), None);
}

#[test]
fn the_server_stamps_after_a_full_counter_and_a_clock_moves_on() {
    let full = Stamp {
        ms: 5,
        counter: u32::MAX,
        device: "zzzz".into(),
    };
    let after = Stamp::after(Some(&full), 1, "server");
    assert_eq!((after.ms, after.counter), (6, 0));
    assert!(after > full);
    // A device clock that observed a high counter moves to the next millisecond.
    let mut clock = Clock::new("phone");
    clock.observe(&Stamp {
        ms: 100,
        counter: MAX_DEVICE_COUNTER,
        device: "x".into(),
    });
    let s = clock.tick(50);
    assert_eq!((s.ms, s.counter), (101, 0));
    assert!(stamped(s.ms, s.counter, "phone").check_stamp(50).is_ok());
}

proptest! {
    /// Whatever stamps devices send, once the receiver keeps only those `check_stamp`
    /// accepts, its own edit stamped with `Stamp::after` the newest replays last: the cart
    /// holds the server's quantity.
    #[test]
    fn the_servers_edit_outranks_every_accepted_operation(
        stamps in proptest::collection::vec(
            (prop_oneof![
                Just(0u64), Just(NOW), Just(NOW + MAX_CLOCK_AHEAD_MS), Just(NOW + MAX_CLOCK_AHEAD_MS + 1),
                Just(MAX_STAMP_MS), Just(u64::MAX), 0u64..=u64::MAX, NOW - 1000..NOW + 1000,
            ],
            prop_oneof![Just(0u32), Just(MAX_DEVICE_COUNTER), Just(u32::MAX), 0u32..=u32::MAX],
            prop_oneof![Just("zzzz"), Just("server"), Just("a"), Just("~~~~")],
            1u32..9),
            1..20),
        server_q in 1u32..9,
    ) {
        let mut log = OpLog::new();
        let mut newest: Option<Stamp> = None;
        for (i, (ms, counter, device, q)) in stamps.into_iter().enumerate() {
            let mut o = op(&format!("d:{i}"), device, ms, None,
                &format!(r#"{{"op":"set_quantity","sku":"TV","quantity":{q}}}"#));
            o.stamp.counter = counter;
            if o.check_stamp(NOW).is_ok() {
                prop_assert!(o.stamp.ms <= MAX_STAMP_MS);
                newest = newest.max(Some(o.stamp.clone()));
                log.insert(o).unwrap();
            }
        }
        let stamp = Stamp::after(newest.as_ref(), NOW, "server");
        prop_assert!(stamp.ms <= MAX_STAMP_MS);
        let mut server = op("srv:1", "server", 0, None,
            &format!(r#"{{"op":"set_quantity","sku":"TV","quantity":{server_q}}}"#));
        server.stamp = stamp;
        log.insert(server).unwrap();
        prop_assert_eq!(lines(&log.cart()), vec![("TV".to_string(), server_q)]);
    }
}
