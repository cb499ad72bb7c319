//! Roles from the configured claim, and what each admin API route needs.
//!
//! Admin includes every auditor right; approver is separate (an approver sees requests,
//! nothing else).

use serde_json::Value;

/// The role values the IAM puts in the claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleNames {
    pub admin: String,
    pub auditor: String,
    pub approver: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Auditor,
    Approver,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Approver => "approver",
        }
    }
}

/// The roles a token carries (after mapping the IAM's values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    pub admin: bool,
    pub auditor: bool,
    pub approver: bool,
}

impl Roles {
    /// Reads `claim` (exact member first, then a dotted path) as a list of strings or one
    /// space-separated string; unknown values are ignored.
    pub fn from_claims(claims: &Value, claim: &str, names: &RoleNames) -> Roles {
        let value = claims.get(claim).or_else(|| {
            claim
                .split('.')
                .try_fold(claims, |node, part| node.get(part))
        });
        let values: Vec<&str> = match value {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(text)) => text.split_whitespace().collect(),
            _ => Vec::new(),
        };
        let has = |name: &str| !name.is_empty() && values.contains(&name);
        Roles {
            admin: has(&names.admin),
            auditor: has(&names.auditor),
            approver: has(&names.approver),
        }
    }

    pub fn has(self, role: Role) -> bool {
        match role {
            Role::Admin => self.admin,
            Role::Auditor => self.auditor || self.admin,
            Role::Approver => self.approver,
        }
    }

    /// Role names for `whoami`, admin implying auditor.
    pub fn names(self) -> Vec<&'static str> {
        [Role::Admin, Role::Auditor, Role::Approver]
            .into_iter()
            .filter(|role| self.has(*role))
            .map(Role::name)
            .collect()
    }
}

/// What a route asks of a valid token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Any valid token.
    Token,
    /// One of these roles.
    AnyOf(&'static [Role]),
}

impl Need {
    pub fn admits(self, roles: Roles) -> bool {
        match self {
            Need::Token => true,
            Need::AnyOf(wanted) => wanted.iter().any(|role| roles.has(*role)),
        }
    }

    /// "auditor", "approver or auditor", ... for the 403 message.
    pub fn describe(self) -> String {
        match self {
            Need::Token => "any".into(),
            Need::AnyOf(wanted) => wanted
                .iter()
                .map(|role| role.name())
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names() -> RoleNames {
        RoleNames {
            admin: "r-admin".into(),
            auditor: "r-auditor".into(),
            approver: "r-approver".into(),
        }
    }

    #[test]
    fn roles_are_read_from_lists_strings_and_nested_claims() {
        // claims, claim name, admin, auditor, approver
        let cases = [
            (
                json!({ "roles": ["r-admin"] }),
                "roles",
                (true, false, false),
            ),
            (
                json!({ "roles": "r-auditor r-approver" }),
                "roles",
                (false, true, true),
            ),
            (
                json!({ "roles": ["x", 3, "r-approver"] }),
                "roles",
                (false, false, true),
            ),
            (
                json!({ "roles": { "r-admin": true } }),
                "roles",
                (false, false, false),
            ),
            (
                json!({ "groups": ["r-admin"] }),
                "roles",
                (false, false, false),
            ),
            (
                json!({ "realm": { "roles": ["r-auditor"] } }),
                "realm.roles",
                (false, true, false),
            ),
            (
                json!({ "https://x/roles": ["r-admin"] }),
                "https://x/roles",
                (true, false, false),
            ),
            (
                json!({ "roles": ["R-ADMIN", ""] }),
                "roles",
                (false, false, false),
            ),
        ];
        for (claims, claim, (admin, auditor, approver)) in cases {
            let roles = Roles::from_claims(&claims, claim, &names());
            assert_eq!(
                roles,
                Roles {
                    admin,
                    auditor,
                    approver
                },
                "{claims} via {claim}"
            );
        }
    }

    #[test]
    fn admin_includes_auditor_and_approver_stands_apart() {
        let admin = Roles {
            admin: true,
            ..Roles::default()
        };
        let auditor = Roles {
            auditor: true,
            ..Roles::default()
        };
        let approver = Roles {
            approver: true,
            ..Roles::default()
        };
        let nobody = Roles::default();
        let requests = Need::AnyOf(&[Role::Approver, Role::Auditor]);
        // need, admin, auditor, approver, nobody
        let cases = [
            (Need::Token, [true, true, true, true]),
            (Need::AnyOf(&[Role::Auditor]), [true, true, false, false]),
            (Need::AnyOf(&[Role::Admin]), [true, false, false, false]),
            (Need::AnyOf(&[Role::Approver]), [false, false, true, false]),
            (requests, [true, true, true, false]),
        ];
        for (need, expected) in cases {
            let got = [admin, auditor, approver, nobody].map(|roles| need.admits(roles));
            assert_eq!(got, expected, "{need:?}");
        }
        assert_eq!(admin.names(), ["admin", "auditor"]);
        assert_eq!(requests.describe(), "approver or auditor");
    }
}
