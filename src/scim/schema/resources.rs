//! The resource schemas served: core User, the enterprise User extension and core Group
//! (RFC 7643 §4, §8.7.1).

use super::{attr, Attribute, Kind, Mutability, Returned, Schema};

const fn string(name: &'static str, description: &'static str) -> Attribute {
    attr(name, Kind::String, description)
}

const fn boolean(name: &'static str, description: &'static str) -> Attribute {
    attr(name, Kind::Boolean, description)
}

const fn complex(name: &'static str, description: &'static str) -> Attribute {
    attr(name, Kind::Complex, description)
}

/// `value` (given), `display`, `type` (with its canonical values) and `primary`: the
/// sub-attributes of most multi-valued attributes.
macro_rules! multi_valued {
    ($value:expr, $types:expr) => {
        &[
            $value,
            string(
                "display",
                "A human-readable name, primarily used for display purposes",
            ),
            string("type", "A label indicating the attribute's function").canonical($types),
            boolean(
                "primary",
                "Indicates the 'primary' or preferred attribute value",
            ),
        ]
    };
}

const NAME: &[Attribute] = &[
    string("formatted", "The full name, formatted for display"),
    string("familyName", "The family name, or last name"),
    string("givenName", "The given name, or first name"),
    string("middleName", "The middle name(s)"),
    string("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'"),
    string("honorificSuffix", "The honorific suffix(es), e.g. 'III'"),
];

const ADDRESS: &[Attribute] = &[
    string(
        "formatted",
        "The full mailing address, formatted for display",
    ),
    string("streetAddress", "The full street address component"),
    string("locality", "The city or locality component"),
    string("region", "The state or region component"),
    string("postalCode", "The zip code or postal code component"),
    string("country", "The country name component"),
    string("type", "A label indicating the attribute's function")
        .canonical(&["work", "home", "other"]),
    boolean("primary", "Indicates the primary mailing address"),
];

const GROUPS: &[Attribute] = &[
    string("value", "The identifier of the User's group").read_only(),
    attr(
        "$ref",
        Kind::Reference,
        "The URI of the corresponding 'Group' resource",
    )
    .refs(&["User", "Group"])
    .read_only(),
    string("display", "The group's display name").read_only(),
    string("type", "Direct or indirect membership")
        .canonical(&["direct", "indirect"])
        .read_only(),
];

const USER_ATTRIBUTES: &[Attribute] = &[
    string(
        "userName",
        "Unique identifier for the User, typically used to sign in",
    )
    .required()
    .unique(),
    complex("name", "The components of the user's real name").subs(NAME),
    string("displayName", "The name of the User, suitable for display"),
    string("nickName", "The casual way to address the user"),
    attr(
        "profileUrl",
        Kind::Reference,
        "A URI of the User's online profile",
    )
    .refs(&["external"]),
    string("title", "The user's title, such as 'Vice President'"),
    string(
        "userType",
        "The relationship between the organization and the user",
    ),
    string(
        "preferredLanguage",
        "The User's preferred written or spoken language",
    ),
    string("locale", "The User's default location, e.g. 'en-US'"),
    string(
        "timezone",
        "The User's time zone in the IANA 'Olson' format",
    ),
    boolean("active", "The User's administrative status"),
    string(
        "password",
        "The User's cleartext password; accepted and never stored",
    )
    .mutability(Mutability::WriteOnly)
    .returned(Returned::Never),
    complex("emails", "Email addresses for the user")
        .multi()
        .subs(multi_valued!(
            string("value", "Email address for the user"),
            &["work", "home", "other"]
        )),
    complex("phoneNumbers", "Phone numbers for the User")
        .multi()
        .subs(multi_valued!(
            string("value", "Phone number of the User"),
            &["work", "home", "mobile", "fax", "pager", "other"]
        )),
    complex("ims", "Instant messaging addresses for the User")
        .multi()
        .subs(multi_valued!(
            string("value", "Instant messaging address for the User"),
            &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]
        )),
    complex("photos", "URLs of photos of the User")
        .multi()
        .subs(multi_valued!(
            attr("value", Kind::Reference, "URL of a photo of the User").refs(&["external"]),
            &["photo", "thumbnail"]
        )),
    complex("addresses", "A physical mailing address for this User")
        .multi()
        .subs(ADDRESS),
    complex(
        "groups",
        "The groups the user belongs to, direct members only",
    )
    .multi()
    .read_only()
    .subs(GROUPS),
    complex("entitlements", "Entitlements the User has")
        .multi()
        .subs(multi_valued!(
            string("value", "The value of an entitlement"),
            &[]
        )),
    complex("roles", "Roles the User has")
        .multi()
        .subs(multi_valued!(string("value", "The value of a role"), &[])),
    complex("x509Certificates", "X.509 certificates issued to the User")
        .multi()
        .subs(multi_valued!(
            attr("value", Kind::Binary, "The value of an X.509 certificate"),
            &[]
        )),
];

pub const USER: Schema = Schema {
    id: "urn:ietf:params:scim:schemas:core:2.0:User",
    name: "User",
    description: "User Account",
    attributes: USER_ATTRIBUTES,
};

const MANAGER: &[Attribute] = &[
    string(
        "value",
        "The id of the SCIM resource representing the User's manager",
    ),
    attr(
        "$ref",
        Kind::Reference,
        "The URI of the SCIM resource of the manager",
    )
    .refs(&["User"]),
    string("displayName", "The displayName of the User's manager").read_only(),
];

const ENTERPRISE_ATTRIBUTES: &[Attribute] = &[
    string(
        "employeeNumber",
        "Numeric or alphanumeric identifier assigned to a person",
    ),
    string("costCenter", "Identifies the name of a cost center"),
    string("organization", "Identifies the name of an organization"),
    string("division", "Identifies the name of a division"),
    string("department", "Identifies the name of a department"),
    complex("manager", "The User's manager").subs(MANAGER),
];

pub const ENTERPRISE_USER: Schema = Schema {
    id: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: ENTERPRISE_ATTRIBUTES,
};

const MEMBERS: &[Attribute] = &[
    string("value", "Identifier of the member of this Group")
        .case_exact()
        .mutability(Mutability::Immutable),
    attr("$ref", Kind::Reference, "The URI of the member resource")
        .refs(&["User", "Group"])
        .mutability(Mutability::Immutable),
    string("display", "A human-readable name of the member"),
    string("type", "The type of the member")
        .canonical(&["User", "Group"])
        .mutability(Mutability::Immutable),
];

const GROUP_ATTRIBUTES: &[Attribute] = &[
    string("displayName", "A human-readable name for the Group").required(),
    complex("members", "A list of members of the Group")
        .multi()
        .subs(MEMBERS),
];

pub const GROUP: Schema = Schema {
    id: "urn:ietf:params:scim:schemas:core:2.0:Group",
    name: "Group",
    description: "Group",
    attributes: GROUP_ATTRIBUTES,
};
