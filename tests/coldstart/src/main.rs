//! The baseline `tests/coldstart/coldstart.py` compares each function's init with:
//! the smallest Lambda the same runtime crate, release profile and toolchain make.
//! It echoes its event.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<serde_json::Value>| async move {
            Ok::<serde_json::Value, Error>(event.payload)
        },
    ))
    .await
}
