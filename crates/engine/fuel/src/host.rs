//! Runs the guest in wasmtime with fuel metering and prints the fuel one quote consumes
//! (wasmtime charges one unit per Wasm instruction, as Shopify's function-runner counts).
//! Usage: omnicart-fuel GUEST.wasm [LINES PROMOTIONS]

#[cfg(not(target_arch = "wasm32"))]
fn main() -> wasmtime::Result<()> {
    use wasmtime::{Config, Engine, Instance, Module, Store};
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: omnicart-fuel GUEST.wasm [LINES PROMOTIONS]");
    let lines: u32 = args.next().map_or(200, |a| a.parse().unwrap());
    let promotions: u32 = args.next().map_or(1000, |a| a.parse().unwrap());
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config)?;
    let module = Module::from_file(&engine, &path)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    instance
        .get_typed_func::<(u32, u32), ()>(&mut store, "setup")?
        .call(&mut store, (lines, promotions))?;
    let quote = instance.get_typed_func::<(), u32>(&mut store, "quote_once")?;
    quote.call(&mut store, ())?; // warm: first-use allocations are not the steady state
    let before = store.get_fuel()?;
    let applied = quote.call(&mut store, ())?;
    let used = before - store.get_fuel()?;
    println!(
        "{lines} lines x {promotions} promotions: {used} Wasm instructions (fuel), {applied} promotions applied"
    );
    Ok(())
}

#[cfg(target_arch = "wasm32")]
fn main() {}
