/// A secret and who it belongs to.
package struct Credential: Sendable, Equatable {
    package var accessKey: String
    package var secret: String
    /// The canonical owner id of the principal (64 hex characters).
    package var ownerID: String
    package var displayName: String

    package init(accessKey: String, secret: String, ownerID: String, displayName: String) {
        self.accessKey = accessKey
        self.secret = secret
        self.ownerID = ownerID
        self.displayName = displayName
    }
}

/// Where secrets come from: the root key today, the IAM store later.
package protocol CredentialProvider: Sendable {
    func credential(for accessKey: String) async throws -> Credential?
}

/// A fixed set of credentials.
package struct StaticCredentialProvider: CredentialProvider {
    let credentials: [String: Credential]

    package init(_ credentials: [Credential]) {
        self.credentials = Dictionary(credentials.map { ($0.accessKey, $0) }, uniquingKeysWith: { a, _ in a })
    }

    package func credential(for accessKey: String) async throws -> Credential? { credentials[accessKey] }
}
