//! Small pieces shared by the pages.

mod header;
mod quantity;

pub use header::Header;
pub use quantity::QuantityStepper;
