import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A simulated Odoo 17 server: the external JSON-RPC API at `/jsonrpc` (`common.version`,
/// `common.authenticate`, `object.execute_kw` on `res.partner`: `search_read`, `search_count`,
/// `message_post`; `mail.message`: `search_count`) on a loopback port, with partners and chatter
/// messages held in memory.
///
/// Errors are shaped as Odoo sends them: HTTP 200 with a JSON-RPC `error` object whose `data.name` is
/// the Python exception (`odoo.exceptions.AccessDenied`, `odoo.exceptions.AccessError`, …). Time is a
/// simulated clock that moves one second at every change made through this type, so `write_date`
/// filters are deterministic in tests.
public final class OdooSimulator: Sendable {
    /// A `res.partner` as the simulator stores it.
    public struct Partner: Sendable, Equatable {
        public var id: Int
        public var name: String
        public var phone: String?
        public var mobile: String?
        public var email: String?
        public var companyName: String?
        public var parentID: Int?
        public var isCompany: Bool
        public var customerRank: Int
        public var writeDate: String

        public init(
            id: Int = 0, name: String, phone: String? = nil, mobile: String? = nil, email: String? = nil,
            companyName: String? = nil, parentID: Int? = nil, isCompany: Bool = false, customerRank: Int = 1
        ) {
            self.id = id
            self.name = name
            self.phone = phone
            self.mobile = mobile
            self.email = email
            self.companyName = companyName
            self.parentID = parentID
            self.isCompany = isCompany
            self.customerRank = customerRank
            self.writeDate = ""
        }
    }

    /// A chatter message posted on a partner.
    public struct Message: Sendable, Equatable {
        public let id: Int
        public let partnerID: Int
        public let body: String
        public let authorUID: Int
    }

    /// A login the simulator accepts: its uid and API key, and whether it may read partners.
    public struct User: Sendable {
        public let login: String
        public let uid: Int
        public let apiKey: String
        public let canReadPartners: Bool

        public init(login: String, uid: Int, apiKey: String, canReadPartners: Bool = true) {
            self.login = login
            self.uid = uid
            self.apiKey = apiKey
            self.canReadPartners = canReadPartners
        }
    }

    private struct State {
        var partners: [Partner] = []  // ascending id
        var messages: [Message] = []
        var nextPartnerID = 1
        var nextMessageID = 1
        var clock: Date
        var isDown = false
        var searchReadCalls = 0
        var returnedPartnerIDs: [Int] = []
        var failNextMessagePostAfterWriting = false
    }

    /// The database name the simulator answers for.
    public let database: String
    public let users: [User]
    private let state: Mutex<State>
    private let runtime = Mutex<(task: Task<Void, any Error>?, group: ServiceGroup?, port: Int?)>((nil, nil, nil))

    /// A simulator for `database` with `users`; nothing listens until `start`.
    public init(database: String = "sandbox", users: [User], start: Date = Date(timeIntervalSince1970: 1_704_067_200)) {
        self.database = database
        self.users = users
        self.state = Mutex(State(clock: start))
    }

    // MARK: - Partners and messages (for tests and the sandbox)

    /// Adds partners in one change (one `write_date`); returns their ids.
    @discardableResult
    public func addPartners(_ partners: [Partner]) -> [Int] {
        state.withLock { state in
            state.clock += 1
            let stamp = Self.format(state.clock)
            var ids: [Int] = []
            ids.reserveCapacity(partners.count)
            for var partner in partners {
                partner.id = state.nextPartnerID
                state.nextPartnerID += 1
                partner.writeDate = stamp
                state.partners.append(partner)
                ids.append(partner.id)
            }
            return ids
        }
    }

    /// Changes a partner (a new `write_date`); false when there is none with that id.
    @discardableResult
    public func updatePartner(_ id: Int, _ change: (inout Partner) -> Void) -> Bool {
        state.withLock { state in
            guard let index = Self.index(of: id, in: state.partners) else { return false }
            state.clock += 1
            change(&state.partners[index])
            state.partners[index].id = id
            state.partners[index].writeDate = Self.format(state.clock)
            return true
        }
    }

    /// The partner with `id`, if any.
    public func partner(_ id: Int) -> Partner? {
        state.withLock { state in Self.index(of: id, in: state.partners).map { state.partners[$0] } }
    }

    /// The chatter messages posted on `partnerID`, oldest first.
    public func messages(partnerID: Int) -> [Message] {
        state.withLock { $0.messages.filter { $0.partnerID == partnerID } }
    }

    /// Every chatter message posted, oldest first.
    public var allMessages: [Message] { state.withLock { $0.messages } }

    /// While down, every request answers 503 (as a proxy in front of a stopped Odoo does).
    public func setDown(_ isDown: Bool) { state.withLock { $0.isDown = isDown } }

    /// The next `message_post` stores the message and then answers 502, as when the answer is lost on the way back.
    public func loseNextMessagePostAnswer() { state.withLock { $0.failNextMessagePostAfterWriting = true } }

    /// How many `search_read` calls were served, and the partner ids they returned, since the last reset.
    public var served: (searchReads: Int, partnerIDs: [Int]) { state.withLock { ($0.searchReadCalls, $0.returnedPartnerIDs) } }

    /// Forgets the served counters.
    public func resetServed() {
        state.withLock {
            $0.searchReadCalls = 0
            $0.returnedPartnerIDs = []
        }
    }

    /// Adds `count` generated partners: every tenth has no phone, every seventh a US national number, the rest E.164.
    @discardableResult
    public func seed(count: Int) -> [Int] {
        addPartners(
            (0..<count).map { index in
                let phone: String? =
                    switch index {
                    case let i where i % 10 == 9: nil
                    case let i where i % 7 == 3: String(format: "(415) 555-%04d", index % 10_000)
                    default: String(format: "+1 212 %03d %04d", 200 + (index / 10_000) % 800, index % 10_000)
                    }
                return Partner(
                    name: "Partner \(index + 1)", phone: phone, mobile: nil, email: "partner\(index + 1)@example.com",
                    companyName: index % 3 == 0 ? "Company \(index % 50)" : nil)
            })
    }

    // MARK: - Server

    /// The port it listens on, once started.
    public var port: Int? { runtime.withLock { $0.port } }

    /// The base URL (`http://127.0.0.1:port`), once started.
    public var baseURL: String { "http://127.0.0.1:\(port ?? 0)" }

    /// Starts listening on 127.0.0.1 (port 0 = any free one); returns once the port is bound.
    public func start(port: Int = 0, logger: Logger = Logger(label: "switchboard.odoo-simulator")) async throws {
        let router = Router(context: BasicRequestContext.self)
        router.post("/jsonrpc") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 4 << 20)
            let (status, json) = self.handle(Array(buffer: body))
            return Response(
                status: .init(code: status), headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: json.serialized())))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "odoo-sim"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        runtime.withLock { $0 = (task, group, nil) }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            try await task.value
            throw ProviderSimulatorError.serverDidNotStart
        }
        runtime.withLock { $0.port = bound }
    }

    /// Serves until SIGINT/SIGTERM or `shutdown`.
    public func wait() async throws {
        try await runtime.withLock { $0.task }?.value
    }

    /// Stops the server.
    public func shutdown() async {
        let (task, group) = runtime.withLock { ($0.task, $0.group) }
        await group?.triggerGracefulShutdown()
        _ = await task?.result
    }

    // MARK: - JSON-RPC

    /// Answers one JSON-RPC request body: (HTTP status, response body).
    func handle(_ body: [UInt8]) -> (Int, JSONValue) {
        if state.withLock({ $0.isDown }) {
            return (503, ["error": "Service Unavailable"])
        }
        guard let request = JSONValue.parse(body), let params = request["params"]?.objectValue else {
            return (200, Self.rpcError(id: .null, code: -32700, name: "werkzeug.exceptions.BadRequest", message: "Invalid JSON data"))
        }
        let id = request["id"] ?? .null
        let service = params["service"]?.stringValue ?? ""
        let method = params["method"]?.stringValue ?? ""
        let args = params["args"]?.arrayValue ?? []
        do {
            let result: JSONValue
            switch (service, method) {
            case ("common", "version"):
                result = [
                    "server_version": "17.0", "server_version_info": [.int(17), .int(0), .int(0), "final", .int(0), ""],
                    "server_serie": "17.0", "protocol_version": .int(1),
                ]
            case ("common", "authenticate"), ("common", "login"):
                try checkDatabase(args.first?.stringValue)
                let login = args.count > 1 ? args[1].stringValue : nil
                let key = args.count > 2 ? args[2].stringValue : nil
                result = users.first { $0.login == login && $0.apiKey == key }.map { JSONValue.int($0.uid) } ?? JSONValue.bool(false)
            case ("object", "execute_kw"):
                result = try executeKW(args)
            default:
                throw Fault.exception(
                    "builtins.NameError", "Method not available \(method)" + (service.isEmpty ? "" : " on \(service)"))
            }
            if method == "execute_kw", args.count > 4, args[4].stringValue == "message_post",
                state.withLock({ state in
                    defer { state.failNextMessagePostAfterWriting = false }
                    return state.failNextMessagePostAfterWriting
                })
            {
                return (502, ["error": "Bad Gateway"])
            }
            return (200, ["jsonrpc": "2.0", "id": id, "result": result])
        } catch Fault.exception(let name, let message) {
            return (200, Self.rpcError(id: id, code: 200, name: name, message: message))
        } catch {
            return (200, Self.rpcError(id: id, code: 200, name: "builtins.ValueError", message: "\(error)"))
        }
    }

    private enum Fault: Error {
        case exception(String, String)
    }

    private func checkDatabase(_ name: String?) throws {
        guard name == database else {
            throw Fault.exception(
                "psycopg2.OperationalError",
                "connection to server failed: FATAL:  database \"\(name ?? "")\" does not exist")
        }
    }

    private func executeKW(_ args: [JSONValue]) throws -> JSONValue {
        guard args.count >= 6 else {
            throw Fault.exception("builtins.TypeError", "execute_kw() missing required positional arguments")
        }
        try checkDatabase(args[0].stringValue)
        guard let user = users.first(where: { $0.uid == args[1].intValue && $0.apiKey == args[2].stringValue }) else {
            throw Fault.exception("odoo.exceptions.AccessDenied", "Access Denied")
        }
        let model = args[3].stringValue ?? ""
        let method = args[4].stringValue ?? ""
        let positional = args[5].arrayValue ?? []
        let keywords = args.count > 6 ? args[6].objectValue ?? [:] : [:]
        switch (model, method) {
        case ("res.partner", "search_read"), ("res.partner", "search_count"), ("res.partner", "message_post"):
            guard user.canReadPartners else {
                throw Fault.exception(
                    "odoo.exceptions.AccessError",
                    "You are not allowed to access 'Contact' (res.partner) records.\n\nThis operation is allowed for the following groups:\n\t- Extra Rights/Contact Creation\n\nContact your administrator to request access if necessary.")
            }
        case ("mail.message", "search_count"):
            break
        default:
            throw Fault.exception("builtins.KeyError", "'\(model)'")
        }
        let domainValue = keywords["domain"] ?? positional.first ?? .array([])
        switch (model, method) {
        case ("res.partner", "search_count"):
            let domain = try Domain(domainValue)
            return .int(state.withLock { state in state.partners.count(where: { domain.matches(Self.fields(of: $0, in: state)) }) })
        case ("res.partner", "search_read"):
            let domain = try Domain(domainValue)
            let fields = (keywords["fields"] ?? (positional.count > 1 ? positional[1] : .null)).arrayValue?.compactMap(\.stringValue)
            let offset = (keywords["offset"] ?? (positional.count > 2 ? positional[2] : .null)).intValue ?? 0
            let limit = (keywords["limit"] ?? (positional.count > 3 ? positional[3] : .null)).intValue
            let order = (keywords["order"] ?? (positional.count > 4 ? positional[4] : .null)).stringValue ?? "id"
            return state.withLock { state in
                let wanted = limit.map { max($0, 0) } ?? Int.max
                let inIDOrder = order.trimmingCharacters(in: .whitespaces) == "id" || order.lowercased() == "id asc"
                // In id order, start after the domain's `id >` bound and stop once the page is full:
                // a page costs its own size, not the whole table's.
                var start = 0
                if inIDOrder, let bound = domain.idLowerBound {
                    var low = 0
                    var high = state.partners.count
                    while low < high {
                        let middle = (low + high) / 2
                        if state.partners[middle].id <= bound { low = middle + 1 } else { high = middle }
                    }
                    start = low
                }
                var rows: [[String: JSONValue]] = []
                var toSkip = max(offset, 0)
                for partner in state.partners[start...] {
                    let record = Self.fields(of: partner, in: state)
                    guard domain.matches(record) else { continue }
                    if inIDOrder {
                        if toSkip > 0 {
                            toSkip -= 1
                            continue
                        }
                        if rows.count >= wanted { break }
                    }
                    rows.append(record)
                }
                if !inIDOrder { rows = Array(Self.sorted(rows, order: order).dropFirst(max(offset, 0))) }
                let page = Array(rows.prefix(wanted))
                state.searchReadCalls += 1
                state.returnedPartnerIDs += page.compactMap { $0["id"]?.intValue }
                return .array(
                    page.map { record in
                        var shown: [String: JSONValue] = ["id": record["id"] ?? .null]
                        for field in fields ?? Array(record.keys) { shown[field] = record[field] ?? .bool(false) }
                        return .object(shown)
                    })
            }
        case ("res.partner", "message_post"):
            let ids = positional.first?.arrayValue?.compactMap(\.intValue) ?? positional.first?.intValue.map { [$0] } ?? []
            guard ids.count == 1, let partnerID = ids.first else {
                throw Fault.exception("builtins.ValueError", "Expected singleton: res.partner(\(ids.map(String.init).joined(separator: ", ")))")
            }
            let body = keywords["body"]?.stringValue ?? ""
            return try state.withLock { state in
                guard Self.index(of: partnerID, in: state.partners) != nil else {
                    throw Fault.exception(
                        "odoo.exceptions.MissingError",
                        "Record does not exist or has been deleted.\n(Record: res.partner(\(partnerID),), User: \(user.uid))")
                }
                let message = Message(id: state.nextMessageID, partnerID: partnerID, body: body, authorUID: user.uid)
                state.nextMessageID += 1
                state.messages.append(message)
                return .int(message.id)
            }
        default:
            let domain = try Domain(domainValue)
            return .int(
                state.withLock { state in
                    state.messages.count { message in
                        domain.matches([
                            "id": .int(message.id), "model": "res.partner", "res_id": .int(message.partnerID),
                            "body": .string(message.body), "message_type": "comment",
                        ])
                    }
                })
        }
    }

    private static func fields(of partner: Partner, in state: State) -> [String: JSONValue] {
        let parent = partner.parentID.flatMap { id in index(of: id, in: state.partners).map { state.partners[$0] } }
        return [
            "id": .int(partner.id), "name": .string(partner.name), "display_name": .string(partner.name),
            "phone": partner.phone.map(JSONValue.string) ?? .bool(false),
            "mobile": partner.mobile.map(JSONValue.string) ?? .bool(false),
            "email": partner.email.map(JSONValue.string) ?? .bool(false),
            "company_name": partner.companyName.map(JSONValue.string) ?? .bool(false),
            "parent_id": parent.map { .array([.int($0.id), .string($0.name)]) } ?? .bool(false),
            "is_company": .bool(partner.isCompany), "customer_rank": .int(partner.customerRank),
            "active": .bool(true), "write_date": .string(partner.writeDate),
        ]
    }

    private static func sorted(_ rows: [[String: JSONValue]], order: String) -> [[String: JSONValue]] {
        let keys = order.split(separator: ",").map { part -> (String, Bool) in
            let words = part.split(separator: " ").map(String.init)
            return (words.first ?? "id", words.count > 1 && words[1].lowercased() == "desc")
        }
        if keys.count == 1, keys[0] == ("id", false) { return rows }  // already in id order
        return rows.sorted { left, right in
            for (field, descending) in keys {
                let comparison = Domain.compare(left[field] ?? .null, right[field] ?? .null)
                if comparison != 0 { return descending ? comparison > 0 : comparison < 0 }
            }
            return false
        }
    }

    private static func index(of id: Int, in partners: [Partner]) -> Int? {
        var low = 0
        var high = partners.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if partners[middle].id == id { return middle }
            if partners[middle].id < id { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    static func rpcError(id: JSONValue, code: Int, name: String, message: String) -> JSONValue {
        [
            "jsonrpc": "2.0", "id": id,
            "error": [
                "code": .int(code), "message": "Odoo Server Error",
                "data": [
                    "name": .string(name), "debug": .string("Traceback (most recent call last):\n…\n\(name): \(message)\n"),
                    "message": .string(message), "arguments": [.string(message)], "context": [:],
                ],
            ],
        ]
    }

    /// An Odoo search domain in Polish notation: leaves `[field, operator, value]`, `&`, `|`, `!`,
    /// consecutive terms implicitly and-ed.
    struct Domain {
        indirect enum Node {
            case leaf(String, String, JSONValue)
            case and(Node, Node), or(Node, Node), not(Node)
            case all
        }

        let root: Node

        init(_ value: JSONValue) throws {
            guard let items = value.arrayValue else {
                throw Fault.exception("builtins.ValueError", "Invalid domain \(value)")
            }
            var position = 0
            var terms: [Node] = []
            while position < items.count { terms.append(try Self.parse(items, &position)) }
            root = terms.reversed().reduce(Node.all) { partial, term in
                if case .all = partial { return term }
                return .and(term, partial)
            }
        }

        private static func parse(_ items: [JSONValue], _ position: inout Int) throws -> Node {
            guard position < items.count else { throw Fault.exception("builtins.ValueError", "Domain ends too early") }
            let item = items[position]
            position += 1
            switch item.stringValue {
            case "&": return .and(try parse(items, &position), try parse(items, &position))
            case "|": return .or(try parse(items, &position), try parse(items, &position))
            case "!": return .not(try parse(items, &position))
            default:
                guard let leaf = item.arrayValue, leaf.count == 3, let field = leaf[0].stringValue,
                    let op = leaf[1].stringValue
                else { throw Fault.exception("builtins.ValueError", "Invalid leaf \(item)") }
                let supported = ["=", "!=", ">", ">=", "<", "<=", "in", "not in", "ilike", "like", "=ilike"]
                guard supported.contains(op) else {
                    throw Fault.exception("builtins.ValueError", "Invalid leaf operator \(op)")
                }
                return .leaf(field, op, leaf[2])
            }
        }

        func matches(_ record: [String: JSONValue]) -> Bool { Self.evaluate(root, record) }

        /// N when the domain requires `id > N` at its top level (and-ed with everything else).
        var idLowerBound: Int? {
            var node = root
            var bound: Int?
            while true {
                switch node {
                case .and(let left, let right):
                    if case .leaf("id", ">", let value) = left, let n = value.intValue { bound = max(bound ?? n, n) }
                    node = right
                case .leaf("id", ">", let value):
                    if let n = value.intValue { bound = max(bound ?? n, n) }
                    return bound
                default:
                    return bound
                }
            }
        }

        private static func evaluate(_ node: Node, _ record: [String: JSONValue]) -> Bool {
            switch node {
            case .all: return true
            case .and(let a, let b): return evaluate(a, record) && evaluate(b, record)
            case .or(let a, let b): return evaluate(a, record) || evaluate(b, record)
            case .not(let a): return !evaluate(a, record)
            case .leaf(let field, let op, let value):
                var actual = record[field] ?? .bool(false)
                if case .array(let pair) = actual, let first = pair.first { actual = first }  // many2one compares by id
                switch op {
                case "=": return compare(actual, value) == 0 && sameKind(actual, value)
                case "!=": return !(compare(actual, value) == 0 && sameKind(actual, value))
                case ">": return sameKind(actual, value) && compare(actual, value) > 0
                case ">=": return sameKind(actual, value) && compare(actual, value) >= 0
                case "<": return sameKind(actual, value) && compare(actual, value) < 0
                case "<=": return sameKind(actual, value) && compare(actual, value) <= 0
                case "in": return (value.arrayValue ?? []).contains { compare(actual, $0) == 0 && sameKind(actual, $0) }
                case "not in": return !(value.arrayValue ?? []).contains { compare(actual, $0) == 0 && sameKind(actual, $0) }
                default:
                    guard let text = actual.stringValue, let pattern = value.stringValue else { return false }
                    return op == "=ilike"
                        ? text.lowercased() == pattern.lowercased()
                        : op == "like" ? text.contains(pattern) : text.lowercased().contains(pattern.lowercased())
                }
            }
        }

        private static func sameKind(_ a: JSONValue, _ b: JSONValue) -> Bool {
            switch (a, b) {
            case (.int, .int), (.int, .double), (.double, .int), (.double, .double), (.string, .string), (.bool, .bool): true
            default: false
            }
        }

        static func compare(_ a: JSONValue, _ b: JSONValue) -> Int {
            switch (a, b) {
            case (.string(let x), .string(let y)): return x == y ? 0 : (x < y ? -1 : 1)
            case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
            default:
                let x = a.intValue.map(Double.init) ?? 0
                let y = b.intValue.map(Double.init) ?? 0
                return x == y ? 0 : (x < y ? -1 : 1)
            }
        }
    }
}
