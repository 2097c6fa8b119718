/// Splits a SQL script into statements, since the extended query protocol runs one at a time.
///
/// Respects single-quoted strings, quoted identifiers, dollar-quoted bodies and both comment
/// styles, so a `;` inside any of them does not end a statement.
enum SQLScript {
    static func statements(in script: String) -> [String] {
        let characters = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0

        func flush() {
            let statement = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !statement.isEmpty && !isOnlyComments(statement) {
                statements.append(statement)
            }
            current = String.UnicodeScalarView()
        }

        func copy(until terminator: [Unicode.Scalar]) {
            // Copies through the terminator (or to the end of the script).
            while index < characters.count {
                if characters[index...].starts(with: terminator) {
                    current.append(contentsOf: terminator)
                    index += terminator.count
                    return
                }
                current.append(characters[index])
                index += 1
            }
        }

        while index < characters.count {
            let scalar = characters[index]
            switch scalar {
            case "'", "\"":
                current.append(scalar)
                index += 1
                copy(until: [scalar])
            case "-" where index + 1 < characters.count && characters[index + 1] == "-":
                copy(until: ["\n"])
            case "/" where index + 1 < characters.count && characters[index + 1] == "*":
                current.append(contentsOf: ["/", "*"])
                index += 2
                copy(until: ["*", "/"])
            case "$":
                if let tag = dollarTag(in: characters, at: index) {
                    current.append(contentsOf: tag)
                    index += tag.count
                    copy(until: tag)
                } else {
                    current.append(scalar)
                    index += 1
                }
            case ";":
                index += 1
                flush()
            default:
                current.append(scalar)
                index += 1
            }
        }
        flush()
        return statements
    }

    /// `$$` or `$tag$` starting at `start`, if one does.
    private static func dollarTag(in characters: [Unicode.Scalar], at start: Int) -> [Unicode.Scalar]? {
        var end = start + 1
        while end < characters.count {
            let scalar = characters[end]
            if scalar == "$" {
                return Array(characters[start...end])
            }
            guard scalar == "_" || scalar.properties.isAlphabetic || (end > start + 1 && scalar.properties.numericType != nil)
            else { return nil }
            end += 1
        }
        return nil
    }

    private static func isOnlyComments(_ statement: String) -> Bool {
        statement.split(separator: "\n").allSatisfy {
            let line = $0.trimmingCharacters(in: .whitespaces)
            return line.isEmpty || line.hasPrefix("--")
        }
    }
}
