//! One module per page.

pub mod account;
pub mod cart;
pub mod home;
pub mod product;
pub mod sign_in;
pub mod sign_up;
