/// The addressed resource of a request, after path-style / virtual-host-style parsing.
package struct S3Target: Equatable, Sendable {
    package var bucket: String?
    package var key: String?
    /// Whether the bucket came from the Host header.
    package var virtualHost: Bool

    package init(bucket: String?, key: String?, virtualHost: Bool = false) {
        self.bucket = bucket
        self.key = key
        self.virtualHost = virtualHost
    }

    /// Parses the target from the decoded path and the Host header.
    /// - Parameters:
    ///   - path: the request path, percent-decoded
    ///   - host: the Host header, without port
    ///   - domains: configured base domains for virtual-host style; empty disables it
    package static func parse(path: String, host: String?, domains: [String]) -> S3Target {
        var bucketFromHost: String?
        if let host, !domains.isEmpty {
            let h = host.lowercased()
            for d in domains where h.count > d.count + 1 && h.hasSuffix("." + d) {
                bucketFromHost = String(h.dropLast(d.count + 1))
                break
            }
        }
        var p = Substring(path)
        if p.first == "/" { p = p.dropFirst() }
        if let bucket = bucketFromHost {
            return S3Target(bucket: bucket, key: p.isEmpty ? nil : String(p), virtualHost: true)
        }
        if p.isEmpty { return S3Target(bucket: nil, key: nil) }
        guard let slash = p.firstIndex(of: "/") else { return S3Target(bucket: String(p), key: nil) }
        let key = p[p.index(after: slash)...]
        return S3Target(bucket: String(p[..<slash]), key: key.isEmpty ? nil : String(key))
    }
}

package enum S3RouteResult: Equatable, Sendable {
    case operation(S3Operation)
    case methodNotAllowed
}

