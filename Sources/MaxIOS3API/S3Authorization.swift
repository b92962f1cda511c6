import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOS3
import MaxIOSigV4
import MaxIOStorage
import Synchronization

/// What authorization knows of buckets, for a few seconds (changes made through this server drop entries
/// at once: bucket settings here, grants through the IAM generation).
final class BucketAccessCache: Sendable {
    struct Entry {
        var access: BucketAccess
        var generation: Int
        var at: ContinuousClock.Instant
    }
    private let entries = Mutex<[String: Entry]>([:])
    let ttl: Duration = .seconds(5)

    func get(_ bucket: String, generation: Int) -> BucketAccess? {
        entries.withLock { e in
            guard let hit = e[bucket], hit.generation == generation, ContinuousClock.now - hit.at < ttl else {
                return nil
            }
            return hit.access
        }
    }

    func put(_ access: BucketAccess, generation: Int) {
        entries.withLock { e in
            if e.count > 10_000 { e.removeAll() }
            e[access.name] = Entry(access: access, generation: generation, at: .now)
        }
    }

    func drop(_ bucket: String) {
        _ = entries.withLock { $0.removeValue(forKey: bucket) }
    }
}

/// The canonical id AWS gives anonymous requesters.
let anonymousOwnerID = "65a011a29cdf8ec533ec3d1ccaae921c"

extension S3API {
    /// The bucket as authorization sees it; nil when there is no such bucket.
    func bucketAccess(_ name: String) async throws -> BucketAccess? {
        let generation = iam.generation
        if let hit = accessCache.get(name, generation: generation) { return hit }
        guard let b = try await metadata.bucket(name) else { return nil }
        let access = try await bucketAccess(b)
        accessCache.put(access, generation: generation)
        return access
    }

    func bucketAccess(_ b: BucketRecord) async throws -> BucketAccess {
        // A stored policy was valid when it was put; one that no longer parses denies nothing and allows nothing.
        let policy = b.policy.flatMap { try? BucketPolicy.parse($0, bucket: b.name) }
        var access = BucketAccess(
            name: b.name, tenantID: b.tenant.isEmpty ? nil : b.tenant, owner: b.owner, policy: policy,
            grants: try await iam.store.grants(bucket: b.name))
        access.ownership = b.ownership.flatMap(ObjectOwnership.init(rawValue:))
        access.acl = AccessControlList.decode(b.acl)
        access.publicAccessBlock = b.publicAccessBlock.flatMap {
            try? JSONDecoder().decode(PublicAccessBlock.self, from: Data($0.utf8))
        }
        return access
    }

    /// Condition keys of a request for bucket policies.
    func policyContext(_ call: S3Call) -> [String: [String]] {
        let now = Date()
        var c: [String: [String]] = [
            "aws:securetransport": [config.secureTransport ? "true" : "false"],
            "aws:currenttime": [WireDate.iso8601(now)],
            "aws:epochtime": [String(Int(now.timeIntervalSince1970))],
        ]
        if let ip = call.channel.remoteAddress?.ipAddress { c["aws:sourceip"] = [ip] }
        if let p = call.principal {
            c["aws:username"] = [p.userName]
            c["aws:userid"] = [p.userID]
            c["aws:principaltype"] = ["User"]
        } else {
            c["aws:principaltype"] = ["Anonymous"]
        }
        for (param, key) in [("prefix", "s3:prefix"), ("delimiter", "s3:delimiter"), ("max-keys", "s3:max-keys")] {
            if let v = call.query[param] { c[key] = [v] }
        }
        if let v = call.query["versionId"] { c["s3:versionid"] = [v] }
        for name in [
            "x-amz-acl", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-server-side-encryption",
            "x-amz-storage-class", "x-amz-content-sha256", "x-amz-object-lock-mode", "x-amz-object-lock-legal-hold",
        ] {
            if let v = call.header(name) { c["s3:" + name] = [v] }
        }
        if let header = call.header("x-amz-tagging"), let tags = try? TagRules.parseHeader(header) {
            for t in tags { c["s3:requestobjecttag/" + t.key.lowercased()] = [t.value] }
            c["s3:requestobjecttagkeys"] = tags.map(\.key)
        }
        if call.auth.accessKey.isEmpty {
            c["s3:authtype"] = []
        } else {
            c["s3:authtype"] = [call.request.headers[.authorization] != nil ? "REST-HEADER" : "REST-QUERY-STRING"]
        }
        return c
    }

