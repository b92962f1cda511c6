import Foundation

/// What authorization needs to know about a bucket.
package struct BucketAccess: Sendable {
    package var name: String
    /// The owning tenant's id; nil for buckets of global users.
    package var tenantID: String?
    /// The canonical id of the bucket's owner (the user who created it).
    package var owner: String
    package var policy: BucketPolicy?
    package var grants: [BucketGrant]
    /// nil after DeleteBucketOwnershipControls (ACLs count, as ObjectWriter).
    package var ownership: ObjectOwnership? = .bucketOwnerEnforced
    /// The bucket ACL; nil: the owner's full control only.
    package var acl: AccessControlList? = nil
    package var publicAccessBlock: PublicAccessBlock? = nil

    package init(name: String, tenantID: String?, owner: String, policy: BucketPolicy?, grants: [BucketGrant]) {
        self.name = name
        self.tenantID = tenantID
        self.owner = owner
        self.policy = policy
        self.grants = grants
    }

    /// ACLs grant access unless the bucket enforces bucket-owner ownership.
    package var aclsEnabled: Bool { ownership != .bucketOwnerEnforced }
}

package enum Decision: Sendable, Equatable {
    case allow
    /// `explicit`: a Deny statement matched (as opposed to nothing allowing the request).
    case deny(explicit: Bool)
}

extension AccessLevel {
    /// The grant level an IAM action needs: reads of data and of most settings need `read`; changes to
    /// objects `write`; changes to the bucket's settings, and reads of its policy and ACLs, `admin`.
    package static func required(for action: String) -> AccessLevel {
        let name = action.hasPrefix("s3:") ? String(action.dropFirst(3)) : action
        switch name {
        case "GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketAcl", "GetObjectAcl", "GetObjectVersionAcl",
            "PutObjectAcl", "PutObjectVersionAcl", "DeleteBucket", "BypassGovernanceRetention",
            "PutObjectRetention":
            return .admin
        default:
            break
        }
        if name.hasPrefix("Get") || name.hasPrefix("List") { return .read }
        if name.hasPrefix("PutObject") || name.hasPrefix("DeleteObject") || name == "AbortMultipartUpload"
            || name == "RestoreObject"
        {
            return .write
        }
        return .admin
    }
}

/// The one authorization decision for S3 requests: identity-based rights (role, ownership, bucket grants),
/// then the bucket policy, with AWS's logic: an explicit Deny wins, then an Allow from any source.
package enum Authorizer {
    /// - Parameters:
    ///   - principal: nil for anonymous requests
    ///   - bucket: nil for service-level actions (ListBuckets, CreateBucket)
    ///   - resource: the ARN (`arn:aws:s3:::bucket/key`)
    ///   - context: condition keys for the bucket policy
    ///   - objectACL: the ACL of the object the request names, when the caller looked it up (ACLs enabled)
    package static func authorize(
        principal: Principal?, action: String, bucket: BucketAccess?, resource: String,
        context: [String: [String]], objectACL: AccessControlList? = nil, now: Date = Date()
    ) -> Decision {
        let level = AccessLevel.required(for: action)
        var allowed = false
        if let principal {
            allowed = identityAllows(principal, level: level, action: action, bucket: bucket, now: now)
        }
        if let bucket, let policy = bucket.policy {
            let request = PolicyRequest(
                principal: principal?.policyPrincipal ?? .anonymous, action: action, resource: resource,
                context: context)
            switch policy.evaluate(request) {
            case .deny:
                // As AWS lets the owning account's root fix a policy that locks everyone out, global
                // administrators and the bucket's tenant administrators keep the policy operations.
                if let principal, isPolicyAction(action), canManagePolicy(principal, bucket) { return .allow }
                return .deny(explicit: true)
            case .allow:
                // RestrictPublicBuckets: a public policy serves only the bucket's own tenant.
                if bucket.publicAccessBlock?.restrictPublicBuckets == true && policy.isPublic {
                    if let p = principal, p.isGlobalAdmin || (p.tenantID != nil && p.tenantID == bucket.tenantID) {
                        allowed = true
                    }
                } else {
                    allowed = true
                }
            case .notApplicable: break
            }
        }
        if !allowed, let bucket, bucket.aclsEnabled {
            let ignorePublic = bucket.publicAccessBlock?.ignorePublicAcls == true
            if let needed = AccessControlList.bucketPermission(for: action) {
                let acl = bucket.acl ?? AccessControlList(owner: bucket.owner, grants: [])
                if acl.allows(principal, needed, ignorePublic: ignorePublic) { allowed = true }
            }
            if let needed = AccessControlList.objectPermission(for: action), let objectACL,
                objectACL.allows(principal, needed, ignorePublic: ignorePublic)
            {
                allowed = true
            }
        }
        return allowed ? .allow : .deny(explicit: false)
    }

    static func isPolicyAction(_ action: String) -> Bool {
        ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"].contains(action)
    }

    static func canManagePolicy(_ p: Principal, _ b: BucketAccess) -> Bool {
        p.isGlobalAdmin || (p.role == .tenantAdmin && p.tenantID != nil && p.tenantID == b.tenantID)
    }

    /// Rights from the caller's role, its ownership of the bucket and the bucket's grants.
    package static func identityAllows(
        _ p: Principal, level: AccessLevel, action: String, bucket: BucketAccess?, now: Date = Date()
    ) -> Bool {
        if p.isGlobalAdmin { return true }
        guard let bucket else {
            // Service-level: listing is for everyone (filtered per bucket); creating needs a writer.
            if action == "s3:CreateBucket" { return p.role != .readonly }
            return true
        }
        if p.tenantID != nil && p.tenantID == bucket.tenantID {
            switch p.role {
            case .admin, .tenantAdmin: return true
            case .readonly: if level == .read { return true }
            case .user: if bucket.owner == p.userID { return true }
            }
        } else if p.tenantID == nil && bucket.tenantID == nil && bucket.owner == p.userID {
            return true
        }
        // A read-only user never writes, whatever it was granted.
        if p.role == .readonly && level != .read { return false }
        for g in bucket.grants where g.level >= level {
            if let e = g.expiresAt, e <= now { continue }
            switch g.subject {
            case .user(let id): if id == p.userID { return true }
            case .group(let name): if p.groups.contains(name) { return true }
            case .tenant(let id): if id == p.tenantID { return true }
            }
        }
        return false
    }
}
