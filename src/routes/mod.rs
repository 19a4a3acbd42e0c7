//! One module per page.

pub mod account;
pub mod cart;
pub mod checkout;
pub mod feedback;
pub mod home;
pub mod orders;
pub mod placing;
pub mod product;
pub mod returns;
pub mod sign_in;
pub mod sign_up;
pub mod visits;
