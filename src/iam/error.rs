//! Why an Identity Applications call failed, and whether trying again may help.
//!
//! Invariant: no variant carries a token, a credential or a response body; a `Fault` carries
//! the server's subcode and reason text, which name the problem but not the request's data.

/// How a request failed to get an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection was made, so the server saw nothing.
    Connect,
    /// The answer did not come in time; the server may have acted.
    Timeout,
    /// Anything else (a broken connection, an unreadable body).
    Other,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connection failed",
            TransportKind::Timeout => "timed out",
            TransportKind::Other => "request failed",
        })
    }
}

/// Why an Identity Applications (or OSP) call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// HTTP 489 (application error) or 400 (input filter), or a 5xx, with a `Fault` body.
    #[error("Identity Applications refused {path} with {status} {subcode}: {reason}")]
    Fault {
        path: String,
        status: u16,
        subcode: String,
        reason: String,
    },
    /// A 200 answer saying `"success": false` (e.g. a PRD not yet in the permission index).
    #[error("Identity Applications did not carry out {path} (success: false): {reason}")]
    Unsuccessful { path: String, reason: String },
    /// Any other non-2xx answer.
    #[error("Identity Applications answered {path} with HTTP {status}")]
    Status { path: String, status: u16 },
    /// OSP issued no token: `reason` is its OAuth error code, or how the request failed.
    #[error("OSP issued no token: {reason}")]
    Token { status: Option<u16>, reason: String },
    #[error("Identity Applications could not be reached for {path}: {kind}")]
    Transport { path: String, kind: TransportKind },
    #[error("Identity Applications answered {path} outside its contract: {detail}")]
    Contract { path: String, detail: String },
    /// A list kept going for more pages than the client reads.
    #[error("{path} still had entries after {pages} pages; giving up")]
    TooManyPages { path: String, pages: usize },
}

impl IamError {
    /// Whether trying again later may succeed: 5xx, 429, timeouts and connection errors.
    pub fn is_transient(&self) -> bool {
        match self {
            IamError::Fault { status, .. } | IamError::Status { status, .. } => {
                *status >= 500 || *status == 429
            }
            IamError::Token { status, .. } => match status {
                None => true,
                Some(status) => *status >= 500 || *status == 429,
            },
            IamError::Transport { .. } => true,
            IamError::Unsuccessful { .. }
            | IamError::Contract { .. }
            | IamError::TooManyPages { .. } => false,
        }
    }

    /// Whether the failure is transient and the server certainly did not act on the call,
    /// so that a call which creates or decides something may be sent again without acting
    /// twice: no connection, a refusal before processing (429, 503), or no token to send.
    pub(crate) fn surely_unprocessed(&self) -> bool {
        match self {
            IamError::Transport { kind, .. } => *kind == TransportKind::Connect,
            IamError::Status { status, .. } => matches!(status, 429 | 503),
            IamError::Token { .. } => self.is_transient(),
            _ => false,
        }
    }

    /// The HTTP status of the answer, when one came.
    pub fn status(&self) -> Option<u16> {
        match self {
            IamError::Fault { status, .. } | IamError::Status { status, .. } => Some(*status),
            IamError::Token { status, .. } => *status,
            _ => None,
        }
    }

    pub(crate) fn transport(path: &str, error: &reqwest::Error) -> Self {
        IamError::Transport {
            path: path.to_owned(),
            kind: transport_kind(error),
        }
    }
}

/// The kind of a reqwest failure; reqwest's own text names the URL, so it is not kept.
pub(crate) fn transport_kind(error: &reqwest::Error) -> TransportKind {
    if error.is_connect() {
        TransportKind::Connect
    } else if error.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(status: u16) -> IamError {
        IamError::Fault {
            path: "/tasks".into(),
            status,
            subcode: "InvalidEnumValue".into(),
            reason: "bad action".into(),
        }
    }

    fn status(status: u16) -> IamError {
        IamError::Status {
            path: "/tasks".into(),
            status,
        }
    }

    fn transport(kind: TransportKind) -> IamError {
        IamError::Transport {
            path: "/tasks".into(),
            kind,
        }
    }

    fn token(status: Option<u16>) -> IamError {
        IamError::Token {
            status,
            reason: "invalid_grant".into(),
        }
    }

    #[test]
    fn transient_and_unprocessed_failures_are_told_apart() {
        // error, transient, surely unprocessed
        let cases = [
            (fault(489), false, false),
            (fault(400), false, false),
            (fault(500), true, false),
            (status(503), true, true),
            (status(429), true, true),
            (status(502), true, false),
            (status(500), true, false),
            (status(404), false, false),
            (status(401), false, false),
            (transport(TransportKind::Connect), true, true),
            (transport(TransportKind::Timeout), true, false),
            (transport(TransportKind::Other), true, false),
            (token(None), true, true),
            (token(Some(503)), true, true),
            (token(Some(400)), false, false),
            (token(Some(401)), false, false),
            (
                IamError::Unsuccessful {
                    path: "/requests/permissions/v2".into(),
                    reason: "no reason given".into(),
                },
                false,
                false,
            ),
            (
                IamError::Contract {
                    path: "/tasks/list".into(),
                    detail: "x".into(),
                },
                false,
                false,
            ),
        ];

        for (error, transient, unprocessed) in cases {
            assert_eq!(error.is_transient(), transient, "{error}");
            assert_eq!(error.surely_unprocessed(), unprocessed, "{error}");
        }
    }

    #[test]
    fn a_fault_names_its_subcode_and_reason() {
        let text = fault(489).to_string();

        assert!(text.contains("489 InvalidEnumValue: bad action"), "{text}");
        assert_eq!(fault(489).status(), Some(489));
        assert_eq!(transport(TransportKind::Timeout).status(), None);
    }
}
