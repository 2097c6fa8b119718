/// Domain errors of the stores; messages are safe to show to the API's users.
public enum PersistenceError: Error, Equatable, CustomStringConvertible {
    /// A row with the same unique value exists.
    case duplicate(String)
    /// The row does not exist (or belongs to another organization).
    case notFound(String)
    /// `If-Match` named another version than the stored one.
    case versionMismatch(expected: Int64, actual: Int64?)
    /// Two writers raced; the caller may retry.
    case conflict(String)
    /// A limit counted in the database was reached; the caller may retry after the given seconds.
    case rateLimited(String, retryAfterSeconds: Int)
    /// The row exists, so changing it needs `If-Match` naming its version.
    case versionRequired(current: Int64)

    public var description: String {
        switch self {
        case .duplicate(let what): "\(what) already exists"
        case .notFound(let what): "\(what) not found"
        case .versionMismatch(let expected, let actual):
            if let actual {
                "version \(expected) is stale; the current version is \(actual)"
            } else {
                "version \(expected) does not exist; the document is not stored"
            }
        case .conflict(let what): what
        case .rateLimited(let what, _): what
        case .versionRequired(let current):
            "the document exists (version \(current)); send If-Match with the version you read, e.g. \"\(current)\""
        }
    }
}
