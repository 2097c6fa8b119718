import Logging
import ServiceLifecycle

/// The background work of the Odoo integration: the outbox delivery loop (every 2 seconds) and, when
/// an interval is set, the periodic sync of every configured organization (each organization's sync
/// runs on one instance at a time: the others find its lock taken, or its last run recent, and skip it).
func odooServices(_ dependencies: AppDependencies, interval: Duration?, logger: Logger) -> [any Service] {
    let dispatcher = dependencies.outboxDispatcher
    var services: [any Service] = [
        PeriodicTask(name: "outbox-delivery", interval: .seconds(2), logger: logger) {
            try await dispatcher.deliverDue(logger: logger)
        }
    ]
    if let interval {
        let sync = dependencies.odoo
        services.append(
            PeriodicTask(name: "odoo-periodic-sync", interval: .seconds(60), logger: logger) {
                try await sync.syncDueOrganizations(interval: interval, logger: logger)
            })
    }
    return services
}
