/// Official webhook signature test vectors (from the providers' SDK test suites and RFC 8032); test-only values.
enum WebhookVectors {
    /// twilio-python `tests/unit/test_request_validator.py`.
    enum Twilio {
        static let authToken = "12345"
        static let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        static let urlWithPort443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
        static let httpURLWithPort1234 = "http://mycompany.com:1234/myapp.php?foo=1&bar=2"
        static let httpURL = "http://mycompany.com/myapp.php?foo=1&bar=2"
        static let httpsURLWithPort1234 = "https://mycompany.com:1234/myapp.php?foo=1&bar=2"
        static let parameters = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        /// `parameters` form-encoded, as Twilio POSTs them.
        static let formBody =
            "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212"
        static let signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        static let signatureWithPort443 = "kvajT1Ptam85bY51eRf/AJRuM3w="
        static let httpSignatureWithPort1234 = "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        static let httpSignatureWithPort80 = "0ZXoZLH/DfblKGATFgpif+LLRf4="

        /// Repeated values: names and values sorted, duplicates removed.
        static let repeatedParameters = [
            ("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234"),
        ]
        static let repeatedSignature = "IK+Dwps556ElfBT0I3Rgjkr1wJU="

        static let jsonBody = #"{"property": "value", "boolean": true}"#
        static let jsonBodySHA256 = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        static let urlWithBodyHash = url + "&bodySHA256=" + jsonBodySHA256
        static let jsonSignature = "a9nBmqA0ju/hNViExpshrM61xv4="
    }

    /// RFC 8032 §7.1 test 1 key, with a Telnyx-shaped message.
    enum Telnyx {
        static let publicKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        /// RFC 8032 test 1 private key seed, hex.
        static let privateKeySeedHex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
        static let timestamp = "1700000000"
        static let timestampSeconds: Double = 1_700_000_000
        static let body = #"{"data":{"event_type":"call.answered"}}"#
        static let signature =
            "JY0yyaZ/pitjL84WSbvDJI74neWj1BFdqNri1helAAyqXH3srUja+MBWRKd0Ic0fc4V/Jr5bplGTq6QubdyrBA=="
    }

    /// An HS256 token with no `payload_hash` and an old `iat`: it pins the signature check only.
    enum Vonage {
        static let secret = "qwertyuiopasdfghjklzxcvbnm123456"
        static let wrongSecret = "asdf"
        static let token =
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM"
        /// The token's `iat`.
        static let issuedAt: Double = 1_697_634_680
    }

    /// plivo-python signature V3 and V2 (`tests/resources/test_signature.py`).
    enum Plivo {
        static let authToken = "my_auth_token"
        static let url = "https://example.com/answer"
        static let parameters = [("To", "+15550001111"), ("From", "+15552223333"), ("CallUUID", "abc")]
        static let formBody = "To=%2B15550001111&From=%2B15552223333&CallUUID=abc"
        static let nonce = "12345"
        static let signedString = "https://example.com/answer?CallUUIDabcFrom+15552223333To+15550001111.12345"
        static let signature = "f5GUNR8kureweemtYtNfEskdG+r5mhvamni4LmG8xXM="

        static let v2URL = "https://answer.url"
        static let v2Nonce = "12345"
        static let v2Signature = "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc="
        /// The token plivo-python's V2 test expects to fail.
        static let v2WrongAuthToken = "my_auth_tokens"
    }
}
