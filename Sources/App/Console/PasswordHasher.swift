import Foundation
import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// bcrypt (HummingbirdBcrypt) run on NIO's blocking thread pool, so a 50–100 ms hash never
/// holds a cooperative-pool thread.
struct PasswordHasher: Sendable {
    /// The work factor: 2^cost rounds. 11 measured 425 ms per hash in a debug build on the
    /// project's shared 2-core machine (load ≈ 11); an optimized build is several times faster and
    /// still well above the 50 ms floor `PasswordHasherTests` checks.
    static let defaultCost: UInt8 = 11
    /// bcrypt's lowest cost, for test graphs only (see `AppDependencies.forTesting`).
    static let testCost: UInt8 = 4
    /// bcrypt reads only the first 72 bytes of a password; longer ones are refused, not truncated.
    static let maxPasswordBytes = 72
    static let minPasswordLength = 10

    var cost: UInt8 = defaultCost

    func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// Checks a password against a hash of a random string, so an unknown email costs as much
    /// time as a wrong password.
    func burnVerification(_ password: String) async throws {
        _ = try await verify(password, hash: try await decoy())
    }

    /// A hash of a random string at this hasher's cost (made once per cost), so the decoy costs
    /// what a real verification costs.
    private func decoy() async throws -> String {
        if let known = Self.decoys.withLock({ $0[cost] }) { return known }
        let made = try await hash(UUID().uuidString)
        return Self.decoys.withLock { decoys in
            if let known = decoys[cost] { return known }
            decoys[cost] = made
            return made
        }
    }

    private static let decoys = Mutex<[UInt8: String]>([:])

    /// Why a new password is not acceptable, or nil.
    static func problem(with password: String, confirmation: String) -> String? {
        if password != confirmation { return "The two passwords are not the same." }
        if password.count < minPasswordLength { return "Use at least \(minPasswordLength) characters." }
        if password.utf8.count > maxPasswordBytes { return "Use at most \(maxPasswordBytes) bytes (bcrypt ignores the rest)." }
        if password.unicodeScalars.contains(where: { $0.value == 0 }) { return "The password must not contain NUL." }
        return nil
    }
}