    static func arn(_ bucket: String, _ key: String?) -> String {
        "arn:aws:s3:::" + bucket + (key.map { "/" + $0 } ?? "")
    }

    static let accessDenied = S3Error(.AccessDenied, "Access Denied")

    /// The one authorization step of the S3 pipeline, after the signature: throws AccessDenied, or NoSuchBucket
    /// when the bucket does not exist. Returns what per-key checks in handlers need.
    func authorize(_ call: S3Call) async throws -> BucketAccess? {
        let principal = call.principal
        if principal?.isGlobalAdmin == true { return nil }
        switch call.operation {
        case .ListBuckets:
            guard principal != nil else { throw Self.accessDenied }
            return nil
        case .CreateBucket:
            guard let principal,
                Authorizer.identityAllows(principal, level: .admin, action: "s3:CreateBucket", bucket: nil)
            else { throw Self.accessDenied }
            return nil
        default:
            break
        }
        guard let bucket = call.bucket else { throw Self.accessDenied }
        guard let access = try await bucketAccess(bucket) else { throw StorageError.noSuchBucket }
        // Per-key operations are checked key by key in their handler.
        if call.operation == .DeleteObjects { return access }
        let action = call.operation.iamAction(versioned: call.query["versionId"] != nil)
        let allowed = try await decide(
            call, action: action, access: access, key: call.key, versionID: call.query["versionId"])
        guard allowed else { throw Self.accessDenied }
        return access
    }

    /// The decision for one action on one bucket or key: the object's tags are read for policies that test them,
    /// and, only when nothing else allowed it, the object's ACL (ACLs enabled).
    func decide(_ call: S3Call, action: String, access: BucketAccess, key: String?, versionID: String?)
        async throws -> Bool
    {
        var context = policyContext(call)
        if let key {
            try await addExistingObjectTags(&context, access, bucket: access.name, key: key, versionID: versionID)
        }
        let resource = Self.arn(access.name, key)
        var decision = Authorizer.authorize(
            principal: call.principal, action: action, bucket: access, resource: resource, context: context)
        if decision == .deny(explicit: false), access.aclsEnabled, let key,
            AccessControlList.objectPermission(for: action) != nil
        {
            let acl = try await objectACL(bucket: access.name, key: key, versionID: versionID, owner: access.owner)
            decision = Authorizer.authorize(
                principal: call.principal, action: action, bucket: access, resource: resource, context: context,
                objectACL: acl)
        }
        return decision == .allow
    }

    /// A further check inside a handler (a key of DeleteObjects, the source of a copy).
    func allows(_ call: S3Call, action: String, bucket: String, key: String?, versionID: String? = nil)
        async throws -> Bool
    {
        if call.principal?.isGlobalAdmin == true { return true }
        guard let access = try await bucketAccess(bucket) else {
            throw S3Error(.NoSuchBucket, nil, extra: [("BucketName", bucket)])
        }
        return try await decide(call, action: action, access: access, key: key, versionID: versionID)
    }

    /// A further check in the request's own bucket, with what `authorize` resolved.
    func allowsInBucket(_ call: S3Call, action: String, key: String?) -> Bool {
        if call.principal?.isGlobalAdmin == true { return true }
        guard let access = call.access else { return false }
        return Authorizer.authorize(
            principal: call.principal, action: action, bucket: access, resource: Self.arn(access.name, key),
            context: policyContext(call)) == .allow
    }

    /// `x-amz-expected-bucket-owner`: AccessDenied unless the bucket's owner is the one named (its canonical id,
    /// or its tenant's name or id, the tenant being the account).
    func checkExpectedOwner(_ call: S3Call) async throws {
        guard let expected = call.header("x-amz-expected-bucket-owner"), call.operation != .CreateBucket,
            let bucket = call.bucket
        else { return }
        guard try await bucketOwnedBy(expected, bucket: bucket, access: call.access) else { throw Self.accessDenied }
    }

