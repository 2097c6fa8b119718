import NIOHTTP1

extension HTTPMethodName {
    var nio: HTTPMethod {
        switch self {
        case .get: .GET
        case .post: .POST
        case .put: .PUT
        case .delete: .DELETE
        }
    }
}
