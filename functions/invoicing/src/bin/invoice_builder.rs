//! Lambda entry for the invoice-builder queue.

fn main() {}
