import Foundation
import Logging
import Persistence
import Providers

/// The outbox handler that posts a call's outcome on its Odoo partner's chatter (`message_post`).
///
/// `message_post` is not idempotent, and a post can succeed at Odoo while its "delivered" mark is lost
/// (the answer never arrived, the process died, or the database write failed). Each message therefore
/// carries its outbox row's reference (`sb-outcome-<id>`), and every attempt after the first asks Odoo
/// (`mail.message` `search_count` on the partner's messages containing that reference) whether the
/// earlier one landed; if so the row is marked delivered without posting again. One outcome is
/// therefore one chatter message, as long as Odoo's search sees its own committed messages.
struct OdooWriteBack: OutboxHandler {
    let sync: OdooSyncService

    static var kind: String { OdooSyncStore.writeBackKind }

    func deliver(_ item: OutboxItem, logger: Logger) async -> OutboxDelivery {
        guard case .object(let payload)? = try? JSONDecoder().decode(JSONValue.self, from: Data(item.payload.utf8)),
            let partner = payload["partner_id"]?.doubleValue
        else { return .giveUp("the queued outcome is unreadable") }
        let configuration: OdooConfiguration?
        do {
            configuration = try await sync.configuration(organizationID: item.organizationID, logger: logger)
        } catch {
            return .retry("the Odoo configuration could not be read")
        }
        guard let configuration else { return .giveUp("ODOO_CONFIGURATION was removed before the outcome was posted") }
        guard configuration.writeBack else { return .giveUp("write_back was turned off before the outcome was posted") }
        let reference = "sb-outcome-\(item.id.uuidString.lowercased())"
        let partnerID = JSONValue.number(partner)
        do {
            return try await OdooClient.session(configuration, policy: sync.policy) { client -> OutboxDelivery in
                let uid = try await client.authenticate()
                if item.attempts > 1 {
                    let earlier = try await client.execute(
                        uid: uid, model: "mail.message", method: "search_count",
                        args: [[["model", "=", "res.partner"], ["res_id", "=", partnerID], ["body", "ilike", .string(reference)]]])
                    if (earlier.doubleValue ?? 0) > 0 { return .delivered }
                }
                _ = try await client.execute(
                    uid: uid, model: "res.partner", method: "message_post", args: [[partnerID]],
                    kwargs: [
                        "body": .string(Self.body(payload, reference: reference)), "message_type": "comment",
                        "subtype_xmlid": "mail.mt_note",
                    ])
                return .delivered
            }
        } catch let error as OdooError {
            if case .server(let name, _) = error, name == "odoo.exceptions.MissingError" {
                return .giveUp("the partner no longer exists in Odoo")
            }
            return .retry(error.description)
        } catch {
            return .retry("\(type(of: error))")
        }
    }

    /// The chatter note: outcome, duration, agent, notes, callback time and recording link, HTML-escaped.
    static func body(_ payload: [String: JSONValue], reference: String) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let outcome = payload["outcome"]?.stringValue?.replacingOccurrences(of: "_", with: " ") ?? "unknown"
        var lines = ["<p><b>Call outcome: \(escape(outcome))</b></p>", "<ul>"]
        if let seconds = payload["duration_seconds"]?.doubleValue {
            lines.append("<li>Duration: \(Int(seconds) / 60)m \(Int(seconds) % 60)s</li>")
        }
        if let agent = payload["agent"]?.stringValue { lines.append("<li>Agent: \(escape(agent))</li>") }
        if let to = payload["to"]?.stringValue { lines.append("<li>Number called: \(escape(to))</li>") }
        if let callback = payload["callback_at"]?.stringValue { lines.append("<li>Call back at: \(escape(callback))</li>") }
        if let notes = payload["notes"]?.stringValue { lines.append("<li>Notes: \(escape(notes))</li>") }
        if let url = payload["recording_url"]?.stringValue, url.hasPrefix("https://") || url.hasPrefix("http://") {
            lines.append("<li>Recording: <a href=\"\(escape(url))\">\(escape(url))</a></li>")
        }
        lines.append("</ul>")
        lines.append("<p><small>Logged by Switchboard · ref \(reference)</small></p>")
        return lines.joined()
    }
}
