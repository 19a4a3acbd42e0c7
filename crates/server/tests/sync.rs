//! The sync API (`POST /api/carts/{id}/sync`) on a real SQLite database: devices push
//! operations and pull what they missed; pushes are idempotent; bad pushes store nothing;
//! nobody syncs another customer's cart.

mod common;

use axum::http::StatusCode;
use common::{KYLIE, MIKE, TestApp};
use serde_json::{Value, json};

const TV: &str = "LUM-OLED-C4-55";

fn op(id: &str, device: &str, ms: u64, op: Value) -> Value {
    json!({"id": id, "stamp": {"ms": ms, "counter": 0, "device": device}, "seen": 0, "op": op})
}

fn add(id: &str, device: &str, ms: u64, sku: &str) -> Value {
    op(
        id,
        device,
        ms,
        json!({"op": "add", "sku": sku, "quantity": 1}),
    )
}

async fn sync(
    app: &TestApp,
    cart: &str,
    cursor: i64,
    ops: &[Value],
    cookie: Option<&str>,
) -> common::Reply {
    app.post(
        &format!("/api/carts/{cart}/sync"),
        &json!({"cursor": cursor, "ops": ops}).to_string(),
        cookie,
    )
    .await
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn lines(reply: &common::Reply) -> Value {
    reply.json["cart"]["cart"]["lines"].clone()
}

#[tokio::test]
async fn two_devices_merge_and_a_replayed_push_changes_nothing() {
    let app = TestApp::new().await;
    let (phone, cart) = app.sign_in(MIKE).await;
    let (laptop, _) = app.sign_in(MIKE).await;
    let first = sync(
        &app,
        &cart,
        0,
        &[add("phone:1", "phone", 10, TV)],
        Some(&phone),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(first.json["cursor"], 1);
    // The laptop, offline, added the same TV: one TV, and it hears of the phone's operation.
    let second = sync(
        &app,
        &cart,
        0,
        &[
            add("laptop:1", "laptop", 11, TV),
            add("laptop:2", "laptop", 12, "CBL-HDMI21-2M"),
            op(
                "laptop:3",
                "laptop",
                13,
                json!({"op": "set_address", "address": {"postcode": "10115"}}),
            ),
        ],
        Some(&laptop),
    )
    .await;
    assert_eq!(second.json["cursor"], 4);
    assert_eq!(second.json["ops"].as_array().unwrap().len(), 4);
    assert_eq!(
        second.json["cart"]["cart"]["address"],
        json!({"postcode": "10115"}),
        "the address follows the cart"
    );
    assert_eq!(
        lines(&second),
        json!([{"sku": TV, "quantity": 1}, {"sku": "CBL-HDMI21-2M", "quantity": 1}])
    );
    assert_eq!(
        second.json["cart"]["quote"]["item_count"], 2,
        "priced by the engine"
    );
    // The phone's retry of its push (its answer was lost) changes nothing.
    let retry = sync(
        &app,
        &cart,
        1,
        &[add("phone:1", "phone", 10, TV)],
        Some(&phone),
    )
    .await;
    assert_eq!(retry.json["cursor"], 4);
    let ids: Vec<&str> = retry.json["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["laptop:1", "laptop:2", "laptop:3"],
        "what the phone had not seen"
    );
    assert_eq!(lines(&retry), lines(&second));
    // A push mixing an operation already stored, a new one and the new one twice stores the
    // new one once, numbered right after the log.
    let mount = op(
        "phone:2",
        "phone",
        20,
        json!({"op": "attach_service", "sku": TV, "service": "SVC-WALLMOUNT"}),
    );
    let mixed = sync(
        &app,
        &cart,
        4,
        &[add("phone:1", "phone", 10, TV), mount.clone(), mount],
        Some(&phone),
    )
    .await;
    assert_eq!(
        (mixed.status, mixed.json["cursor"].clone()),
        (StatusCode::OK, json!(5)),
        "{}",
        mixed.json
    );
    assert_eq!(
        lines(&mixed)[0],
        json!({"sku": TV, "quantity": 1, "services": ["SVC-WALLMOUNT"]})
    );
    let quoted: Vec<(&str, Value)> = mixed.json["cart"]["quote"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap(), l["attached_to"].clone()))
        .collect();
    assert_eq!(
        quoted[..2],
        [(TV, Value::Null), ("SVC-WALLMOUNT", json!(TV))],
        "the service is priced right after its item"
    );
    // The cart endpoint shows the merged cart too.
    let read = app.get(&format!("/api/carts/{cart}"), Some(&phone)).await;
    assert_eq!(read.json["cart"]["lines"], lines(&mixed));
}

#[tokio::test]
async fn cursors_from_the_past_catch_up_and_from_the_future_are_refused() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let pushed = sync(
        &app,
        &cart,
        0,
        &[add("a:1", "a", 1, TV), add("a:2", "a", 2, "PS5-PRO")],
        None,
    )
    .await;
    assert_eq!(pushed.json["cursor"], 2);
    let behind = sync(&app, &cart, 0, &[], None).await;
    assert_eq!(
        (
            behind.json["cursor"].clone(),
            behind.json["ops"].as_array().unwrap().len()
        ),
        (json!(2), 2)
    );
    let current = sync(&app, &cart, 2, &[], None).await;
    assert_eq!(current.json["ops"], json!([]));
    for cursor in [3, -1] {
        let ahead = sync(&app, &cart, cursor, &[add("a:3", "a", 3, TV)], None).await;
        assert_eq!(
            (ahead.status, ahead.code()),
            (StatusCode::CONFLICT, "cursor_ahead"),
            "{cursor}"
        );
    }
    // A device that has seen a compaction this cart never made (a restored backup) starts again.
    for ops in [vec![add("a:4", "a", 4, TV)], vec![]] {
        let body = json!({"cursor": 1, "generation": 2, "ops": ops});
        let later = app
            .post(&format!("/api/carts/{cart}/sync"), &body.to_string(), None)
            .await;
        assert_eq!(
            (later.status, later.code()),
            (StatusCode::CONFLICT, "cursor_ahead"),
            "{}",
            later.json
        );
    }
    assert_eq!(
        sync(&app, &cart, 0, &[], None).await.json["cursor"],
        2,
        "the refused pushes stored nothing"
    );
}

