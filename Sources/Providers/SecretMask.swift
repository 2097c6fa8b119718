/// Masks secrets for display.
public enum SecretMask {
    /// What every mask starts with; a mask is this alone or this plus a few trailing characters.
    public static let prefix = "****"

    /// Masks a secret: "****" plus its last 4 characters when it has 12 or more, its last 2 when it has 8 to 11,
    /// and "****" alone when it is shorter or is a PEM document (a key's tail would reveal nothing useful but is still key material).
    public static func mask(_ secret: String) -> String {
        if secret.contains("-----BEGIN") {
            return prefix
        }
        switch secret.count {
        case 12...:
            return prefix + String(secret.suffix(4))
        case 8..<12:
            return prefix + String(secret.suffix(2))
        default:
            return prefix
        }
    }
}
