import Foundation

/// S3 access control lists: grants of READ, WRITE, READ_ACP, WRITE_ACP or FULL_CONTROL to a canonical user or
/// one of the groups AllUsers / AuthenticatedUsers.
package enum ACLPermission: String, Sendable, Codable, CaseIterable {
    case fullControl = "FULL_CONTROL"
    case read = "READ"
    case write = "WRITE"
    case readACP = "READ_ACP"
    case writeACP = "WRITE_ACP"
}

package enum ACLGrantee: Sendable, Equatable, Codable, Hashable {
    case user(String)
    case group(String)

    package static let allUsers = "http://acs.amazonaws.com/groups/global/AllUsers"
    package static let authenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
    package static let logDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"

    package var isPublic: Bool {
        if case .group(let uri) = self { return uri == Self.allUsers || uri == Self.authenticatedUsers }
        return false
    }
}

package struct ACLGrant: Sendable, Equatable, Codable, Hashable {
    package var grantee: ACLGrantee
    package var permission: ACLPermission

    package init(_ grantee: ACLGrantee, _ permission: ACLPermission) {
        self.grantee = grantee
        self.permission = permission
    }
}

/// Why an ACL request is refused; the S3 layer names the error code.
package enum ACLError: Error, Sendable, Equatable {
    case invalidCanned(String)
    case unresolvableEmail(String)
    case invalidGrantee(String)
    case cannedAndGrants
}

