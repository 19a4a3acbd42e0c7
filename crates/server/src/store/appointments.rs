//! Installers, appointments and the bookings that keep an installer to one visit per slot
//! (migration 0015).

use omnicart_order::Appointment;

use crate::store::{Db, StoreError, WriteTx, parse_json, to_json};

/// A field installer: the feed's record is the stored row.
pub use omnicart_api::InstallerRecord as Installer;
use omnicart_api::InstallerReply;

/// Adds `installers` if there are none yet (the first start).
pub async fn seed_installers(db: &Db, installers: &[Installer]) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM installers")
        .fetch_one(tx.conn())
        .await?;
    if n == 0 {
        for i in installers {
            sqlx::query(
                "INSERT INTO installers (id, name, area, experienced) VALUES ($1, $2, $3, $4)",
            )
            .bind(&i.id)
            .bind(&i.name)
            .bind(&i.area)
            .bind(i64::from(i.experienced))
            .execute(tx.conn())
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Replaces every installer with `installers` (ids unique), in one transaction; refused with
/// the bookings (installer, day, slot) of the installers it would remove, changing nothing.
pub async fn replace_installers(
    db: &Db,
    installers: &[Installer],
) -> Result<Result<InstallerReply, Vec<(String, String, String)>>, StoreError> {
    let mut tx = db.begin_write().await?;
    let rows: Vec<(String, String, String, i64)> =
        sqlx::query_as("SELECT id, name, area, experienced FROM installers ORDER BY id")
            .fetch_all(tx.conn())
            .await?;
    let kept = |id: &str| installers.iter().any(|i| i.id == id);
    let gone: Vec<String> = rows
        .iter()
        .map(|r| r.0.clone())
        .filter(|id| !kept(id))
        .collect();
    // Deleted first, then their bookings read: on PostgreSQL the delete waits for a booking
    // that holds the installer's row (`take`), so the read sees every booking there will be.
    let mut booked = Vec::new();
    for id in &gone {
        sqlx::query("DELETE FROM installers WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        let held: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT installer_id, day, slot FROM installer_bookings WHERE installer_id = $1 ORDER BY day, slot",
        )
        .bind(id)
        .fetch_all(tx.conn())
        .await?;
        booked.extend(held);
    }
    if !booked.is_empty() {
        // Dropped without commit: rolled back, nothing changed.
        return Ok(Err(booked));
    }
    let mut change = InstallerReply {
        added: Vec::new(),
        updated: Vec::new(),
        removed: gone,
    };
    for i in installers {
        let experienced = i64::from(i.experienced);
        match rows.iter().find(|r| r.0 == i.id) {
            Some((_, name, area, was)) if (name, area, *was) == (&i.name, &i.area, experienced) => {
                continue;
            }
            Some(_) => change.updated.push(i.id.clone()),
            None => change.added.push(i.id.clone()),
        }
        sqlx::query("INSERT INTO installers (id, name, area, experienced) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET name = excluded.name, area = excluded.area, experienced = excluded.experienced")
            .bind(&i.id)
            .bind(&i.name)
            .bind(&i.area)
            .bind(experienced)
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await?;
    Ok(Ok(change))
}

/// The area's installers (only experienced ones with `experienced`), by id.
pub async fn installers_in(
    conn: &mut sqlx::AnyConnection,
    area: &str,
    experienced: bool,
) -> Result<Vec<Installer>, StoreError> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as("SELECT id, name, area, experienced FROM installers WHERE area = $1 AND experienced >= $2 ORDER BY id")
        .bind(area)
        .bind(i64::from(experienced))
        .fetch_all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, area, experienced)| Installer {
            id,
            name,
            area,
            experienced: experienced != 0,
        })
        .collect())
}

