import Providers
import Testing

@Suite struct WebhookRequestTests {
    @Test func lowercasesHeaderNames() {
        let request = WebhookRequest(method: "POST", url: "https://a.example/", headers: [("X-Twilio-Signature", "abc")], body: [])

        #expect(request.headers == ["x-twilio-signature": "abc"])
    }

    @Test func joinsRepeatedHeadersWithCommas() {
        let request = WebhookRequest(
            method: "POST", url: "https://a.example/", headers: [("X-Plivo-Signature-V3", "a"), ("x-plivo-signature-v3", "b")],
            body: [])

        #expect(request.headers["x-plivo-signature-v3"] == "a, b")
    }

    @Test func decodesFormBodyParametersInOrder() {
        let request = WebhookTesting.post(
            "https://a.example/", headers: [], body: "To=%2B1555&Body=hello+there%21&Empty=&Flag")

        #expect(request.formParameters.map { [$0.0, $0.1] } == [["To", "+1555"], ["Body", "hello there!"], ["Empty", ""], ["Flag", ""]])
    }

    @Test func readsGetParametersFromTheQuery() {
        let request = WebhookRequest(method: "GET", url: "https://a.example/hook?b=2&a=%20x#frag", headers: [], body: [])

        #expect(request.formParameters.map { [$0.0, $0.1] } == [["b", "2"], ["a", " x"]])
    }
}
