/// `application/x-www-form-urlencoded` parsing and the parameter ordering providers sign.
enum WebhookForm {
    /// Splits `encoded` on `&` into percent-decoded (name, value) pairs, in order; a field without `=` has an empty value.
    static func parse(_ encoded: some Collection<UInt8>) -> [(String, String)] {
        encoded.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { field in
            if let equals = field.firstIndex(of: UInt8(ascii: "=")) {
                return (decode(field[..<equals]), decode(field[field.index(after: equals)...]))
            }
            return (decode(field[...]), "")
        }
    }

    /// Percent-decodes one form component, with `+` as a space; a `%` not followed by two hex digits stays as it is.
    static func decode(_ component: some Collection<UInt8>) -> String {
        // Most names and many values need no decoding: make the string straight from the bytes.
        if !component.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            return String(decoding: component, as: UTF8.self)
        }
        let bytes = Array(component)
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                decoded.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                decoded.append(high << 4 | low)
                index += 2
            } else {
                decoded.append(byte)
            }
            index += 1
        }
        // Invalid UTF-8 becomes U+FFFD, as in the providers' reference validators.
        return String(decoding: decoded, as: UTF8.self)
    }

    /// `pairs` sorted by name, then value, comparing Unicode code points (the order the providers' SDKs sign in).
    static func sorted(_ pairs: [(String, String)]) -> [(String, String)] {
        // Swift's String `<` compares canonically equivalent strings as equal; signatures need exact code points,
        // and UTF-8 byte order is code point order.
        pairs.sorted { lhs, rhs in
            if !lhs.0.utf8.elementsEqual(rhs.0.utf8) {
                return lhs.0.utf8.lexicographicallyPrecedes(rhs.0.utf8)
            }
            return lhs.1.utf8.lexicographicallyPrecedes(rhs.1.utf8)
        }
    }

    /// Whether two strings have exactly the same code points.
    static func same(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.elementsEqual(rhs.utf8)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
