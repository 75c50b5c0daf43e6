//! An invoice's life after drafting: issue (a number, for ever), void
//! (keeps its number, hands its work back), write off, and deleting a draft.
//! Every transition is audited and repeating it changes nothing.

pub mod issue;
pub mod void;

pub use issue::issue;
pub use void::{delete_draft, void, write_off};
