//! omnicart storefront entry point: mounts the app and takes down the skeleton `index.html`
//! shows while the Wasm loads.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(omnicart_storefront::App);
    let document = leptos::prelude::document();
    for id in ["boot", "boot-status"] {
        if let Some(element) = document.get_element_by_id(id) {
            element.remove();
        }
    }
}
