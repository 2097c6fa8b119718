import Hummingbird
import Logging
import Persistence
import PostgresNIO
import ServiceLifecycle

/// Everything the routes need, built once and passed in, so tests build the production graph.
struct AppDependencies: Sendable {
    let postgres: PostgresClient
    let organizations: OrganizationStore
    let keys: APIKeyStore
    let configurations: ConfigurationStore
    let audit: AuditStore

    init(postgres: PostgresClient, sealer: SecretSealer) {
        self.postgres = postgres
        organizations = OrganizationStore(client: postgres)
        keys = APIKeyStore(client: postgres)
        configurations = ConfigurationStore(client: postgres, sealer: sealer)
        audit = AuditStore(client: postgres)
    }
}

/// The router with every route and middleware of the API.
func buildRouter(_ dependencies: AppDependencies) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestMiddleware())
    HealthController(postgres: dependencies.postgres).addRoutes(to: router)
    let api = router.group("/api/v1").add(middleware: AuthMiddleware(keys: dependencies.keys))
    OrganizationController(organizations: dependencies.organizations).addRoutes(to: api)
    APIKeyController(organizations: dependencies.organizations, keys: dependencies.keys).addRoutes(to: api)
    ConfigurationController(organizations: dependencies.organizations, configurations: dependencies.configurations)
        .addRoutes(to: api)
    AuditController(organizations: dependencies.organizations, audit: dependencies.audit).addRoutes(to: api)
    return router
}

/// The whole server: routes plus the long-lived services (the PostgreSQL pool, housekeeping).
func buildApplication(
    configuration: AppConfiguration, postgres: PostgresClient, sealer: SecretSealer, logger: Logger
) -> Application<RouterResponder<AppRequestContext>> {
    let dependencies = AppDependencies(postgres: postgres, sealer: sealer)
    let purge = PeriodicTask(name: "purge-expired-previous-secrets", interval: .seconds(60), logger: logger) {
        let purged = try await dependencies.configurations.purgeExpiredPreviousSecrets(logger: logger)
        if purged > 0 { logger.info("erased expired previous secrets", metadata: ["count": "\(purged)"]) }
    }
    return Application(
        router: buildRouter(dependencies),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "switchboard"),
        services: [postgres, purge],
        logger: logger)
}