    func bucketOwnedBy(_ expected: String, bucket: String, access known: BucketAccess?) async throws -> Bool {
        var access = known
        if access == nil { access = try await bucketAccess(bucket) }
        guard let access else { throw S3Error(.NoSuchBucket, nil, extra: [("BucketName", bucket)]) }
        if expected == access.owner { return true }
        guard let tenant = access.tenantID else { return false }
        if expected == tenant { return true }
        return try await iam.store.tenant(id: tenant)?.name == expected
    }

    /// Owners for a listing: the bucket owner, and whether objects may have other owners (ACLs enabled), with
    /// display names looked up once per listing.
    func listingOwners(_ call: S3Call) async throws -> ListingOwners {
        var owner = call.access?.owner
        var aclsEnabled = call.access?.aclsEnabled
        if owner == nil || aclsEnabled == nil, let bucket = call.bucket, let b = try await metadata.bucket(bucket) {
            owner = b.owner
            aclsEnabled = b.ownership != ObjectOwnership.bucketOwnerEnforced.rawValue
        }
        var o = ListingOwners(
            bucketOwner: owner ?? call.ownerID, aclsEnabled: aclsEnabled ?? false, iam: iam)
        o.names[call.ownerID] = call.displayName
        return o
    }

    /// Who owns a listed object or version: the owner in its ACL, else the bucket owner.
    struct ListingOwners {
        var bucketOwner: String
        var aclsEnabled: Bool
        let iam: IAMService
        var names: [String: String] = [:]

        func owner(acl: String?) -> String {
            guard aclsEnabled, let acl else { return bucketOwner }
            return AccessControlList.decode(acl)?.owner ?? bucketOwner
        }

        mutating func name(_ id: String) async throws -> (String, String) {
            if let n = names[id] { return (id, n) }
            let n = try await iam.store.user(id: id)?.displayName ?? id
            names[id] = n
            return (id, n)
        }
    }

    /// `s3:ExistingObjectTag/<key>`: the tags of the object the request names, looked up only when the bucket's
    /// policy has a condition on them.
    func addExistingObjectTags(
        _ context: inout [String: [String]], _ access: BucketAccess, bucket: String, key: String, versionID: String?
    ) async throws {
        guard let policy = access.policy, policy.text.lowercased().contains("s3:existingobjecttag/") else { return }
        let record: ObjectRecord?
        if let versionID {
            record = try await metadata.objectVersion(bucket: bucket, key: key, versionID: versionID)
        } else {
            record = try await metadata.object(bucket: bucket, key: key)
        }
        guard let record, !record.isDeleteMarker else { return }
        for t in record.meta.tags { context["s3:existingobjecttag/" + t.key.lowercased()] = [t.value] }
    }

    /// The ACL of a version (the latest without `versionID`); the owner's full control when none was set, nil when
    /// there is no such object (the request is then refused as unauthorized, not as missing).
    func objectACL(bucket: String, key: String, versionID: String?, owner: String) async throws -> AccessControlList? {
        let record: ObjectRecord?
        if let versionID {
            record = try await metadata.objectVersion(bucket: bucket, key: key, versionID: versionID)
        } else {
            record = try await metadata.object(bucket: bucket, key: key)
        }
        guard let record, !record.isDeleteMarker else { return nil }
        return AccessControlList.decode(record.meta.acl) ?? AccessControlList(owner: owner, grants: [])
    }

    /// Read access to a copy source: AccessDenied otherwise.
    func authorizeCopySource(_ call: S3Call, bucket: String, key: String, versionID: String?) async throws {
        if let expected = call.header("x-amz-source-expected-bucket-owner"),
            try await !bucketOwnedBy(expected, bucket: bucket, access: nil)
        {
            throw Self.accessDenied
        }
        let action = versionID == nil ? "s3:GetObject" : "s3:GetObjectVersion"
        guard try await allows(call, action: action, bucket: bucket, key: key, versionID: versionID) else {
            throw Self.accessDenied
        }
    }
}
