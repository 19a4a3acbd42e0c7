//! Small pieces shared by the pages.

mod delivery;
mod header;
mod quantity;

pub use delivery::DestinationForm;
pub use header::Header;
pub use quantity::QuantityStepper;
