//! Mail: the order confirmation with its invoice, rendered at placement and written to the
//! mail outbox in the order's transaction ([`invoice`], [`crate::store::mail`]), and the
//! sender that delivers the outbox afterwards ([`Mailer`], [`spawn_sender`]): through SMTP
//! (`lettre`) when `OMNICART_SMTP_URL` is set, else into a folder that `GET /dev/mail`
//! lists. A mail is marked sent only after delivery, so a crash sends it again (at least
//! once), never not at all. A sender claims each mail before sending it (two server
//! processes do not both send it), and a mail that fails waits before its next try, twice as
//! long each time up to an hour ([`retry_delay`]), while newer mail goes ahead.
//!
//! **The invoice's tax lines** are the engine's: the order keeps the quote's lines, each with
//! its tax and the rate it was taxed at, and `omnicart_engine::tax_lines` sums them per rate;
//! they add up to the order's tax total exactly. The server looks no rate up itself.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use omnicart_engine::TaxLine;
use omnicart_order::Order;
use rust_decimal::Decimal;

use crate::error::AppError;
use crate::ids::now_unix;
use crate::store::Db;
use crate::store::mail::{self, Mail};

/// How often the sender looks for unsent mail.
pub const SEND_EVERY: Duration = Duration::from_secs(2);
/// Mails sent per round.
const BATCH: i64 = 50;
/// How long a sender holds a claimed mail: longer than a send can take (each SMTP reply is
/// awaited at most [`SMTP_TIMEOUT`]), so no other sender sends it meanwhile.
const CLAIM_SECONDS: i64 = 300;
/// How long the sender waits for each answer of the relay (lettre's default is a minute).
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);
/// The first retry of a failed mail waits this long, each further one twice as long as the
/// one before, up to [`MAX_RETRY_SECONDS`].
const FIRST_RETRY_SECONDS: i64 = 10;
const MAX_RETRY_SECONDS: i64 = 3600;

/// A tax rate as the invoice prints it: `0.19` is `19%`, `0.055` is `5.5%`.
fn percent(rate: Decimal) -> String {
    format!("{}%", (rate * Decimal::ONE_HUNDRED).normalize())
}

/// The confirmation with the invoice for a placed order: plain text and simple HTML.
pub fn invoice(order: &Order) -> Result<Mail, AppError> {
    let number = order.number.to_string();
    let taxes = order.tax_lines().map_err(AppError::internal)?;
    let mut text = format!(
        "Thank you for your order, {}.\n\nOrder {number}\n\n",
        order.contact.name
    );
    let mut rows = String::new();
    for line in &order.lines {
        let _ = writeln!(
            text,
            "{} x {} ({})  {}",
            line.quantity.get(),
            line.name,
            line.sku,
            line.total
        );
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            line.quantity.get(),
            escape(&line.name),
            line.total
        );
    }
    let totals = totals(order, &taxes, &mut text);
    let address = order.shipping_address.as_ref().map(|a| {
        let mut lines = vec![a.name.clone()];
        lines.extend(a.street.iter().cloned());
        lines.push(format!("{} {}", a.postcode, a.city));
        lines.push(a.country.clone());
        lines
    });
    if let Some(lines) = &address {
        let _ = write!(text, "\nDelivery address:\n{}\n", lines.join("\n"));
    }
    let address_html = address.map_or_else(String::new, |lines| {
        let lines: Vec<String> = lines.iter().map(|l| escape(l)).collect();
        format!("<h2>Delivery address</h2><p>{}</p>", lines.join("<br>"))
    });
    let html = format!(
        "<!doctype html><meta charset=utf-8><title>Order {number}</title><h1>Order {number}</h1><p>Thank you for your order, {}.</p><table>{rows}{totals}</table>{address_html}",
        escape(&order.contact.name)
    );
    // One element a line, so the part stays readable (and 8bit) in the mail.
    let html = html
        .replace("</tr>", "</tr>\n")
        .replace("</h1>", "</h1>\n")
        .replace("</p>", "</p>\n");
    Ok(Mail {
        recipient: order.contact.email.clone(),
        subject: format!("Your order {number}"),
        text,
        html,
    })
}