#[tokio::test]
async fn bad_pushes_are_refused_and_store_nothing() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let good = add("a:1", "a", 1, TV);
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"cursor": 0, "ops": [good.clone(), {"id": "a:2", "op": {"op": "add", "sku": TV, "quantity": 1}}]}),
            StatusCode::BAD_REQUEST,
            "invalid_operation",
        ),
        (
            json!({"cursor": 0, "ops": [good.clone(), add("a:2", "a", 2, "NOPE-1")]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_sku",
        ),
        (
            json!({"cursor": 0, "ops": [op("a:3", "a", 3, json!({"op": "apply_coupon", "code": "NOPE"}))]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_coupon",
        ),
        (
            json!({"cursor": 0, "ops": [op("a:4", "a", 4, json!({"op": "choose_delivery", "pickup": "wh-leipzig"}))]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_location",
        ),
        (
            json!({"cursor": 0, "ops": [good.clone(), op("a:8", "a", 8, json!({"op": "attach_service", "sku": TV, "service": "CBL-HDMI21-2M"}))]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "service_not_offered",
        ),
        (
            json!({"cursor": 0, "ops": [op("a:7", "a", 7, json!({"op": "set_address", "address": {"postcode": "00000"}}))]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_postcode",
        ),
        (
            json!({"cursor": 0, "ops": [op("", "a", 5, json!({"op": "remove", "sku": TV}))]}),
            StatusCode::BAD_REQUEST,
            "invalid_operation",
        ),
        (
            json!({"cursor": 0, "ops": [op("a:6", "a", 6, json!({"op": "add", "sku": TV, "quantity": 0}))]}),
            StatusCode::BAD_REQUEST,
            "invalid_operation",
        ),
        (
            json!({"cursor": 0, "ops": (0..101).map(|i| add(&format!("b:{i}"), "b", i, TV)).collect::<Vec<_>>()}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_ops_count",
        ),
        (
            json!({"cursor": 0, "ops": [good.clone()], "extra": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        let reply = app
            .post(&format!("/api/carts/{cart}/sync"), &body.to_string(), None)
            .await;
        assert_eq!((reply.status, reply.code()), (status, code), "{body}");
    }
    // The refused operation is named by its index, not in the message's text.
    for second in [
        json!({"id": "a:2", "op": {"op": "add", "sku": TV, "quantity": 1}}),
        add("a:2", "a", 2, "NOPE-1"),
    ] {
        let body = json!({"cursor": 0, "ops": [good.clone(), second]});
        let reply = app
            .post(&format!("/api/carts/{cart}/sync"), &body.to_string(), None)
            .await;
        assert_eq!(reply.json["error"]["op_index"], 1, "{}", reply.json);
    }
    let malformed = app
        .post(
            &format!("/api/carts/{cart}/sync"),
            "{\"cursor\": 0, \"ops\": [",
            None,
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let huge = json!({"cursor": 0, "ops": [op("a:9", "a", 9, json!({"op": "remove", "sku": "X".repeat(70_000)}))]});
    assert_eq!(
        app.post(&format!("/api/carts/{cart}/sync"), &huge.to_string(), None)
            .await
            .status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let after = sync(&app, &cart, 0, &[], None).await;
    assert_eq!(
        (after.json["cursor"].clone(), lines(&after)),
        (json!(0), json!([])),
        "nothing was stored"
    );
}

#[tokio::test]
async fn nobody_syncs_another_customers_cart() {
    let app = TestApp::new().await;
    let (mike, mike_cart) = app.sign_in(MIKE).await;
    let (kylie, _) = app.sign_in(KYLIE).await;
    for cookie in [Some(kylie.as_str()), None] {
        let reply = sync(&app, &mike_cart, 0, &[add("k:1", "kylie", 1, TV)], cookie).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{cookie:?}"
        );
    }
    let mine = sync(&app, &mike_cart, 0, &[], Some(&mike)).await;
    assert_eq!(
        (mine.json["cursor"].clone(), lines(&mine)),
        (json!(0), json!([]))
    );
}

#[tokio::test]
async fn edits_through_the_versioned_endpoint_join_the_log() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let edited = app
        .edit(
            &cart,
            1,
            &format!(r#"[{{"op":"add","sku":"{TV}","quantity":2}}]"#),
            None,
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    let pulled = sync(
        &app,
        &cart,
        0,
        &[op(
            "a:1",
            "a",
            now_ms() + 60 * 60 * 1000,
            json!({"op": "set_quantity", "sku": TV, "quantity": 1}),
        )],
        None,
    )
    .await;
    let ops = pulled.json["ops"].as_array().unwrap();
    assert_eq!(ops[0]["stamp"]["device"], "server");
    assert_eq!(ops[0]["seen"], 0);
    assert_eq!(
        lines(&pulled),
        json!([{"sku": TV, "quantity": 1}]),
        "the later edit wins"
    );
}

#[tokio::test]
async fn long_logs_are_compacted_and_devices_catch_up_from_the_base() {
    use omnicart_engine::replica::{Base, OpLog, Operation};
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let skus = [TV, "PS5-PRO", "CBL-HDMI21-2M", "XBX-SERIES-S"];
    let all: Vec<Value> = (0..300u64)
        .map(|i| {
            let sku = skus[(i % 4) as usize];
            let edit = match i % 3 {
                0 => json!({"op": "add", "sku": sku, "quantity": 1}),
                1 => json!({"op": "set_quantity", "sku": sku, "quantity": 1 + i % 5}),
                _ => json!({"op": "remove", "sku": skus[((i / 3) % 4) as usize]}),
            };
            op(&format!("a:{i}"), "a", 1_000 + i, edit)
        })
        .collect();
    let mut generation = 0;
    let mut cursor = 0;
    for chunk in all.chunks(100) {
        let body = json!({"cursor": cursor, "generation": generation, "ops": chunk});
        let reply = app
            .post(&format!("/api/carts/{cart}/sync"), &body.to_string(), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        (cursor, generation) = (
            reply.json["cursor"].as_i64().unwrap(),
            reply.json["generation"].as_i64().unwrap(),
        );
    }
    assert_eq!(
        (cursor, generation),
        (300, 1),
        "compacted once, when the log passed 256"
    );
    // The cart is what the whole log makes.
    let mut full = OpLog::new();
    for o in &all {
        full.insert(serde_json::from_value(o.clone()).unwrap())
            .unwrap();
    }
    let server = app
        .post(
            &format!("/api/carts/{cart}/sync"),
            &json!({"cursor": cursor, "generation": 1}).to_string(),
            None,
        )
        .await;
    assert_eq!(
        server.json["cart"]["cart"],
        serde_json::to_value(full.cart()).unwrap()
    );
    assert!(
        server.json.get("base").is_none(),
        "a device at the current generation gets no base"
    );
    // A device that last synced before the compaction gets the base and what follows it.
    let behind = app
        .post(
            &format!("/api/carts/{cart}/sync"),
            &json!({"cursor": 10, "generation": 0}).to_string(),
            None,
        )
        .await;
    let base: Base = serde_json::from_value(behind.json["base"].clone()).unwrap();
    let ops: Vec<Operation> = serde_json::from_value(behind.json["ops"].clone()).unwrap();
    assert!(
        ops.len() < 300 - 256 + 64 + 1,
        "{} operations after the base",
        ops.len()
    );
    let mut rebuilt = OpLog::with_base(base);
    for o in ops {
        rebuilt.insert(o).unwrap();
    }
    assert_eq!(rebuilt.cart(), full.cart());
    // A folded operation pushed again is still known: nothing changes.
    let replay = app
        .post(
            &format!("/api/carts/{cart}/sync"),
            &json!({"cursor": cursor, "generation": 1, "ops": [all[0].clone()]}).to_string(),
            None,
        )
        .await;
    assert_eq!(
        (replay.json["cursor"].as_i64(), replay.json["ops"].clone()),
        (Some(300), json!([]))
    );
    assert_eq!(
        replay.json["cart"]["version"],
        server.json["cart"]["version"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn devices_pushing_at_once_all_get_in_with_distinct_cursors() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let skus = [TV, "PS5-PRO", "CBL-HDMI21-2M", "XBX-SERIES-S"];
    let tasks: Vec<_> = (0..12u64)
        .map(|i| {
            let router = app.router.clone();
            let body = json!({"cursor": 0, "ops": [add(&format!("d{i}:1"), &format!("d{i}"), 100 + i, skus[(i % 4) as usize])]}).to_string();
            let uri = format!("/api/carts/{cart}/sync");
            tokio::spawn(async move {
                let request = Request::post(uri).header(header::CONTENT_TYPE, "application/json").body(Body::from(body)).unwrap();
                TestApp { router, dir: tempfile::tempdir().unwrap() }.raw(request).await
            })
        })
        .collect();
    let mut cursors = Vec::new();
    for t in tasks {
        let reply = t.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        cursors.push(reply.json["cursor"].as_i64().unwrap());
    }
    let all = sync(&app, &cart, 0, &[], None).await;
    let seqs = all.json["ops"].as_array().unwrap().len();
    assert_eq!(
        (all.json["cursor"].as_i64(), seqs),
        (Some(12), 12),
        "every push stored, once"
    );
    assert_eq!(all.json["cart"]["version"], 13, "one version per push");
    assert!(cursors.iter().all(|c| (1..=12).contains(c)));
}

#[tokio::test]
async fn an_older_edit_arriving_late_is_merged_by_stamp_not_by_arrival() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let set = |id: &str, device: &str, ms: u64, q: u32| {
        op(
            id,
            device,
            ms,
            json!({"op": "set_quantity", "sku": TV, "quantity": q}),
        )
    };
    sync(
        &app,
        &cart,
        0,
        &[
            add("laptop:1", "laptop", 10, TV),
            set("laptop:2", "laptop", 50, 3),
        ],
        None,
    )
    .await;
    // The phone was offline: its edit (stamped 40) arrives after the laptop's (stamped 50).
    let late = sync(&app, &cart, 0, &[set("phone:1", "phone", 40, 5)], None).await;
    assert_eq!(
        lines(&late),
        json!([{"sku": TV, "quantity": 3}]),
        "the later edit (by stamp) wins"
    );
    // And an edit newer than everything applies on top.
    let newer = sync(&app, &cart, 0, &[set("phone:2", "phone", 60, 2)], None).await;
    assert_eq!(lines(&newer), json!([{"sku": TV, "quantity": 2}]));
}

#[tokio::test]
async fn an_operation_the_log_has_is_answered_as_stored_even_after_the_catalogue_changed() {
    let (app, db) = TestApp::with_database().await;
    let cart = app.anonymous_cart().await;
    sync(&app, &cart, 0, &[add("a:1", "a", 1, TV)], None).await;
    // "a:2" added an item the catalogue has since withdrawn; the device never heard back.
    let gone = op(
        "a:2",
        "a",
        2,
        json!({"op": "add", "sku": "GONE-1", "quantity": 1}),
    );
    sqlx::query("INSERT INTO cart_ops (cart_id, received_at, seq, op_id, body) VALUES ($1, 0, 2, 'a:2', $2)")
        .bind(&cart)
        .bind(gone.to_string())
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE carts SET log_seq = 2, live = 2 WHERE id = $1")
        .bind(&cart)
        .execute(db.pool())
        .await
        .unwrap();
    // Sent again, it is acknowledged (not refused as unknown, which would tell the shopper the
    // edit was undone while the log keeps it) …
    let again = sync(&app, &cart, 1, std::slice::from_ref(&gone), None).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["cursor"], 2);
    // … while a new operation naming that SKU is refused, and stores nothing.
    let new = sync(
        &app,
        &cart,
        2,
        &[op(
            "a:3",
            "a",
            3,
            json!({"op": "add", "sku": "GONE-1", "quantity": 1}),
        )],
        None,
    )
    .await;
    assert_eq!(
        (new.status, new.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_sku"),
        "{}",
        new.json
    );
    assert_eq!(sync(&app, &cart, 0, &[], None).await.json["cursor"], 2);
}

#[tokio::test]
async fn a_device_cannot_silence_the_server_with_its_stamps() {
    let app = TestApp::new().await;
    let cart = app.anonymous_cart().await;
    let set = |id: &str, ms: u64, counter: u64, q: u32| {
        json!({"id": id, "stamp": {"ms": ms, "counter": counter, "device": "zzzz"},
               "op": {"op": "set_quantity", "sku": TV, "quantity": q}})
    };
    let year = 365 * 24 * 60 * 60 * 1000;
    // The report's push: a year ahead with the counter at its maximum; 2^53 + 1; a full
    // counter now. Each is refused by index and stores nothing.
    for (i, bad) in [
        set("z:1", now_ms() + year, u64::from(u32::MAX), 5),
        set("z:2", (1 << 53) + 1, 0, 5),
        set("z:3", now_ms(), u64::from(u32::MAX), 5),
        set("z:4", now_ms() + 25 * 60 * 60 * 1000, 0, 5),
    ]
    .into_iter()
    .enumerate()
    {
        let refused = sync(&app, &cart, 0, &[add("ok:1", "a", 1, TV), bad], None).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "case {i}");
        assert_eq!(refused.code(), "stamp_out_of_range", "case {i}");
        assert_eq!(refused.json["error"]["op_index"], 1, "case {i}");
    }
    let pulled = sync(&app, &cart, 0, &[], None).await;
    assert_eq!(pulled.json["cursor"], 0, "nothing was stored");
    // The worst a device may do: 23 hours ahead, at the largest counter it may use.
    let ahead = now_ms() + 23 * 60 * 60 * 1000;
    let limit = u64::from(omnicart_engine::replica::MAX_DEVICE_COUNTER);
    let pushed = sync(&app, &cart, 0, &[set("z:5", ahead, limit, 5)], None).await;
    assert_eq!(pushed.status, StatusCode::OK);
    assert_eq!(lines(&pushed), json!([{"sku": TV, "quantity": 5}]));
    // The shopper's edit through the versioned endpoint still wins, and stays won.
    let version = pushed.json["cart"]["version"].as_i64().unwrap();
    let edited = app
        .edit(
            &cart,
            version,
            &format!(r#"[{{"op":"set_quantity","sku":"{TV}","quantity":2}}]"#),
            None,
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    assert_eq!(
        edited.json["cart"]["lines"],
        json!([{"sku": TV, "quantity": 2}])
    );
    let stored = app.get(&format!("/api/carts/{cart}"), None).await;
    assert_eq!(
        stored.json["cart"]["lines"],
        json!([{"sku": TV, "quantity": 2}])
    );
}
