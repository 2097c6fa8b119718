import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import ProviderSimulators
import Providers
import TestSupport
import Testing

@testable import App

/// For each provider, genuine webhooks captured from its simulator are replayed, tampered with,
/// stripped of their signature and (where the scheme has a clock) re-signed stale, through the
/// live routes; then a rotation's grace window is honoured and expires.
@Suite struct WebhookSecurityTests {
    func resend(_ stack: LiveStack, _ webhook: DeliveredWebhook, headers: [String: String]? = nil, body: [UInt8]? = nil)
        async throws -> Int
    {
        var request = HTTPClientRequest(url: webhook.url)
        request.method = HTTPMethod(rawValue: webhook.method)
        for (name, value) in headers ?? webhook.headers where name.lowercased() != "content-length" {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(bytes: body ?? webhook.body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    func storedEvents(_ stack: LiveStack) async throws -> Int {
        let rows = try await stack.harness.postgres.query("SELECT count(*) FROM webhook_events", logger: TestDatabase.logger)
        var count = 0
        for try await value in rows.decode(Int.self) { count = value }
        return count
    }

    /// A completed call and the last status webhook the simulator delivered for it.
    func completedCall(_ stack: LiveStack, _ provider: ProviderName) async throws -> DeliveredWebhook {
        try await stack.configure(provider)
        let placed = try await stack.send(
            .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550123"])
        let final = try await stack.waitForEnd(of: try #require(placed.object["call_id"] as? String))
        #expect(final["status"] as? String == "completed")
        _ = await stack.simulator.waitForWebhooks(count: 2, timeout: .seconds(3))
        return try #require(
            stack.simulator.webhooks().last { $0.provider == provider.rawValue && $0.url.hasSuffix("/status") })
    }

    static let signatureHeaders: Set<String> = [
        "x-twilio-signature", "telnyx-signature-ed25519", "telnyx-timestamp", "authorization",
        "x-plivo-signature-v3", "x-plivo-signature-v3-nonce", "x-plivo-signature-v2", "x-plivo-signature-v2-nonce",
    ]

    @Test(arguments: ProviderName.allCases)
    func replayedTamperedAndUnsignedWebhooksAreHandledAndChangeNothing(_ provider: ProviderName) async throws {
        try await LiveStack.run { stack in
            let genuine = try await completedCall(stack, provider)
            let before = try await storedEvents(stack)
            #expect(try await resend(stack, genuine) / 100 == 2)
            #expect(try await storedEvents(stack) == before)

            var tampered = genuine.body
            let index = try #require(tampered.lastIndex { $0 >= 0x30 && $0 <= 0x39 })
            tampered[index] = tampered[index] == 0x39 ? 0x30 : tampered[index] + 1
            #expect(try await resend(stack, genuine, body: tampered) == 403)

            let unsigned = genuine.headers.filter { !Self.signatureHeaders.contains($0.key.lowercased()) }
            #expect(try await resend(stack, genuine, headers: unsigned) == 401)
            #expect(try await storedEvents(stack) == before)
        }
    }

    @Test func aStaleTelnyxWebhookIsRefusedEvenWithAValidSignature() async throws {
        try await LiveStack.run { stack in
            let genuine = try await completedCall(stack, .telnyx)
            let key = try #require(stack.accounts.telnyx.first).webhookSigningKey
            for age in [-400, 400] {
                let timestamp = String(Int(Date().timeIntervalSince1970) - age)
                let signature = try key.signature(for: Array("\(timestamp)|".utf8) + genuine.body)
                var headers = genuine.headers
                headers["telnyx-timestamp"] = timestamp
                headers["telnyx-signature-ed25519"] = Data(signature).base64EncodedString()
                #expect(try await resend(stack, genuine, headers: headers) == 403)
            }
        }
    }

    @Test func aStaleVonageTokenIsRefusedEvenWithAValidSignature() async throws {
        try await LiveStack.run { stack in
            let genuine = try await completedCall(stack, .vonage)
            let secret = try #require(stack.accounts.vonage.first).signatureSecret
            let hash = SHA256.hash(data: genuine.body).map { String(format: "%02x", $0) }.joined()
            let claims = #"{"iss":"Vonage","iat":\#(Int(Date().timeIntervalSince1970) - 3600),"jti":"x","payload_hash":"\#(hash)"}"#
            var headers = genuine.headers
            headers["authorization"] = "Bearer " + Self.hs256(claims: claims, secret: secret)
            #expect(try await resend(stack, genuine, headers: headers) == 403)
            // The same token made fresh is accepted: only the age was wrong.
            let fresh = #"{"iss":"Vonage","iat":\#(Int(Date().timeIntervalSince1970)),"jti":"y","payload_hash":"\#(hash)"}"#
            headers["authorization"] = "Bearer " + Self.hs256(claims: fresh, secret: secret)
            #expect(try await resend(stack, genuine, headers: headers) / 100 == 2)
        }
    }

    /// Rotating the secret that signs webhooks: the old one verifies during the grace window only.
    @Test(arguments: [
        (ProviderName.twilio, "auth_token", "0123456789abcdef0123456789abcdef"),
        (.vonage, "signature_secret", "rotated-signature-secret-for-tests-only"),
        (.plivo, "auth_token", "rotatedPlivoAuthTokenForTestsOnly00000000"),
    ])
    func aRotatedSecretKeepsVerifyingUntilItsGraceEnds(_ provider: ProviderName, _ field: String, _ newSecret: String)
        async throws
    {
        try await LiveStack.run { stack in
            let genuine = try await completedCall(stack, provider)
            let rotate = try await stack.send(
                .POST, "/api/v1/organizations/acme/configuration/\(provider.configurationKey.rawValue)/rotate",
                key: stack.harness.acmeAdmin, json: [field: newSecret, "grace_period_seconds": 600])
            #expect(rotate.status == 200, "\(rotate.text)")
            #expect(try await resend(stack, genuine) / 100 == 2)
            try await stack.harness.postgres.query(
                "UPDATE organization_configuration SET previous_valid_until = now() - interval '1 second' WHERE previous_sealed IS NOT NULL",
                logger: TestDatabase.logger)
            stack.harness.dependencies.factory.invalidateAll()
            #expect(try await resend(stack, genuine) == 403)
        }
    }

    static func hs256(claims: String, secret: String) -> String {
        func base64URL(_ bytes: some Sequence<UInt8>) -> String {
            Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let input = base64URL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + base64URL(Array(claims.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return input + "." + base64URL(mac)
    }
}
