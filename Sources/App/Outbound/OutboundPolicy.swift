import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The rules for requests to URLs a tenant gave (their Odoo today; event webhooks and voice apps next):
/// https only, no private, loopback, link-local, metadata or otherwise non-public address, a deadline,
/// and a bounded response.
///
/// The host is resolved once, every address it resolves to is checked, and the connection then goes
/// to the checked address (`HTTPClient.Configuration.dnsOverride`) while TLS still verifies the
/// certificate for the host name, so a second DNS answer (rebinding) cannot send the request elsewhere.
/// `allowsInsecureTargets` (`SWITCHBOARD_ALLOW_INSECURE_TARGETS=1`, for tests and the sandbox) lifts the
/// scheme and address rules, never the deadline or the size bound.
struct OutboundPolicy: Sendable {
    var allowsInsecureTargets = false
    var timeout: Duration = .seconds(20)
    var maximumResponseBytes = 16 << 20

    /// Why a target was refused before any byte was sent.
    enum Refusal: Error, Equatable, CustomStringConvertible {
        case notHTTPS
        case unresolvable(String)
        case forbiddenAddress(host: String, address: String)

        var description: String {
            switch self {
            case .notHTTPS:
                "only https URLs are allowed"
            case .unresolvable(let host):
                "the host \(host) could not be resolved"
            case .forbiddenAddress(let host, let address):
                "the host \(host) resolves to \(address), a private, loopback, link-local or reserved address"
            }
        }
    }

    /// A client for requests to `url`'s host, pinned to its checked address; shut it down after use.
    func client(for url: URL) async throws(Refusal) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(Int64(timeout.components.seconds))))
        configuration.httpVersion = .http1Only
        guard !allowsInsecureTargets else {
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        }
        guard url.scheme?.lowercased() == "https", let host = url.host, !host.isEmpty else { throw .notHTTPS }
        let addresses = await Self.resolve(host)
        guard let first = addresses.first else { throw .unresolvable(host) }
        for address in addresses where !Self.isPublic(address) {
            throw .forbiddenAddress(host: host, address: Self.text(address))
        }
        configuration.dnsOverride = [host: Self.text(first)]
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// The addresses `host` resolves to, as raw bytes (4 for IPv4, 16 for IPv6); empty when it does not resolve.
    static func resolve(_ host: String) async -> [[UInt8]] {
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let lookup: @Sendable () -> [[UInt8]] = {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            #if canImport(Darwin)
            hints.ai_socktype = SOCK_STREAM
            #else
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            #endif
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(name, nil, &hints, &list) == 0, let list else { return [] }
            defer { freeaddrinfo(list) }
            var result: [[UInt8]] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = list
            while let entry = cursor {
                if let address = entry.pointee.ai_addr {
                    if entry.pointee.ai_family == AF_INET {
                        address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                            var ip = pointer.pointee.sin_addr
                            result.append(withUnsafeBytes(of: &ip) { Array($0) })
                        }
                    } else if entry.pointee.ai_family == AF_INET6 {
                        address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                            var ip = pointer.pointee.sin6_addr
                            result.append(withUnsafeBytes(of: &ip) { Array($0) })
                        }
                    }
                }
                cursor = entry.pointee.ai_next
            }
            return result
        }
        // getaddrinfo blocks: it runs on NIO's blocking-work pool, not on a cooperative thread.
        return (try? await NIOThreadPool.singleton.runIfActive(lookup)) ?? []
    }

    /// Whether an address is globally routable: not private, loopback, link-local (cloud metadata),
    /// carrier-grade NAT, multicast, reserved or documentation space, in IPv4 or IPv6 (mapped forms included).
    static func isPublic(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 4 {
            let (a, b, c) = (bytes[0], bytes[1], bytes[2])
            switch a {
            case 0, 10, 127: return false
            case 100 where (64...127).contains(b): return false
            case 169 where b == 254: return false
            case 172 where (16...31).contains(b): return false
            case 192 where b == 168: return false
            case 192 where b == 0 && (c == 0 || c == 2): return false
            case 198 where b == 18 || b == 19: return false
            case 198 where b == 51 && c == 100: return false
            case 203 where b == 0 && c == 113: return false
            case 224...255: return false
            default: return true
            }
        }
        guard bytes.count == 16 else { return false }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return isPublic(Array(bytes[12..<16]))  // IPv4-mapped
        }
        if bytes[0..<12].allSatisfy({ $0 == 0 }) { return false }  // ::, ::1, IPv4-compatible
        if bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b {
            return isPublic(Array(bytes[12..<16]))  // NAT64
        }
        if bytes[0] & 0xfe == 0xfc { return false }  // unique local, fd00:ec2::254 included
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return false }  // link-local
        if bytes[0] == 0xff { return false }  // multicast
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8 { return false }  // documentation
        if bytes[0] == 0x20 && bytes[1] == 0x02 { return isPublic(Array(bytes[2..<6])) }  // 6to4
        return true
    }

    /// An address in its usual text form.
    static func text(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var raw = bytes
        _ = inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
        return String(cString: buffer)
    }
}