/// Resolves the S3 operation of a request: a pure function of method, target, query and a few headers.
package enum S3Route {
    package static func resolve(
        method: String, target: S3Target, query: Set<String>, hasCopySource: Bool
    ) -> S3RouteResult {
        func has(_ q: String) -> Bool { query.contains(q) }
        guard target.bucket != nil else {
            return method == "GET" ? .operation(.ListBuckets) : .methodNotAllowed
        }
        let result =
            target.key != nil
            ? object(method: method, has: has, hasCopySource: hasCopySource) : bucket(method: method, has: has)
        // A plain operation (PutObject, DeleteBucket...) is what a request without sub-resource means. A
        // sub-resource that no route of this method took must never fall through to it: that would turn
        // an operation we do not know into an overwrite or a delete.
        if case .operation(let op) = result, let allowed = plainOperations[op],
            !query.isDisjoint(with: subresources.subtracting(allowed))
        {
            return .methodNotAllowed
        }
        return result
    }

    /// Query parameters that name a sub-resource or an operation somewhere in the S3 API.
    static let subresources: Set<String> = [
        "abac", "accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption",
        "intelligent-tiering", "inventory", "legal-hold", "lifecycle", "list-type", "location", "logging",
        "metadataConfiguration", "metadataInventoryTable", "metadataJournalTable", "metadataTable", "metrics",
        "notification", "object-lock", "ownershipControls", "partNumber", "policy", "policyStatus",
        "publicAccessBlock", "renameObject", "replication", "requestPayment", "restore", "retention", "select",
        "session", "tagging", "torrent", "uploadId", "uploads", "versioning", "versions", "website",
    ]

    /// The operations a request resolves to when it names no sub-resource, with the sub-resource-like
    /// parameters each legitimately takes.
    static let plainOperations: [S3Operation: Set<String>] = [
        .GetObject: ["partNumber"], .HeadObject: ["partNumber"], .PutObject: [], .CopyObject: [],
        .DeleteObject: [], .CreateBucket: [], .DeleteBucket: [], .HeadBucket: [], .ListObjects: [],
        .ListObjectsV2: ["list-type"], .PostObject: [],
    ]

    private static func object(method: String, has: (String) -> Bool, hasCopySource: Bool) -> S3RouteResult {
        switch method {
        case "GET":
            if has("acl") { return .operation(.GetObjectAcl) }
            if has("attributes") { return .operation(.GetObjectAttributes) }
            if has("legal-hold") { return .operation(.GetObjectLegalHold) }
            if has("retention") { return .operation(.GetObjectRetention) }
            if has("tagging") { return .operation(.GetObjectTagging) }
            if has("torrent") { return .operation(.GetObjectTorrent) }
            if has("uploadId") { return .operation(.ListParts) }
            return .operation(.GetObject)
        case "HEAD":
            return .operation(.HeadObject)
        case "PUT":
            if has("acl") { return .operation(.PutObjectAcl) }
            if has("legal-hold") { return .operation(.PutObjectLegalHold) }
            if has("retention") { return .operation(.PutObjectRetention) }
            if has("tagging") { return .operation(.PutObjectTagging) }
            if has("renameObject") { return .operation(.RenameObject) }
            if has("encryption") { return .operation(.UpdateObjectEncryption) }
            if has("partNumber") && has("uploadId") {
                return .operation(hasCopySource ? .UploadPartCopy : .UploadPart)
            }
            return .operation(hasCopySource ? .CopyObject : .PutObject)
        case "POST":
            if has("uploads") { return .operation(.CreateMultipartUpload) }
            if has("uploadId") { return .operation(.CompleteMultipartUpload) }
            if has("restore") { return .operation(.RestoreObject) }
            if has("select") { return .operation(.SelectObjectContent) }
            return .methodNotAllowed
        case "DELETE":
            if has("tagging") { return .operation(.DeleteObjectTagging) }
            if has("uploadId") { return .operation(.AbortMultipartUpload) }
            return .operation(.DeleteObject)
        default:
            return .methodNotAllowed
        }
    }

    /// Sub-resources shared by GET / PUT / DELETE on a bucket, most specific first.
    private static let bucketSubresources:
        [(query: String, get: S3Operation?, put: S3Operation?, delete: S3Operation?)] = [
            ("accelerate", .GetBucketAccelerateConfiguration, .PutBucketAccelerateConfiguration, nil),
            ("acl", .GetBucketAcl, .PutBucketAcl, nil),
            (
                "analytics", .GetBucketAnalyticsConfiguration, .PutBucketAnalyticsConfiguration,
                .DeleteBucketAnalyticsConfiguration
            ),
            ("cors", .GetBucketCors, .PutBucketCors, .DeleteBucketCors),
            ("encryption", .GetBucketEncryption, .PutBucketEncryption, .DeleteBucketEncryption),
            (
                "intelligent-tiering", .GetBucketIntelligentTieringConfiguration,
                .PutBucketIntelligentTieringConfiguration, .DeleteBucketIntelligentTieringConfiguration
            ),
            (
                "inventory", .GetBucketInventoryConfiguration, .PutBucketInventoryConfiguration,
                .DeleteBucketInventoryConfiguration
            ),
            ("lifecycle", .GetBucketLifecycleConfiguration, .PutBucketLifecycleConfiguration, .DeleteBucketLifecycle),
            ("location", .GetBucketLocation, nil, nil),
            ("logging", .GetBucketLogging, .PutBucketLogging, nil),
            (
                "metrics", .GetBucketMetricsConfiguration, .PutBucketMetricsConfiguration,
                .DeleteBucketMetricsConfiguration
            ),
            ("notification", .GetBucketNotificationConfiguration, .PutBucketNotificationConfiguration, nil),
            ("object-lock", .GetObjectLockConfiguration, .PutObjectLockConfiguration, nil),
            (
                "ownershipControls", .GetBucketOwnershipControls, .PutBucketOwnershipControls,
                .DeleteBucketOwnershipControls
            ),
            ("policyStatus", .GetBucketPolicyStatus, nil, nil),
            ("policy", .GetBucketPolicy, .PutBucketPolicy, .DeleteBucketPolicy),
            ("publicAccessBlock", .GetPublicAccessBlock, .PutPublicAccessBlock, .DeletePublicAccessBlock),
            ("replication", .GetBucketReplication, .PutBucketReplication, .DeleteBucketReplication),
            ("requestPayment", .GetBucketRequestPayment, .PutBucketRequestPayment, nil),
            ("tagging", .GetBucketTagging, .PutBucketTagging, .DeleteBucketTagging),
            ("versioning", .GetBucketVersioning, .PutBucketVersioning, nil),
            ("website", .GetBucketWebsite, .PutBucketWebsite, .DeleteBucketWebsite),
        ]

    /// Bucket sub-resources whose create is a POST.
    private static let postSubresources: [(query: String, post: S3Operation, get: S3Operation, delete: S3Operation)] = [
        (
            "metadataConfiguration", .CreateBucketMetadataConfiguration, .GetBucketMetadataConfiguration,
            .DeleteBucketMetadataConfiguration
        ),
        (
            "metadataTable", .CreateBucketMetadataTableConfiguration, .GetBucketMetadataTableConfiguration,
            .DeleteBucketMetadataTableConfiguration
        ),
    ]

    /// Bucket sub-resources whose only write is a PUT of an update.
    private static let updateSubresources: [(query: String, put: S3Operation, get: S3Operation?)] = [
        ("abac", .PutBucketAbac, .GetBucketAbac),
        ("metadataInventoryTable", .UpdateBucketMetadataInventoryTableConfiguration, nil),
        ("metadataJournalTable", .UpdateBucketMetadataJournalTableConfiguration, nil),
    ]

    private static func bucket(method: String, has: (String) -> Bool) -> S3RouteResult {
        for sub in updateSubresources where has(sub.query) {
            switch method {
            case "PUT": return .operation(sub.put)
            case "GET": return sub.get.map { .operation($0) } ?? .methodNotAllowed
            default: return .methodNotAllowed
            }
        }
        for sub in postSubresources where has(sub.query) {
            switch method {
            case "POST": return .operation(sub.post)
            case "GET": return .operation(sub.get)
            case "DELETE": return .operation(sub.delete)
            default: return .methodNotAllowed
            }
        }
        switch method {
        case "GET", "PUT", "DELETE":
            for sub in bucketSubresources where has(sub.query) {
                let op: S3Operation? =
                    switch method {
                    case "GET": sub.get
                    case "PUT": sub.put
                    default: sub.delete
                    }
                guard var op else { return .methodNotAllowed }
                if method == "GET" && !has("id") {
                    switch op {
                    case .GetBucketAnalyticsConfiguration: op = .ListBucketAnalyticsConfigurations
                    case .GetBucketIntelligentTieringConfiguration: op = .ListBucketIntelligentTieringConfigurations
                    case .GetBucketInventoryConfiguration: op = .ListBucketInventoryConfigurations
                    case .GetBucketMetricsConfiguration: op = .ListBucketMetricsConfigurations
                    default: break
                    }
                }
                return .operation(op)
            }
            switch method {
            case "GET":
                if has("uploads") { return .operation(.ListMultipartUploads) }
                if has("versions") { return .operation(.ListObjectVersions) }
                if has("session") { return .operation(.CreateSession) }
                if has("list-type") { return .operation(.ListObjectsV2) }
                return .operation(.ListObjects)
            case "PUT":
                return .operation(.CreateBucket)
            default:
                return .operation(.DeleteBucket)
            }
        case "HEAD":
            return .operation(.HeadBucket)
        case "POST":
            if has("delete") { return .operation(.DeleteObjects) }
            return .operation(.PostObject)
        default:
            return .methodNotAllowed
        }
    }
}
