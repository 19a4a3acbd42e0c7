//! One test over a real socket: the server as shoppers reach it.

mod common;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn serves_the_snapshot_over_real_http() {
    let dir = tempfile::tempdir().unwrap();
    let state = common::state(&dir).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, omnicart_server::app(state, None))
            .await
            .unwrap()
    });

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET /api/snapshot HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.to_ascii_lowercase().contains("etag: \""), "{head}");
    let snapshot: omnicart_engine::Snapshot =
        serde_json::from_str(body).expect("the body is a valid snapshot");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::DEMO_CATALOGUE).unwrap()).unwrap();
    assert_eq!(snapshot.version(), file["version"].as_str().unwrap());
}
