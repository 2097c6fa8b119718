import Foundation

extension ConfigurationSchema {
    /// `ODOO_CONFIGURATION`: where the organization's Odoo is, who to log in as, which partners to sync,
    /// and whether call outcomes are written back to the partners' chatter.
    static let odoo = ConfigurationSchema(
        key: .odoo,
        fields: [
            Field("url", rule: .baseURL),
            Field("database", rule: .text(maximumLength: 128, allowsWhitespace: false)),
            Field("username", rule: .text(maximumLength: 256)),
            Field("api_key", secret: true, rule: .text(maximumLength: 512, allowsWhitespace: false)),
            Field("domain", required: false, rule: .odooDomain),
            Field("write_back", required: false, rule: .boolean),
        ]
    )
}

extension FieldRule {
    /// The most terms an Odoo domain may have.
    static let maximumDomainTerms = 50

    /// An http(s) base URL with a host and no query, fragment or credentials, normalized without a trailing slash.
    /// Whether plain http and private addresses may be reached is decided at connect time, not here.
    static let baseURL = string { text in
        guard text.count <= 2048, let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), ["https", "http"].contains(scheme),
            let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil,
            components.user == nil, components.password == nil
        else {
            return .rejected(["must be an https URL such as https://example.odoo.com, without a query or credentials"])
        }
        return .accepted(text.hasSuffix("/") ? String(text.dropLast()) : text)
    }

    /// A JSON boolean.
    static let boolean = FieldRule { value, field in
        guard case .bool = value else { return .rejected([FieldError(field: field, problem: "must be true or false")]) }
        return .accepted(value)
    }

    /// An Odoo search domain: a list whose items are the operators "&", "|", "!" or leaves
    /// `[field, operator, value]` with a field name, a known operator and a scalar or list value.
    static let odooDomain = FieldRule { value, field in
        guard case .array(let items) = value else {
            return .rejected([FieldError(field: field, problem: "must be an Odoo domain: a list such as [[\"customer_rank\", \">\", 0]]")])
        }
        guard items.count <= maximumDomainTerms else {
            return .rejected([FieldError(field: field, problem: "must have at most \(maximumDomainTerms) terms")])
        }
        let operators: Set<String> = [
            "=", "!=", ">", ">=", "<", "<=", "in", "not in", "like", "not like", "ilike", "not ilike", "=like", "=ilike",
            "child_of", "parent_of",
        ]
        var problems: [FieldError] = []
        for (index, item) in items.enumerated() {
            let itemField = "\(field)[\(index)]"
            if case .string(let op) = item, ["&", "|", "!"].contains(op) { continue }
            guard case .array(let leaf) = item, leaf.count == 3, case .string(let name) = leaf[0],
                !name.isEmpty, name.utf8.allSatisfy({ $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }),
                case .string(let op) = leaf[1], operators.contains(op)
            else {
                problems.append(FieldError(field: itemField, problem: "must be \"&\", \"|\", \"!\" or [field, operator, value] with a known operator"))
                continue
            }
            switch leaf[2] {
            case .object: problems.append(FieldError(field: itemField, problem: "value must be a string, number, boolean, null or list"))
            default: break
            }
        }
        // Polish notation read from the end: each operator needs its operands already on the stack.
        var stack = 0
        for item in items.reversed() where problems.isEmpty {
            switch item.stringValue {
            case "!"?: if stack < 1 { stack = -1 }
            case "&"?, "|"?: stack = stack < 2 ? -1 : stack - 1
            default: stack += 1
            }
            if stack < 0 {
                problems.append(FieldError(field: field, problem: "has an operator without enough terms after it"))
            }
        }
        return problems.isEmpty ? .accepted(value) : .rejected(problems)
    }
}