/// The installer's name (`id` itself if unknown).
pub async fn installer_name(db: &Db, id: &str) -> Result<String, StoreError> {
    let name: Option<(String,)> = sqlx::query_as("SELECT name FROM installers WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(name.map_or_else(|| id.to_owned(), |(n,)| n))
}

/// The bookings of the area's installers from `from_day` to `to_day`: (installer, day, slot).
pub async fn booked_in(
    db: &Db,
    area: &str,
    from_day: &str,
    to_day: &str,
) -> Result<Vec<(String, String, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT b.installer_id, b.day, b.slot FROM installer_bookings b JOIN installers i ON i.id = b.installer_id WHERE i.area = $1 AND b.day >= $2 AND b.day <= $3")
        .bind(area)
        .bind(from_day)
        .bind(to_day)
        .fetch_all(db.pool())
        .await?)
}

/// Books `installer` for `day` and `slot` for the appointment: `false` if it is taken (the
/// primary key refuses a second booking, also against a concurrent one) or the installer is
/// no longer listed. On PostgreSQL the installer's row is held (`FOR SHARE`) until commit, so
/// an installers feed removing them waits and then sees this booking (SQLite has one writer).
pub async fn take(
    tx: &mut WriteTx,
    installer: &str,
    day: &str,
    slot: &str,
    appointment: &str,
) -> Result<bool, StoreError> {
    let hold = if tx.conn().backend_name() == "PostgreSQL" {
        " FOR SHARE"
    } else {
        ""
    };
    let listed: Option<(String,)> =
        sqlx::query_as(&format!("SELECT id FROM installers WHERE id = $1{hold}"))
            .bind(installer)
            .fetch_optional(tx.conn())
            .await?;
    if listed.is_none() {
        return Ok(false);
    }
    let n = sqlx::query("INSERT INTO installer_bookings (installer_id, day, slot, appointment_id) VALUES ($1, $2, $3, $4) ON CONFLICT (installer_id, day, slot) DO NOTHING")
        .bind(installer)
        .bind(day)
        .bind(slot)
        .bind(appointment)
        .execute(tx.conn())
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Frees what the appointment held.
pub async fn release(tx: &mut WriteTx, appointment: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM installer_bookings WHERE appointment_id = $1")
        .bind(appointment)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Adds the appointment; `created_at` is in milliseconds, so an order's visits list in the
/// order they were booked.
pub async fn insert(tx: &mut WriteTx, order_id: &str, a: &Appointment) -> Result<(), StoreError> {
    let now = i64::try_from(crate::ids::now_millis()).unwrap_or(i64::MAX);
    sqlx::query("INSERT INTO appointments (id, order_id, state, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
        .bind(&a.id)
        .bind(order_id)
        .bind(omnicart_order::Machine::name(a.state()))
        .bind(to_json(a)?)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn update(tx: &mut WriteTx, a: &Appointment) -> Result<(), StoreError> {
    sqlx::query("UPDATE appointments SET state = $1, body = $2, updated_at = $3 WHERE id = $4")
        .bind(omnicart_order::Machine::name(a.state()))
        .bind(to_json(a)?)
        .bind(i64::try_from(crate::ids::now_millis()).unwrap_or(i64::MAX))
        .bind(&a.id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The appointment `id` with its order's id, its row locked by this transaction.
pub async fn lock(tx: &mut WriteTx, id: &str) -> Result<Option<(String, Appointment)>, StoreError> {
    sqlx::query("UPDATE appointments SET updated_at = updated_at WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT order_id, body FROM appointments WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    row.map(|(order, body)| Ok((order, parse_json(&body, "appointment body")?)))
        .transpose()
}

/// The order's appointments, first booked first.
pub async fn of_order(
    conn: &mut sqlx::AnyConnection,
    order_id: &str,
) -> Result<Vec<Appointment>, StoreError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT body FROM appointments WHERE order_id = $1 ORDER BY created_at, id")
            .bind(order_id)
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|(b,)| parse_json(b, "appointment body"))
        .collect()
}
