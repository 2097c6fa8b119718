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
    let conferenceTokens: TokenSigner
    /// Console people, their sessions and the sign-in throttle.
    let users: UserStore
    let sessions: UserSessionStore
    let signInThrottle: SignInThrottle
    var passwordHasher = PasswordHasher()
    let console: ConsoleSettings
    let factory: ProviderFactory
    let telephony: TelephonySettings
    let now: @Sendable () -> Date
    /// The deadline of one provider request.
    let providerTimeout: Duration
    /// How often the change feed proves its LISTEN connection still hears notifications.
    let changeFeedHeartbeat: Duration
    /// How long a Telnyx bridge may hold a session's conference-creation lease (`ColdCallService.bridgeLease`).
    let bridgeLease: Duration
    /// Request, provider and cache metrics, served at `GET /metrics`.
    let metrics: AppMetrics
    /// Bounds the requests' database steps and fails fast while PostgreSQL is away.
    let database: DatabaseAvailability
    /// Refuses addresses that keep failing authentication (bad API keys, refused webhook signatures).
    var authenticationFailures: AuthenticationFailureLimiter
    /// Odoo contact sync and outcome write-back.
    let odoo: OdooSyncService
    let outbox: OutboxStore

    init(
        postgres: PostgresClient, sealer: SecretSealer, httpClient: HTTPClient, configuration: AppConfiguration,
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.postgres = postgres
        providerTimeout = configuration.providerTimeout
        changeFeedHeartbeat = configuration.changeFeedHeartbeat
        database = DatabaseAvailability(reachability: configuration.database.map { DatabaseReachability.connecting(to: $0) })
        organizations = OrganizationStore(client: postgres)
        keys = APIKeyStore(client: postgres)
        configurations = ConfigurationStore(client: postgres, sealer: sealer)
        audit = AuditStore(client: postgres)
        calls = CallStore(client: postgres, providerTimeout: configuration.providerTimeout)
        contacts = ContactStore(client: postgres)
        conferences = ConferenceStore(client: postgres)
        conferenceTokens = TokenSigner(keyring: sealer.keyring, purpose: "conference-token/v1")
        users = UserStore(client: postgres)
        sessions = UserSessionStore(client: postgres)
        signInThrottle = SignInThrottle(client: postgres)
        console = ConsoleSettings(
            publicURL: configuration.publicURL, twilioSDKURL: configuration.twilioSDKURL,
            telnyxSDKURL: configuration.telnyxSDKURL)
        let metrics = AppMetrics()
        self.metrics = metrics
        factory = ProviderFactory(
            source: StoredConfigurationSource(store: configurations, logger: logger),
            environment: configuration.environmentProviders,
            http: ProviderHTTPClient(
                client: httpClient, timeout: .nanoseconds(Int64(configuration.providerTimeout.components.seconds) * 1_000_000_000
                    + configuration.providerTimeout.components.attoseconds / 1_000_000_000), metrics: metrics),
            endpoints: configuration.endpoints, environmentScope: configuration.environmentScope,
            cacheTimeToLive: configuration.providerCacheTTL, metrics: metrics)
        telephony = TelephonySettings(
            publicURL: configuration.publicURL, mediaStreamURL: configuration.mediaStreamURL,
            streamTokens: TokenSigner(keyring: sealer.keyring, purpose: "stream-token/v1"))
        self.now = now
        authenticationFailures = AuthenticationFailureLimiter(
            limit: configuration.authenticationFailuresPerMinute, window: .seconds(60))
        odoo = OdooSyncService(
            configurations: configurations, store: OdooSyncStore(client: postgres), policy: configuration.outbound)
        outbox = OutboxStore(client: postgres)
        // Past the provider's deadline (a claimant still waiting on the provider keeps its lease), plus a margin.
        bridgeLease = configuration.providerTimeout + .seconds(2)
    }

    /// Delivers the transactional outbox (Odoo write-backs).
    var outboxDispatcher: OutboxDispatcher {
        OutboxDispatcher(store: outbox, handlers: [OdooWriteBack(sync: odoo)])
    }

    /// The organization's CALL_POLICY, for every route that places calls.
    var callPolicy: CallPolicyGate { CallPolicyGate(configurations: configurations) }

    /// The cold-call workflow the API and the webhooks share.
    var coldCalls: ColdCallService {
        ColdCallService(
            conferences: conferences, calls: calls, configurations: configurations, factory: factory, settings: telephony,
            tokens: conferenceTokens, now: now, metrics: metrics, callPolicy: callPolicy, bridgeLease: bridgeLease)
    }

    /// The service that drops cached provider configurations when any instance writes one, and
    /// all of them whenever it (re)starts listening or its heartbeat went unheard.
    func changeFeed(logger: Logger) -> ConfigurationChangeFeed {
        ConfigurationChangeFeed(
            client: postgres, logger: logger, heartbeatInterval: changeFeedHeartbeat,
            onListening: { [factory] in factory.invalidateAll() },
            onChange: { [factory] organizationID in factory.invalidate(organizationID: organizationID) })
    }
}

