//! omnicart storefront: the shopper's journey as a client-side Leptos app.
//!
//! The engine (`omnicart-engine`) runs here, in the page: every cart edit is applied and priced
//! locally and instantly; the server only stores carts and is never asked to price one.
//! Start at [`app::App`]; shared state is [`store::Store`], provided as context.

pub mod api;
pub mod app;
pub mod checkout;
pub mod components;
pub mod device;
pub mod format;
pub mod live;
pub mod routes;
pub mod store;

pub use app::App;
