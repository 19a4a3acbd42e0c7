//! `GET /dev/mail` and `GET /dev/mail/{file}`: the mail the server wrote to its folder
//! (`OMNICART_MAIL_DIR`), for developers. Mounted only when no SMTP relay is configured, so
//! a shop that sends real mail never lists it.

use std::path::PathBuf;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

/// The developer pages over `dir`.
pub fn router(dir: PathBuf) -> Router {
    Router::new()
        .route("/dev/mail", get(list))
        .route("/dev/mail/{file}", get(show))
        .with_state(dir)
}

/// The mail files in `dir`, newest first.
pub async fn mail_files(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(mut entries) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            let modified = entry.metadata().await.and_then(|m| m.modified()).ok();
            if name.ends_with(".eml") {
                found.push((modified, name));
            }
        }
    }
    found.sort_by(|a, b| b.cmp(a));
    found.into_iter().map(|(_, name)| name).collect()
}

async fn list(State(dir): State<PathBuf>) -> Html<String> {
    let items: String = mail_files(&dir)
        .await
        .iter()
        .map(|name| format!("<li><a href=\"/dev/mail/{name}\">{name}</a></li>"))
        .collect();
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>Mail</title><h1>Mail written to {}</h1><ul>{items}</ul>",
        dir.display()
    ))
}

async fn show(State(dir): State<PathBuf>, Path(file): Path<String>) -> Response {
    // A file name of the folder, not a path: nothing outside it can be read.
    let plain = file
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if !plain || !file.ends_with(".eml") || file.starts_with('.') {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(dir.join(&file)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
