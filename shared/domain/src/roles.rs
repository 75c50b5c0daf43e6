//! Who may do what is decided in the operation; these are the roles it checks.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Finance,
    Manager,
    Member,
    Contractor,
    /// A person at the client: sees only their own client's work.
    Client,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "finance" => Role::Finance,
            "manager" => Role::Manager,
            "member" => Role::Member,
            "contractor" => Role::Contractor,
            "client" => Role::Client,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Finance => "finance",
            Role::Manager => "manager",
            Role::Member => "member",
            Role::Contractor => "contractor",
            Role::Client => "client",
        }
    }
    /// Staff who see the whole agency's books (not limited to their own projects).
    pub fn sees_everything(self) -> bool {
        matches!(self, Role::Admin | Role::Finance | Role::Manager)
    }
    /// People of the agency, who are on teams and record time and expenses:
    /// everyone but client users.
    pub fn works_for_the_agency(self) -> bool {
        self != Role::Client
    }
    /// Staff who set up clients, projects and people.
    pub fn manages_work(self) -> bool {
        matches!(self, Role::Admin | Role::Manager)
    }
}
