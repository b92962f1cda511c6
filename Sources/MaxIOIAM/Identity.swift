import Foundation
import MaxIOCore

/// What a user may do. `admin` is global; the others act within their tenant.
package enum Role: String, Sendable, Codable, CaseIterable {
    case admin
    case tenantAdmin = "tenant-admin"
    case user
    case readonly
}

package enum AccountStatus: String, Sendable, Codable {
    case active
    case suspended
    case disabled
}

/// A customer or team: owns buckets, users and keys, within its quotas (0 = unlimited).
package struct TenantRecord: Sendable, Equatable, Codable {
    package var id: String
    package var name: String
    package var status: AccountStatus
    package var maxStorageBytes: Int64
    package var maxBuckets: Int64
    package var maxAccessKeys: Int64
    package var createdAt: Date

    package init(
        id: String, name: String, status: AccountStatus = .active, maxStorageBytes: Int64 = 0, maxBuckets: Int64 = 0,
        maxAccessKeys: Int64 = 0, createdAt: Date = Date()
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.maxStorageBytes = maxStorageBytes
        self.maxBuckets = maxBuckets
        self.maxAccessKeys = maxAccessKeys
        self.createdAt = createdAt
    }
}

/// A tenant's current usage.
package struct TenantUsage: Sendable, Equatable {
    package var bytes: Int64 = 0
    package var objects: Int64 = 0
    package var buckets: Int64 = 0
    package var accessKeys: Int64 = 0
    package init() {}
}

package struct UserRecord: Sendable, Equatable {
    /// The canonical user id (64 hex digits): ACL grants and Owner blocks name it.
    package var id: String
    package var name: String
    /// The tenant id; nil for global users.
    package var tenantID: String?
    package var role: Role
    package var status: AccountStatus
    package var displayName: String
    package var passwordHash: String
    package var mustChangePassword: Bool
    package var totpSecret: String?
    package var failedLogins: Int
    package var lockedUntil: Date?
    package var createdAt: Date

    package init(
        id: String, name: String, tenantID: String?, role: Role, status: AccountStatus = .active,
        displayName: String, passwordHash: String, mustChangePassword: Bool = false, totpSecret: String? = nil,
        failedLogins: Int = 0, lockedUntil: Date? = nil, createdAt: Date = Date()
    ) {
        self.id = id
        self.name = name
        self.tenantID = tenantID
        self.role = role
        self.status = status
        self.displayName = displayName
        self.passwordHash = passwordHash
        self.mustChangePassword = mustChangePassword
        self.totpSecret = totpSecret
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
        self.createdAt = createdAt
    }

    /// A new canonical id: 64 hex digits, as AWS's.
    package static func newID() -> String { randomHexID(bytes: 32) }
}

package struct AccessKeyRecord: Sendable, Equatable {
    package var id: String
    package var userID: String
    /// The secret, sealed with the master key.
    package var sealedSecret: [UInt8]
    package var status: AccountStatus
    package var createdAt: Date
    package var lastUsed: Date?

    package init(
        id: String, userID: String, sealedSecret: [UInt8], status: AccountStatus = .active, createdAt: Date = Date(),
        lastUsed: Date? = nil
    ) {
        self.id = id
        self.userID = userID
        self.sealedSecret = sealedSecret
        self.status = status
        self.createdAt = createdAt
        self.lastUsed = lastUsed
    }

    static let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    static let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    /// `AKIA` + 16 upper-case alphanumerics.
    package static func newID() -> String { "AKIA" + random(16, upper) }
    /// 40 characters of the base64 alphabet.
    package static func newSecret() -> String { random(40, secretAlphabet) }

    static func random(_ n: Int, _ alphabet: [Character]) -> String {
        var g = SystemRandomNumberGenerator()
        return String((0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &g)] })
    }
}

package struct GroupRecord: Sendable, Equatable {
    package var name: String
    package var tenantID: String?
    package var members: [String]
    package var createdAt: Date

    package init(name: String, tenantID: String?, members: [String] = [], createdAt: Date = Date()) {
        self.name = name
        self.tenantID = tenantID
        self.members = members
        self.createdAt = createdAt
    }
}

