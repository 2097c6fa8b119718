import Foundation
import Hummingbird
import Persistence
import Providers

/// `GET /console/overview`: which providers are configured, the default, each one's last
/// credential check, what is missing for webhooks or browser calls, and the webhook URLs to paste
/// into each provider's console.
struct ConsoleOverviewController {
    let configurations: ConfigurationStore
    let publicURL: String
    let database: DatabaseAvailability

    struct Webhook: Sendable {
        let label: String
        let url: String
    }

    struct ProviderRow: Sendable {
        let name: String
        let title: String
        let configured: Bool
        let isDefault: Bool
        let checkedAt: String?
        let checkError: String?
        let checkedOK: Bool
        let warnings: [String]
        let webhooks: [Webhook]
    }

    struct Content: Sendable {
        let providers: [ProviderRow]
        let noneConfigured: Bool
        let defaultProvider: String?
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        ConsoleRoutes.on(router, .get, "/overview", use: overview)
    }

    @Sendable func overview(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let session = context.consoleSession else { throw ConsoleError.signInRequired(from: request.uri.path) }
        let organizationID = session.user.organizationID
        let (configurations, logger) = (self.configurations, context.logger)
        let (stored, validations) = try await database.bounded {
            (
                try await configurations.list(organizationID: organizationID, logger: logger),
                try await configurations.validations(organizationID: organizationID, logger: logger)
            )
        }
        var documents: [String: [String: Any]] = [:]
        for configuration in stored {
            documents[configuration.key] =
                (try? JSONSerialization.jsonObject(with: Data(configuration.publicDocument.utf8))) as? [String: Any] ?? [:]
        }
        let defaultProvider = documents[ConfigurationKey.telephonyProvider.rawValue]?["provider"] as? String
        let rows = ConfigurationKey.allCases.compactMap { key -> ProviderRow? in
            guard let provider = key.provider else { return nil }
            let document = documents[key.rawValue]
            let validation = validations.first { $0.key == key.rawValue }
            return ProviderRow(
                name: provider.rawValue, title: Self.title(provider), configured: document != nil,
                isDefault: defaultProvider == provider.rawValue,
                checkedAt: ConsoleFormat.date(validation?.validatedAt), checkError: validation?.error,
                checkedOK: validation?.validatedAt != nil && validation?.error == nil,
                warnings: document.map { Self.warnings(provider, $0) } ?? [],
                webhooks: document == nil ? [] : Self.webhooks(provider, organizationID: organizationID, publicURL: publicURL))
        }
        let content = Content(
            providers: rows, noneConfigured: !rows.contains(where: \.configured),
            defaultProvider: defaultProvider.flatMap(ProviderName.init(rawValue:)).map(Self.title))
        return try ConsoleRenderer.require().render(
            "overview", .init(layout: ConsoleRenderer.layout(title: "Overview", page: .overview, context: context), content: content),
            logger: context.logger)
    }

    static func title(_ provider: ProviderName) -> String {
        switch provider {
        case .twilio: "Twilio"
        case .telnyx: "Telnyx"
        case .vonage: "Vonage"
        case .plivo: "Plivo"
        }
    }

    /// What a stored (public, masked) document lacks for webhooks or browser calls to work.
    static func warnings(_ provider: ProviderName, _ document: [String: Any]) -> [String] {
        func missing(_ field: String) -> Bool {
            switch document[field] {
            case let text as String: text.isEmpty
            case nil, is NSNull: true
            default: false
            }
        }
        switch provider {
        case .twilio:
            return ["api_key_sid", "api_key_secret", "twiml_app_sid"].contains(where: missing)
                ? ["No API key SID, API key secret and TwiML app SID: browser calls (the dialer) cannot work."] : []
        case .telnyx:
            var warnings: [String] = []
            if missing("public_key") { warnings.append("No webhook public key: Telnyx webhooks cannot be verified and are refused.") }
            if missing("credential_connection_id") {
                warnings.append("No credential connection ID: browser calls (the dialer) cannot work.")
            }
            return warnings
        case .vonage:
            return missing("signature_secret")
                ? ["No signature secret: Vonage's signed webhooks cannot be verified and are refused."] : []
        case .plivo:
            return []
        }
    }

    /// The URLs to paste into the provider's console for this organization.
    static func webhooks(_ provider: ProviderName, organizationID: UUID, publicURL: String) -> [Webhook] {
        let base = "\(publicURL)/api/v1/telephony/webhooks/\(provider.rawValue)/\(organizationID.lowercasedString)"
        switch provider {
        case .twilio:
            return [
                Webhook(label: "TwiML app Voice URL (POST)", url: "\(base)/cold-call/twiml"),
                Webhook(label: "Status callback", url: "\(base)/status"),
            ]
        case .telnyx:
            return [
                Webhook(label: "Credential connection webhook URL", url: "\(base)/cold-call/events"),
                Webhook(label: "Call control webhook URL", url: "\(base)/status"),
            ]
        case .vonage, .plivo:
            return [Webhook(label: "Answer URL", url: "\(base)/answer"), Webhook(label: "Event URL", url: "\(base)/status")]
        }
    }
}
