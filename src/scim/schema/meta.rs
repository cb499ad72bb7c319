//! The attributes every resource has (`id`, `externalId`, `meta`) and the discovery schemas
//! (RFC 7643 §8.7.2), which `/Schemas` must publish too.

use super::{attr, Attribute, Kind, Returned, Schema};

const fn read_only(name: &'static str, kind: Kind, description: &'static str) -> Attribute {
    attr(name, kind, description).read_only()
}

const META: &[Attribute] = &[
    read_only(
        "resourceType",
        Kind::String,
        "The name of the resource type",
    )
    .case_exact(),
    read_only(
        "created",
        Kind::DateTime,
        "When the resource was added to the service provider",
    ),
    read_only(
        "lastModified",
        Kind::DateTime,
        "When the resource was last modified",
    ),
    read_only("location", Kind::Reference, "The URI of the resource").refs(&["uri"]),
    read_only(
        "version",
        Kind::String,
        "The version (weak entity tag) of the resource",
    )
    .case_exact(),
];

/// The common attributes (RFC 7643 §3.1); not part of any schema's `attributes`.
pub const COMMON: [Attribute; 3] = [
    read_only(
        "id",
        Kind::String,
        "The service provider's identifier of the resource",
    )
    .case_exact()
    .unique()
    .returned(Returned::Always),
    attr(
        "externalId",
        Kind::String,
        "The provisioning client's identifier of the resource",
    )
    .case_exact(),
    read_only("meta", Kind::Complex, "Resource metadata").subs(META),
];

const SUPPORTED: &[Attribute] = &[read_only(
    "supported",
    Kind::Boolean,
    "Whether the operation is supported",
)
.required()];

const BULK: &[Attribute] = &[
    read_only(
        "supported",
        Kind::Boolean,
        "Whether the operation is supported",
    )
    .required(),
    read_only(
        "maxOperations",
        Kind::Integer,
        "Largest number of operations",
    )
    .required(),
    read_only(
        "maxPayloadSize",
        Kind::Integer,
        "Largest payload size in bytes",
    )
    .required(),
];

const FILTER: &[Attribute] = &[
    read_only("supported", Kind::Boolean, "Whether filtering is supported").required(),
    read_only(
        "maxResults",
        Kind::Integer,
        "Most resources returned in one answer",
    )
    .required(),
];

const AUTHENTICATION_SCHEME: &[Attribute] = &[
    read_only("type", Kind::String, "The authentication scheme")
        .required()
        .canonical(&[
            "oauth",
            "oauth2",
            "oauthbearertoken",
            "httpbasic",
            "httpdigest",
        ]),
    read_only(
        "name",
        Kind::String,
        "The common authentication scheme name",
    )
    .required(),
    read_only("description", Kind::String, "A description of the scheme").required(),
    read_only("specUri", Kind::Reference, "The scheme's specification").refs(&["external"]),
    read_only(
        "documentationUri",
        Kind::Reference,
        "The scheme's documentation",
    )
    .refs(&["external"]),
    read_only(
        "primary",
        Kind::Boolean,
        "Whether this is the preferred scheme",
    ),
];

const SERVICE_PROVIDER_CONFIG_ATTRIBUTES: &[Attribute] = &[
    read_only(
        "documentationUri",
        Kind::Reference,
        "The service provider's help documentation",
    )
    .refs(&["external"]),
    read_only("patch", Kind::Complex, "PATCH configuration options")
        .required()
        .subs(SUPPORTED),
    read_only("bulk", Kind::Complex, "Bulk configuration options")
        .required()
        .subs(BULK),
    read_only("filter", Kind::Complex, "Filter configuration options")
        .required()
        .subs(FILTER),
    read_only(
        "changePassword",
        Kind::Complex,
        "Change password configuration options",
    )
    .required()
    .subs(SUPPORTED),
    read_only("sort", Kind::Complex, "Sort configuration options")
        .required()
        .subs(SUPPORTED),
    read_only("etag", Kind::Complex, "ETag configuration options")
        .required()
        .subs(SUPPORTED),
    read_only(
        "authenticationSchemes",
        Kind::Complex,
        "Supported authentication schemes",
    )
    .multi()
    .required()
    .subs(AUTHENTICATION_SCHEME),
];

