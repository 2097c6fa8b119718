import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Persistence
import PostgresNIO
import Providers
import ServiceLifecycle

/// Everything the routes need, built once and passed in, so tests build the production graph.
struct AppDependencies: Sendable {
    let postgres: PostgresClient
    let organizations: OrganizationStore
    let keys: APIKeyStore
    let configurations: ConfigurationStore
    let audit: AuditStore
    let calls: CallStore
    let contacts: ContactStore
    let conferences: ConferenceStore
    let conferenceTokens: ConferenceTokenSigner
    /// Console people, their sessions and the sign-in throttle.
    let users: UserStore
    let sessions: UserSessionStore
    let signInThrottle: SignInThrottle
    var passwordHasher = PasswordHasher()
    let console: ConsoleSettings
    let factory: ProviderFactory
    let telephony: TelephonySettings
    let now: @Sendable () -> Date
    /// Request, provider and cache metrics, served at `GET /metrics`.
    let metrics: AppMetrics
    /// Bounds the requests' database steps and fails fast while PostgreSQL is away.
    let database = DatabaseAvailability()

    init(
        postgres: PostgresClient, sealer: SecretSealer, httpClient: HTTPClient, configuration: AppConfiguration,
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.postgres = postgres
        organizations = OrganizationStore(client: postgres)
        keys = APIKeyStore(client: postgres)
        configurations = ConfigurationStore(client: postgres, sealer: sealer)
        audit = AuditStore(client: postgres)
        calls = CallStore(client: postgres)
        contacts = ContactStore(client: postgres)
        conferences = ConferenceStore(client: postgres)
        users = UserStore(client: postgres)
        sessions = UserSessionStore(client: postgres)
        signInThrottle = SignInThrottle(client: postgres)
        console = ConsoleSettings(
            publicURL: configuration.publicURL, twilioSDKURL: configuration.twilioSDKURL,
            telnyxSDKURL: configuration.telnyxSDKURL)
        conferenceTokens = ConferenceTokenSigner(key: sealer.keyring.derivedKey(purpose: "conference-token/v1"))
        let metrics = AppMetrics()
        self.metrics = metrics
        factory = ProviderFactory(
            source: StoredConfigurationSource(store: configurations, logger: logger),
            environment: configuration.environmentProviders,
            http: ProviderHTTPClient(
                client: httpClient, timeout: .nanoseconds(Int64(configuration.providerTimeout.components.seconds) * 1_000_000_000
                    + configuration.providerTimeout.components.attoseconds / 1_000_000_000), metrics: metrics),
            endpoints: configuration.endpoints, environmentScope: configuration.environmentScope, metrics: metrics)
        telephony = TelephonySettings(
            publicURL: configuration.publicURL, mediaStreamURL: configuration.mediaStreamURL,
            streamTokens: StreamToken(key: sealer.keyring.derivedKey(purpose: "stream-token/v1")))
        self.now = now
    }

    /// The cold-call workflow the API and the webhooks share.
    var coldCalls: ColdCallService {
        ColdCallService(
            conferences: conferences, calls: calls, factory: factory, settings: telephony, tokens: conferenceTokens, now: now,
            metrics: metrics)
    }

    /// The service that drops cached provider configurations when any instance writes one.
    func changeFeed(logger: Logger) -> ConfigurationChangeFeed {
        ConfigurationChangeFeed(
            client: postgres, logger: logger, onListening: { [factory] in factory.invalidateAll() },
            onChange: { [factory] organizationID in factory.invalidate(organizationID: organizationID) })
    }
}

/// The router with every route and middleware of the API.
func buildRouter(_ dependencies: AppDependencies) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: dependencies.metrics))
    router.add(middleware: RequestMiddleware())
    router.add(middleware: LegacyTwilioRedirectMiddleware())
    HealthController(postgres: dependencies.postgres, database: dependencies.database).addRoutes(to: router)
    MetricsController(metrics: dependencies.metrics).addRoutes(to: router)
    OpenAPIController().addRoutes(to: router)
    let webhooks = WebhookController(
        organizations: dependencies.organizations, calls: dependencies.calls, factory: dependencies.factory,
        settings: dependencies.telephony, now: dependencies.now, metrics: dependencies.metrics,
        database: dependencies.database)
    webhooks.addRoutes(to: router)
    ColdCallWebhookController(webhooks: webhooks, service: dependencies.coldCalls).addRoutes(to: router)
    let api = router.group("/api/v1").add(middleware: AuthMiddleware(keys: dependencies.keys, database: dependencies.database))
    OrganizationController(organizations: dependencies.organizations).addRoutes(to: api)
    APIKeyController(organizations: dependencies.organizations, keys: dependencies.keys).addRoutes(to: api)
    ConfigurationController(
        organizations: dependencies.organizations, configurations: dependencies.configurations, factory: dependencies.factory
    ).addRoutes(to: api)
    TelephonyController(calls: dependencies.calls, factory: dependencies.factory, settings: dependencies.telephony)
        .addRoutes(to: api)
    AuditController(organizations: dependencies.organizations, audit: dependencies.audit).addRoutes(to: api)
    ContactController(contacts: dependencies.contacts).addRoutes(to: api)
    ColdCallController(service: dependencies.coldCalls, contacts: dependencies.contacts).addRoutes(to: api)
    addConsole(to: router, dependencies)
    return router
}

/// The web console under `/console`: its middleware and its pages.
func addConsole(to router: Router<AppRequestContext>, _ dependencies: AppDependencies) {
    router.add(
        middleware: ConsoleMiddleware(
            sessions: dependencies.sessions, settings: dependencies.console, database: dependencies.database,
            now: dependencies.now))
    ConsoleSignInController(
        users: dependencies.users, sessions: dependencies.sessions, throttle: dependencies.signInThrottle,
        hasher: dependencies.passwordHasher, settings: dependencies.console, database: dependencies.database,
        now: dependencies.now
    ).addRoutes(to: router)
    ConsoleStaticController().addRoutes(to: router)
    ConsoleOverviewController(
        configurations: dependencies.configurations, publicURL: dependencies.console.publicURL,
        database: dependencies.database
    ).addRoutes(to: router)
    ConsoleDialerController().addRoutes(to: router)
    ConsoleAPIKeysController(keys: dependencies.keys, database: dependencies.database, now: dependencies.now)
        .addRoutes(to: router)
    ConsoleUsersController(
        users: dependencies.users, settings: dependencies.console, database: dependencies.database, now: dependencies.now
    ).addRoutes(to: router)
}

/// The whole server: routes plus the long-lived services (the PostgreSQL pool, housekeeping).
func buildApplication(
    configuration: AppConfiguration, postgres: PostgresClient, sealer: SecretSealer, logger: Logger
) -> Application<RouterResponder<AppRequestContext>> {
    let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
    let dependencies = AppDependencies(
        postgres: postgres, sealer: sealer, httpClient: httpClient, configuration: configuration, logger: logger)
    let purge = PeriodicTask(name: "purge-expired-previous-secrets", interval: .seconds(60), logger: logger) {
        let purged = try await dependencies.configurations.purgeExpiredPreviousSecrets(logger: logger)
        if purged > 0 { logger.info("erased expired previous secrets", metadata: ["count": "\(purged)"]) }
        try await dependencies.sessions.purgeExpired(logger: logger)
    }
    return Application(
        router: buildRouter(dependencies),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "switchboard"),
        services: [postgres, HTTPClientService(client: httpClient), dependencies.changeFeed(logger: logger), purge],
        logger: logger)
}
