//! Command-line refusals that never echo a value: settings carry secrets (SCIM tokens, webhook
//! secrets, broker and database credentials) and clap's own message quotes what it refused.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The message for `error` without the refused value, when it is a value that was refused;
/// `None` for every other error (clap's own message names no value).
pub fn without_value(error: &clap::Error) -> Option<String> {
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }

    let setting = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.clone(),
        _ => "a setting".to_string(),
    };
    let mut message = format!("error: invalid value for '{setting}'");
    if let Some(reason) = std::error::Error::source(error) {
        message.push_str(&format!(": {reason}"));
    }
    if let Some(ContextValue::Strings(valid)) = error.get(ContextKind::ValidValue) {
        message.push_str(&format!(" (one of: {})", valid.join(", ")));
    }
    message.push_str("\n\nFor more information, try '--help'.");
    Some(message)
}

/// Exits as clap would (status 2 for a usage error), without echoing a refused value.
pub fn exit(error: clap::Error) -> ! {
    match without_value(&error) {
        Some(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
        None => error.exit(),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    /// Each row: arguments and environment, the secret that must not show, the setting named.
    #[test]
    fn a_refused_setting_is_named_and_its_value_never_shown() {
        let cases = [
            (
                vec![
                    "serve",
                    "--scim-tokens",
                    "idm=a-long-random-token-for-idm,bad",
                ],
                "a-long-random-token-for-idm",
                "--scim-tokens",
            ),
            (
                vec!["serve", "--scim-tokens", "idm=short-secret"],
                "short-secret",
                "--scim-tokens",
            ),
            (
                vec![
                    "serve",
                    "--clickup-webhook-secrets",
                    "hook1=S3cretS3cret,broken",
                ],
                "S3cretS3cret",
                "--clickup-webhook-secrets",
            ),
            (
                vec![
                    "serve",
                    "--amqp-url",
                    "amqp://user:SECRETPASS@127.0.0.1:notaport/%2f",
                ],
                "SECRETPASS",
                "--amqp-url",
            ),
        ];
        for (args, secret, setting) in cases {
            let error =
                Cli::try_parse_from(std::iter::once("clickup-iam-router").chain(args.clone()))
                    .err()
                    .unwrap_or_else(|| panic!("{setting} was accepted"));

            let message = without_value(&error)
                .unwrap_or_else(|| panic!("{setting}: {:?} {error}", error.kind()));

            assert!(!message.contains(secret), "{message}");
            assert!(message.contains(setting), "{message}");
            assert!(
                error.to_string().contains(secret),
                "clap's own text quotes it: {setting}"
            );
        }
    }

    #[test]
    fn other_usage_errors_keep_claps_message() {
        let error = Cli::try_parse_from(["clickup-iam-router", "no-such-command"]).unwrap_err();

        assert_eq!(without_value(&error), None);
    }
}
