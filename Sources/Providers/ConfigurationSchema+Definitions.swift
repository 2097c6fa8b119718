extension ConfigurationSchema {
    /// `TWILIO_CONFIGURATION`: account SID and auth token, optionally an API key pair and a TwiML app.
    static let twilio = ConfigurationSchema(
        key: .twilio,
        fields: [
            Field("account_sid", rule: .prefixedHexadecimal(prefix: "AC", hexadecimalCount: 32)),
            Field("auth_token", secret: true, rule: .hexadecimal(count: 32)),
            Field("from_numbers", rule: .phoneNumbers),
            Field("api_key_sid", required: false, rule: .prefixedHexadecimal(prefix: "SK", hexadecimalCount: 32)),
            Field("api_key_secret", required: false, secret: true, rule: .text(maximumLength: 256)),
            Field("twiml_app_sid", required: false, rule: .prefixedHexadecimal(prefix: "AP", hexadecimalCount: 32)),
        ],
        crossFieldRules: [requiredTogether("api_key_sid", "api_key_secret")]
    )

    /// `TELNYX_CONFIGURATION`: API key, connection, and the public key that signs Telnyx webhooks.
    static let telnyx = ConfigurationSchema(
        key: .telnyx,
        fields: [
            Field("api_key", secret: true, rule: .text(maximumLength: 512, allowsWhitespace: false)),
            Field("connection_id", rule: .identifier(maximumLength: 128)),
            Field("from_numbers", rule: .phoneNumbers),
            Field("public_key", rule: .ed25519PublicKey),
            Field("credential_connection_id", required: false, rule: .identifier(maximumLength: 128)),
        ]
    )

    /// `VONAGE_CONFIGURATION`: API key and secret plus an application and its RSA private key.
    static let vonage = ConfigurationSchema(
        key: .vonage,
        fields: [
            Field("api_key", rule: .alphanumeric(maximumLength: 64)),
            Field("api_secret", secret: true, rule: .text(maximumLength: 256)),
            Field("application_id", rule: .uuid),
            Field("private_key", secret: true, rule: .rsaPrivateKeyPEM),
            Field("signature_secret", required: false, secret: true, rule: .text(maximumLength: 256)),
            Field("from_numbers", rule: .phoneNumbers),
        ]
    )

    /// `PLIVO_CONFIGURATION`: auth ID and auth token.
    static let plivo = ConfigurationSchema(
        key: .plivo,
        fields: [
            Field("auth_id", rule: .alphanumeric(maximumLength: 64)),
            Field("auth_token", secret: true, rule: .text(maximumLength: 256, allowsWhitespace: false)),
            Field("from_numbers", rule: .phoneNumbers),
        ]
    )

    /// `TELEPHONY_PROVIDER`: which provider the organization uses; whether it is configured is the caller's check.
    static let telephonyProvider = ConfigurationSchema(
        key: .telephonyProvider,
        fields: [
            Field("provider", rule: .providerName)
        ]
    )

    /// `CALL_POLICY`: where the organization's calls may go and how many it may place; every field
    /// is optional and falls back to its default (see `CallPolicyDocument`).
    static let callPolicy = ConfigurationSchema(
        key: .callPolicy,
        fields: [
            Field("allowed_destination_prefixes", required: false, rule: .destinationPrefixes),
            Field("max_calls_per_minute", required: false, rule: .integer(1...100_000)),
            Field("max_concurrent_calls", required: false, rule: .integer(1...100_000)),
        ]
    )

    /// `RECORDING_POLICY`: whether cold calls are recorded, and what the contact hears first.
    static let recordingPolicy = ConfigurationSchema(
        key: .recordingPolicy,
        fields: [
            Field("mode", rule: .oneOf(RecordingPolicy.Mode.allCases.map(\.rawValue))),
            Field("announcement", required: false, rule: .text(maximumLength: RecordingPolicy.maximumAnnouncementLength)),
        ],
        crossFieldRules: [
            { present in
                present["mode"]?.stringValue == RecordingPolicy.Mode.onWithAnnouncement.rawValue && present["announcement"] == nil
                    ? [FieldError(field: "announcement", problem: "is required when mode is on_with_announcement")] : []
            }
        ]
    )
}