/// The router with every route and middleware of the API.
func buildRouter(_ dependencies: AppDependencies) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: dependencies.metrics))
    router.add(middleware: RequestMiddleware())
    router.add(middleware: LegacyTwilioRedirectMiddleware())
    router.add(middleware: AuthenticationFailureMiddleware(limiter: dependencies.authenticationFailures))
    HealthController(postgres: dependencies.postgres, database: dependencies.database).addRoutes(to: router)
    MetricsController(metrics: dependencies.metrics).addRoutes(to: router)
    OpenAPIController().addRoutes(to: router)
    let webhooks = WebhookController(
        organizations: dependencies.organizations, calls: dependencies.calls, factory: dependencies.factory,
        settings: dependencies.telephony, now: dependencies.now, metrics: dependencies.metrics,
        database: dependencies.database)
    webhooks.addRoutes(to: router)
    ColdCallWebhookController(webhooks: webhooks, service: dependencies.coldCalls, providerTimeout: dependencies.providerTimeout)
        .addRoutes(to: router)
    let api = router.group("/api/v1").add(middleware: AuthMiddleware(keys: dependencies.keys, database: dependencies.database))
    OrganizationController(organizations: dependencies.organizations).addRoutes(to: api)
    APIKeyController(organizations: dependencies.organizations, keys: dependencies.keys).addRoutes(to: api)
    ConfigurationController(
        organizations: dependencies.organizations, configurations: dependencies.configurations, factory: dependencies.factory,
        odoo: dependencies.odoo
    ).addRoutes(to: api)
    TelephonyController(
        calls: dependencies.calls, factory: dependencies.factory, settings: dependencies.telephony,
        callPolicy: dependencies.callPolicy
    ).addRoutes(to: api)
    AuditController(organizations: dependencies.organizations, audit: dependencies.audit).addRoutes(to: api)
    ContactController(contacts: dependencies.contacts).addRoutes(to: api)
    ColdCallController(service: dependencies.coldCalls, contacts: dependencies.contacts).addRoutes(to: api)
    OdooController(service: dependencies.odoo, outbox: dependencies.outbox).addRoutes(to: api)
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
    let jobs = BackgroundJobs(lock: BackgroundJobLock(client: postgres), logger: logger)
    let sweeper = InitiatingCallSweeper(calls: dependencies.calls, logger: logger)
    let retention = WebhookEventRetention(client: postgres)
    return Application(
        router: buildRouter(dependencies),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "switchboard"),
        services: [
            postgres, HTTPClientService(client: httpClient), dependencies.changeFeed(logger: logger), purge,
            jobs.periodic("sweep-initiating-calls", every: .seconds(30)) { try await sweeper.sweep() },
            jobs.periodic("webhook-event-retention", every: .seconds(600)) {
                let deleted = try await retention.deleteExpired(
                    olderThanDays: configuration.webhookRetentionDays, logger: logger)
                if deleted > 0 { logger.info("deleted expired webhook events", metadata: ["count": "\(deleted)"]) }
            },
        ] + odooServices(dependencies, interval: configuration.odooSyncInterval, logger: logger),
        logger: logger)
}
