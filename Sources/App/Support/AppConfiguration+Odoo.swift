import Foundation

extension AppConfiguration {
    /// Reads the outbound-request and Odoo sync variables:
    /// `SWITCHBOARD_ALLOW_INSECURE_TARGETS` (1 = tenant URLs may be http and private/loopback, for tests
    /// and the sandbox only), `ODOO_SYNC_INTERVAL_MINUTES` (0 turns the periodic sync off; default 15).
    static func loadOutbound(from environment: [String: String], into configuration: inout AppConfiguration, problems: inout [String]) {
        switch environment["SWITCHBOARD_ALLOW_INSECURE_TARGETS"] {
        case nil, "", "0": configuration.outbound.allowsInsecureTargets = false
        case "1": configuration.outbound.allowsInsecureTargets = true
        default: problems.append("SWITCHBOARD_ALLOW_INSECURE_TARGETS must be 0 or 1")
        }
        if let raw = environment["ODOO_SYNC_INTERVAL_MINUTES"], !raw.isEmpty {
            if let minutes = Int(raw), (0...10_080).contains(minutes) {
                configuration.odooSyncInterval = minutes == 0 ? nil : .seconds(minutes * 60)
            } else {
                problems.append("ODOO_SYNC_INTERVAL_MINUTES must be 0 (off) to 10080")
            }
        }
    }
}
