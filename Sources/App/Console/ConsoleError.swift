import HTTPTypes

/// What ends a console request early; `ConsoleMiddleware` turns each into a page or a redirect.
enum ConsoleError: Error, Equatable {
    /// No session: redirect to the sign-in page, then back to `from`.
    case signInRequired(from: String)
    /// Signed in, but the role may not use this page.
    case forbidden
    /// Nothing here, or it belongs to another organization (the same answer for both).
    case notFound
    /// The form's CSRF token is missing or not this session's.
    case csrfRejected
    /// The form could not be read.
    case badForm(String)

    var status: HTTPResponse.Status {
        switch self {
        case .signInRequired: .seeOther
        case .forbidden, .csrfRejected: .forbidden
        case .notFound: .notFound
        case .badForm: .badRequest
        }
    }

    var message: String {
        switch self {
        case .signInRequired: "Sign in to continue."
        case .forbidden: "Your role cannot open this page."
        case .notFound: "There is nothing here."
        case .csrfRejected: "This form was not sent from this console page (or it expired). Reload the page and try again."
        case .badForm(let message): message
        }
    }
}
