import Providers

extension ConfigurationSchema {
    /// The problems validation reports for `document`; empty when it is valid.
    func problems(in document: [String: JSONValue]) -> [FieldError] {
        do {
            _ = try validate(document)
            return []
        } catch {
            return error.errors
        }
    }

    /// The problems validation reports for `document` after `change` is applied to it.
    func problems(in document: [String: JSONValue], changing change: [String: JSONValue]) -> [FieldError] {
        problems(in: document.merging(change) { _, new in new })
    }

    /// The problems validation reports for `document` without `field`.
    func problems(in document: [String: JSONValue], removing field: String) -> [FieldError] {
        var document = document
        document[field] = nil
        return problems(in: document)
    }
}
