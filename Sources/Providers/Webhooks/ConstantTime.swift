/// Comparisons whose running time does not depend on where two secrets differ.
public enum ConstantTime {
    /// Whether two byte sequences are equal, in time that depends only on their lengths.
    public static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        // Lengths of signatures and digests are public, so returning early on them leaks nothing.
        guard lhs.count == rhs.count else {
            return false
        }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) {
            difference |= left ^ right
        }
        return difference == 0
    }
}