pub const SERVICE_PROVIDER_CONFIG: Schema = Schema {
    id: "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
    name: "ServiceProviderConfig",
    description: "Service Provider Configuration",
    attributes: SERVICE_PROVIDER_CONFIG_ATTRIBUTES,
};

const SCHEMA_EXTENSION: &[Attribute] = &[
    read_only("schema", Kind::Reference, "The URI of an extended schema")
        .required()
        .case_exact()
        .refs(&["uri"]),
    read_only(
        "required",
        Kind::Boolean,
        "Whether resources must include the extension",
    )
    .required(),
];

const RESOURCE_TYPE_ATTRIBUTES: &[Attribute] = &[
    read_only("id", Kind::String, "The resource type's identifier"),
    read_only("name", Kind::String, "The resource type's name").required(),
    read_only(
        "description",
        Kind::String,
        "The resource type's description",
    ),
    read_only(
        "endpoint",
        Kind::Reference,
        "The resource type's HTTP endpoint",
    )
    .required()
    .refs(&["uri"]),
    read_only(
        "schema",
        Kind::Reference,
        "The resource type's primary schema URI",
    )
    .required()
    .case_exact()
    .refs(&["uri"]),
    read_only("schemaExtensions", Kind::Complex, "The schema extensions")
        .multi()
        .subs(SCHEMA_EXTENSION),
];

pub const RESOURCE_TYPE: Schema = Schema {
    id: "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
    name: "ResourceType",
    description: "Resource Type",
    attributes: RESOURCE_TYPE_ATTRIBUTES,
};

/// The properties of an attribute definition; `subAttributes` holds the same but its own.
macro_rules! definition {
    ($($extra:expr),*) => {
        &[
            read_only("name", Kind::String, "The attribute's name").required().case_exact(),
            read_only("type", Kind::String, "The attribute's data type").required().canonical(&[
                "string", "complex", "boolean", "decimal", "integer", "dateTime", "reference",
                "binary",
            ]),
            read_only("multiValued", Kind::Boolean, "Whether it is multi-valued").required(),
            read_only("description", Kind::String, "The attribute's description"),
            read_only("required", Kind::Boolean, "Whether it is required"),
            read_only("canonicalValues", Kind::String, "Suggested values").multi(),
            read_only("caseExact", Kind::Boolean, "Whether string values are case-sensitive"),
            read_only("mutability", Kind::String, "When it may be written").canonical(&[
                "readOnly", "readWrite", "immutable", "writeOnly",
            ]),
            read_only("returned", Kind::String, "When it is returned").canonical(&[
                "always", "never", "default", "request",
            ]),
            read_only("uniqueness", Kind::String, "How its values are unique")
                .canonical(&["none", "server", "global"]),
            read_only("referenceTypes", Kind::String, "The types a reference may name").multi(),
            $($extra),*
        ]
    };
}

const SUB_ATTRIBUTE: &[Attribute] = definition!();

const ATTRIBUTE: &[Attribute] = definition!(read_only(
    "subAttributes",
    Kind::Complex,
    "The definitions of the sub-attributes"
)
.multi()
.subs(SUB_ATTRIBUTE));

const SCHEMA_ATTRIBUTES: &[Attribute] = &[
    read_only("id", Kind::Reference, "The unique URI of the schema")
        .required()
        .case_exact(),
    read_only("name", Kind::String, "The schema's name"),
    read_only("description", Kind::String, "The schema's description"),
    read_only(
        "attributes",
        Kind::Complex,
        "The service provider's attributes",
    )
    .multi()
    .required()
    .subs(ATTRIBUTE),
];

pub const SCHEMA: Schema = Schema {
    id: "urn:ietf:params:scim:schemas:core:2.0:Schema",
    name: "Schema",
    description: "Specifies the schema attributes of a resource",
    attributes: SCHEMA_ATTRIBUTES,
};
