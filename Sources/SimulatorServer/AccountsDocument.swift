import ProviderSimulators

/// The accounts file: one account per provider, keyed as Switchboard's configuration documents are.
enum AccountsDocument {
    /// The JSON object written to `--accounts-file`.
    static func make(
        accounts: SimulatorAccounts, vonagePrivateKeys: [String], baseURLs: SimulatorBaseURLs
    ) -> [String: Any] {
        var document: [String: Any] = [
            "base_urls": [
                "twilio": baseURLs.twilio, "telnyx": baseURLs.telnyx, "vonage": baseURLs.vonage,
                "vonage_rest": baseURLs.vonageRest, "plivo": baseURLs.plivo,
            ]
        ]
        if let twilio = accounts.twilio.first {
            var entry: [String: Any] = [
                "account_sid": twilio.accountSID, "auth_token": twilio.authToken, "from_numbers": twilio.numbers,
            ]
            // Browser calls need an API key (to sign access tokens) and a TwiML app (whose voice URL the API sets).
            if let key = twilio.apiKeys.first {
                entry["api_key_sid"] = key.sid
                entry["api_key_secret"] = key.secret
            }
            if let application = twilio.applications.first {
                entry["twiml_app_sid"] = application.sid
            }
            document["twilio"] = entry
        }
        if let telnyx = accounts.telnyx.first {
            var entry: [String: Any] = [
                "api_key": telnyx.apiKey, "connection_id": telnyx.connectionIDs.first ?? "",
                "from_numbers": telnyx.numbers, "public_key": telnyx.publicKeyBase64,
            ]
            if let credentialConnection = telnyx.credentialConnectionIDs.first {
                entry["credential_connection_id"] = credentialConnection
            }
            document["telnyx"] = entry
        }
        if let vonage = accounts.vonage.first, let privateKey = vonagePrivateKeys.first {
            document["vonage"] = [
                "api_key": vonage.apiKey, "api_secret": vonage.apiSecret, "application_id": vonage.applicationID,
                "private_key": privateKey, "signature_secret": vonage.signatureSecret, "from_numbers": vonage.numbers,
            ]
        }
        if let plivo = accounts.plivo.first {
            document["plivo"] = [
                "auth_id": plivo.authID, "auth_token": plivo.authToken, "from_numbers": plivo.numbers,
            ]
        }
        return document
    }
}