/// The totals and the tax lines: appended to `text`, returned as HTML table rows.
fn totals(order: &Order, taxes: &[TaxLine], text: &mut String) -> String {
    let t = &order.totals;
    let sums = [
        ("Subtotal", t.subtotal),
        ("Discounts", t.discount_total),
        ("Delivery", t.delivery),
    ];
    let mut totals = String::new();
    for (label, amount) in sums {
        let _ = writeln!(*text, "{label}: {amount}");
        let _ = write!(
            totals,
            "<tr><td colspan=2>{label}</td><td>{amount}</td></tr>"
        );
    }
    let included = if t.prices_include_tax {
        "included"
    } else {
        "added"
    };
    for tax in taxes {
        let rate = percent(tax.rate);
        let _ = writeln!(*text, "VAT {rate} ({included}): {}", tax.tax);
        let _ = write!(
            totals,
            "<tr><td colspan=2>VAT {rate} ({included})</td><td>{}</td></tr>",
            tax.tax
        );
    }
    let _ = writeln!(*text, "Tax total: {}\nTotal: {}", t.tax_total, t.total);
    let _ = write!(
        totals,
        "<tr><td colspan=2>Tax total</td><td>{}</td></tr><tr><th colspan=2>Total</th><th>{}</th></tr>",
        t.tax_total, t.total
    );
    totals
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Where the sender delivers mail.
pub enum Mailer {
    /// Each mail as a file `<id>.eml` in the folder (development: listed at `/dev/mail`).
    Folder(PathBuf),
    Smtp {
        transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
        from: lettre::message::Mailbox,
    },
}

impl Mailer {
    /// The mailer `config` names: SMTP at `OMNICART_SMTP_URL` if set, else the mail folder.
    pub fn from_config(config: &crate::config::Config) -> Result<Mailer, String> {
        match &config.smtp_url {
            Some(url) => Mailer::smtp(url, &config.mail_from),
            None => Ok(Mailer::Folder(config.mail_dir.clone())),
        }
    }

    /// SMTP at `url` (`smtp://host:port`, plain, for a local relay) from `from`.
    pub fn smtp(url: &str, from: &str) -> Result<Mailer, String> {
        // No TLS is built in (a local relay forwards the mail): `smtp://host[:port]` only.
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| format!("OMNICART_SMTP_URL={url}: expected smtp://host[:port]"))?;
        let (host, port) = match rest.trim_end_matches('/').rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse()
                    .map_err(|_| format!("OMNICART_SMTP_URL={url}: not a port"))?,
            ),
            None => (rest.trim_end_matches('/'), 25),
        };
        let transport =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(host)
                .port(port)
                .timeout(Some(SMTP_TIMEOUT))
                .build();
        let from = from
            .parse()
            .map_err(|e| format!("OMNICART_MAIL_FROM: {e}"))?;
        Ok(Mailer::Smtp { transport, from })
    }

    async fn deliver(&self, id: &str, mail: &Mail) -> Result<(), String> {
        match self {
            Mailer::Folder(dir) => {
                let from = crate::config::DEFAULT_MAIL_FROM
                    .parse()
                    .map_err(|e| format!("{e}"))?;
                let message = message(&from, mail)?;
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| e.to_string())?;
                // Written aside, then renamed: the folder never shows half a mail.
                let part = dir.join(format!("{id}.eml.part"));
                tokio::fs::write(&part, message.formatted())
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::fs::rename(&part, dir.join(format!("{id}.eml")))
                    .await
                    .map_err(|e| e.to_string())
            }
            Mailer::Smtp { transport, from } => {
                use lettre::AsyncTransport;
                transport
                    .send(message(from, mail)?)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

fn message(from: &lettre::message::Mailbox, mail: &Mail) -> Result<lettre::Message, String> {
    use lettre::message::header::{ContentTransferEncoding, ContentType};
    use lettre::message::{Body, MultiPart, SinglePart};
    // 8bit, not quoted-printable: the mail's lines are short, and the files stay readable.
    // (A body 8bit cannot carry, with a line too long, is left to lettre to encode.)
    let part = |kind: ContentType, body: &str| {
        let body = Body::new_with_encoding(body.to_owned(), ContentTransferEncoding::EightBit)
            .unwrap_or_else(Body::new);
        SinglePart::builder().header(kind).body(body)
    };
    lettre::Message::builder()
        .from(from.clone())
        .to(mail
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?)
        .subject(&mail.subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, &mail.text))
                .singlepart(part(ContentType::TEXT_HTML, &mail.html)),
        )
        .map_err(|e| e.to_string())
}

/// Delivers the mail that is due; how many were sent. Each mail is claimed first, so two
/// senders (two server processes) never send it both. A mail that fails is tried again
/// later, after [`retry_delay`]: the outbox's other mail goes first meanwhile.
pub async fn deliver_pending(db: &Db, mailer: &Mailer) -> Result<usize, AppError> {
    let mut sent = 0;
    for pending in mail::due(db, now_unix(), BATCH).await? {
        let now = now_unix();
        if !mail::claim(db, &pending.id, now, now + CLAIM_SECONDS).await? {
            continue;
        }
        match mailer.deliver(&pending.id, &pending.mail).await {
            Ok(()) => {
                mail::mark_sent(db, &pending.id).await?;
                sent += 1;
            }
            Err(e) => {
                let delay = retry_delay(pending.attempts);
                tracing::warn!(id = pending.id, e, delay, "mail not sent; retried later");
                mail::failed(db, &pending.id, now_unix() + delay, &e).await?;
            }
        }
    }
    Ok(sent)
}

/// Seconds before the next try of a mail that failed `attempts` times before this one.
pub fn retry_delay(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    FIRST_RETRY_SECONDS
        .saturating_mul(1 << doublings)
        .min(MAX_RETRY_SECONDS)
}

/// Runs [`deliver_pending`] every [`SEND_EVERY`] for as long as the process lives.
pub fn spawn_sender(db: Db, mailer: Mailer) -> tokio::task::JoinHandle<()> {
    let mailer = Arc::new(mailer);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SEND_EVERY);
        // A slow round is followed by a pause, not by a burst of rounds.
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if db.pool().is_closed() {
                return;
            }
            if let Err(e) = deliver_pending(&db, &mailer).await {
                tracing::warn!(?e, "mail sender failed");
            }
        }
    })
}