/// How much of a bucket a grant opens.
package enum AccessLevel: String, Sendable, Codable, Comparable {
    case read
    case write
    case admin

    var rank: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .admin: 2
        }
    }

    package static func < (a: AccessLevel, b: AccessLevel) -> Bool { a.rank < b.rank }
}

/// Who a bucket grant is for.
package enum GrantSubject: Sendable, Equatable, Hashable {
    case user(String)
    case group(String)
    case tenant(String)

    package var kind: String {
        switch self {
        case .user: "user"
        case .group: "group"
        case .tenant: "tenant"
        }
    }

    package var value: String {
        switch self {
        case .user(let v), .group(let v), .tenant(let v): v
        }
    }

    package init?(kind: String, value: String) {
        switch kind {
        case "user": self = .user(value)
        case "group": self = .group(value)
        case "tenant": self = .tenant(value)
        default: return nil
        }
    }
}

package struct BucketGrant: Sendable, Equatable {
    package var bucket: String
    package var subject: GrantSubject
    package var level: AccessLevel
    package var expiresAt: Date?

    package init(bucket: String, subject: GrantSubject, level: AccessLevel, expiresAt: Date? = nil) {
        self.bucket = bucket
        self.subject = subject
        self.level = level
        self.expiresAt = expiresAt
    }
}

/// An authenticated caller.
package struct Principal: Sendable, Equatable {
    package var userID: String
    package var userName: String
    package var displayName: String
    package var tenantID: String?
    package var tenantName: String?
    package var role: Role
    /// Names of the groups the user is in.
    package var groups: [String]

    package init(
        userID: String, userName: String, displayName: String, tenantID: String?, tenantName: String?, role: Role,
        groups: [String] = []
    ) {
        self.userID = userID
        self.userName = userName
        self.displayName = displayName
        self.tenantID = tenantID
        self.tenantName = tenantName
        self.role = role
        self.groups = groups
    }

    package var isGlobalAdmin: Bool { role == .admin && tenantID == nil }

    /// What a bucket policy's `Principal: {"AWS": ...}` may name for this caller.
    package var policyPrincipal: PolicyPrincipal {
        let account = tenantName ?? "maxiofs"
        return PolicyPrincipal(
            canonicalID: userID,
            awsIdentifiers: [
                "arn:aws:iam::\(account):user/\(userName)", "arn:aws:iam::\(account):root", account, userID, userName,
            ])
    }
}

/// An access key resolved for request signing: the secret and who it belongs to.
package struct Identity: Sendable {
    package var accessKey: String
    package var secret: String
    package var principal: Principal
    /// Set when the key, its user or its tenant is not active: the signature is still checked, then the
    /// request is refused.
    package var disabledReason: String?

    package init(accessKey: String, secret: String, principal: Principal, disabledReason: String? = nil) {
        self.accessKey = accessKey
        self.secret = secret
        self.principal = principal
        self.disabledReason = disabledReason
    }
}

/// Expected outcomes of identity operations.
package enum IAMError: Error, Sendable, Equatable {
    case notFound(String)
    case alreadyExists(String)
    case quotaExceeded(String)
    case invalid(String)
    case forbidden(String)
    case notEmpty(String)
}

/// A refused login. The caller answers only "Invalid username or password." (the reason must not tell
/// whether the user exists); the reason is for the audit log.
package struct LoginRefused: Error, Sendable {
    package let reason: String
    package let user: UserRecord?

    package init(reason: String, user: UserRecord?) {
        self.reason = reason
        self.user = user
    }
}

/// A user's two-factor state other than the active secret.
package struct TwoFactorRecord: Sendable, Equatable {
    package var pending: [UInt8]?
    package var backupCodes: [String]
    package var lastCounter: Int64

    package init(pending: [UInt8]? = nil, backupCodes: [String] = [], lastCounter: Int64 = 0) {
        self.pending = pending
        self.backupCodes = backupCodes
        self.lastCounter = lastCounter
    }
}
