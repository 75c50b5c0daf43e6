//! Lambda entry for the invoicing API: build clients once, then serve.

fn main() {}