package struct AccessControlList: Sendable, Equatable, Codable {
    /// Canonical id of the owner (who always has FULL_CONTROL implicitly, as the bucket or object owner).
    package var owner: String
    package var grants: [ACLGrant]

    package init(owner: String, grants: [ACLGrant]) {
        self.owner = owner
        self.grants = grants
    }

    package static let bucketCanned: Set<String> = [
        "private", "public-read", "public-read-write", "authenticated-read", "log-delivery-write",
        "bucket-owner-full-control",
    ]
    package static let objectCanned: Set<String> = [
        "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read", "bucket-owner-read",
        "bucket-owner-full-control",
    ]

    /// A canned ACL: `owner` gets FULL_CONTROL, the rest as AWS defines each name.
    package static func canned(_ name: String, owner: String, bucketOwner: String, forObject: Bool) throws(ACLError)
        -> AccessControlList
    {
        guard (forObject ? objectCanned : bucketCanned).contains(name) else { throw .invalidCanned(name) }
        var grants = [ACLGrant(.user(owner), .fullControl)]
        switch name {
        case "public-read": grants.append(ACLGrant(.group(ACLGrantee.allUsers), .read))
        case "public-read-write":
            grants.append(ACLGrant(.group(ACLGrantee.allUsers), .read))
            grants.append(ACLGrant(.group(ACLGrantee.allUsers), .write))
        case "authenticated-read": grants.append(ACLGrant(.group(ACLGrantee.authenticatedUsers), .read))
        case "log-delivery-write":
            grants.append(ACLGrant(.group(ACLGrantee.logDelivery), .write))
            grants.append(ACLGrant(.group(ACLGrantee.logDelivery), .readACP))
        case "bucket-owner-read":
            if bucketOwner != owner { grants.append(ACLGrant(.user(bucketOwner), .read)) }
        case "bucket-owner-full-control":
            if bucketOwner != owner { grants.append(ACLGrant(.user(bucketOwner), .fullControl)) }
        default: break
        }
        return AccessControlList(owner: owner, grants: grants)
    }

    /// Grants from `x-amz-grant-read: id="…", uri="…"` style headers (by permission).
    package static func fromGrantHeaders(_ headers: [ACLPermission: String], owner: String) throws(ACLError)
        -> AccessControlList
    {
        var grants: [ACLGrant] = []
        for permission in ACLPermission.allCases {
            guard let value = headers[permission] else { continue }
            for item in value.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                guard parts.count == 2 else { throw .invalidGrantee(String(item)) }
                var v = parts[1]
                if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = String(v.dropFirst().dropLast()) }
                switch parts[0].lowercased() {
                case "id": grants.append(ACLGrant(.user(v), permission))
                case "uri": grants.append(ACLGrant(.group(v), permission))
                case "emailaddress": throw .unresolvableEmail(v)
                default: throw .invalidGrantee(String(item))
                }
            }
        }
        return AccessControlList(owner: owner, grants: grants)
    }

    /// Whether the grants give `principal` (nil: anonymous) `permission`.
    package func allows(_ principal: Principal?, _ permission: ACLPermission, ignorePublic: Bool = false) -> Bool {
        if let p = principal, p.userID == owner { return true }
        for g in grants where g.permission == permission || g.permission == .fullControl {
            switch g.grantee {
            case .user(let id): if principal?.userID == id { return true }
            case .group(let uri):
                if ignorePublic { continue }
                if uri == ACLGrantee.allUsers { return true }
                if uri == ACLGrantee.authenticatedUsers && principal != nil { return true }
            }
        }
        return false
    }

    /// Grants anything to everyone or to every signed-in caller.
    package var isPublic: Bool { grants.contains { $0.grantee.isPublic } }

    /// Only the owner (and possibly the bucket owner) with full control: what BucketOwnerEnforced accepts.
    package func onlyOwners(bucketOwner: String) -> Bool {
        grants.allSatisfy { g in
            if case .user(let id) = g.grantee {
                return (id == owner || id == bucketOwner) && g.permission == .fullControl
            }
            return false
        }
    }

    package func encoded() -> String {
        (try? String(data: JSONEncoder().encode(self), encoding: .utf8) ?? "") ?? ""
    }

    package static func decode(_ text: String?) -> AccessControlList? {
        guard let text, let data = text.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(AccessControlList.self, from: data)
    }

    /// The ACL permission an IAM action needs on the bucket's ACL (nil: bucket ACLs grant nothing for it).
    package static func bucketPermission(for action: String) -> ACLPermission? {
        switch action {
        case "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads": return .read
        case "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload": return .write
        case "s3:GetBucketAcl": return .readACP
        case "s3:PutBucketAcl": return .writeACP
        default: return nil
        }
    }

    /// The ACL permission an IAM action needs on the object's ACL (nil: object ACLs grant nothing for it).
    package static func objectPermission(for action: String) -> ACLPermission? {
        switch action {
        case "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes":
            return .read
        case "s3:GetObjectAcl", "s3:GetObjectVersionAcl": return .readACP
        case "s3:PutObjectAcl", "s3:PutObjectVersionAcl": return .writeACP
        default: return nil
        }
    }
}

/// Who owns the objects written to a bucket, and whether ACLs count (AWS's OwnershipControls).
package enum ObjectOwnership: String, Sendable, Codable {
    /// ACLs are disabled; the bucket owner owns every object (AWS's default for new buckets).
    case bucketOwnerEnforced = "BucketOwnerEnforced"
    case bucketOwnerPreferred = "BucketOwnerPreferred"
    case objectWriter = "ObjectWriter"
}

/// A bucket's PublicAccessBlock configuration.
package struct PublicAccessBlock: Sendable, Equatable, Codable {
    package var blockPublicAcls = false
    package var ignorePublicAcls = false
    package var blockPublicPolicy = false
    package var restrictPublicBuckets = false

    package init(
        blockPublicAcls: Bool = false, ignorePublicAcls: Bool = false, blockPublicPolicy: Bool = false,
        restrictPublicBuckets: Bool = false
    ) {
        self.blockPublicAcls = blockPublicAcls
        self.ignorePublicAcls = ignorePublicAcls
        self.blockPublicPolicy = blockPublicPolicy
        self.restrictPublicBuckets = restrictPublicBuckets
    }
}
