import Testing

@testable import MaxIOS3

@Suite struct RouteTests {
    struct Case: Sendable, CustomStringConvertible {
        var method: String
        var path: String
        var query: [String]
        var copy = false
        var expected: S3RouteResult
        var description: String { "\(method) \(path)?\(query.joined(separator: "&"))" }
    }

    static let cases: [Case] = [
        Case(method: "GET", path: "/", query: [], expected: .operation(.ListBuckets)),
        Case(method: "PUT", path: "/", query: [], expected: .methodNotAllowed),
        Case(method: "PUT", path: "/b", query: [], expected: .operation(.CreateBucket)),
        Case(method: "HEAD", path: "/b", query: [], expected: .operation(.HeadBucket)),
        Case(method: "DELETE", path: "/b", query: [], expected: .operation(.DeleteBucket)),
        Case(method: "GET", path: "/b", query: [], expected: .operation(.ListObjects)),
        Case(method: "GET", path: "/b/", query: ["list-type"], expected: .operation(.ListObjectsV2)),
        Case(method: "GET", path: "/b", query: ["location"], expected: .operation(.GetBucketLocation)),
        Case(method: "GET", path: "/b", query: ["versions"], expected: .operation(.ListObjectVersions)),
        Case(method: "GET", path: "/b", query: ["uploads"], expected: .operation(.ListMultipartUploads)),
        Case(method: "POST", path: "/b", query: ["delete"], expected: .operation(.DeleteObjects)),
        Case(method: "POST", path: "/b", query: [], expected: .operation(.PostObject)),
        Case(method: "GET", path: "/b", query: ["website"], expected: .operation(.GetBucketWebsite)),
        Case(method: "PUT", path: "/b", query: ["website"], expected: .operation(.PutBucketWebsite)),
        Case(method: "DELETE", path: "/b", query: ["website"], expected: .operation(.DeleteBucketWebsite)),
        Case(method: "GET", path: "/b", query: ["logging"], expected: .operation(.GetBucketLogging)),
        Case(method: "DELETE", path: "/b", query: ["logging"], expected: .methodNotAllowed),
        Case(method: "GET", path: "/b", query: ["analytics"], expected: .operation(.ListBucketAnalyticsConfigurations)),
        Case(
            method: "GET", path: "/b", query: ["analytics", "id"],
            expected: .operation(.GetBucketAnalyticsConfiguration)),
        Case(method: "GET", path: "/b", query: ["policyStatus"], expected: .operation(.GetBucketPolicyStatus)),
        Case(method: "GET", path: "/b", query: ["policy"], expected: .operation(.GetBucketPolicy)),
        Case(method: "PUT", path: "/b", query: ["versioning"], expected: .operation(.PutBucketVersioning)),
        Case(method: "GET", path: "/b", query: ["object-lock"], expected: .operation(.GetObjectLockConfiguration)),
        Case(method: "GET", path: "/b/k", query: [], expected: .operation(.GetObject)),
        Case(method: "HEAD", path: "/b/k", query: [], expected: .operation(.HeadObject)),
        Case(method: "PUT", path: "/b/k", query: [], expected: .operation(.PutObject)),
        Case(method: "PUT", path: "/b/k", query: [], copy: true, expected: .operation(.CopyObject)),
        Case(method: "DELETE", path: "/b/k", query: [], expected: .operation(.DeleteObject)),
        Case(method: "PUT", path: "/b/k", query: ["partNumber", "uploadId"], expected: .operation(.UploadPart)),
        Case(
            method: "PUT", path: "/b/k", query: ["partNumber", "uploadId"], copy: true,
            expected: .operation(.UploadPartCopy)),
        Case(method: "POST", path: "/b/k", query: ["uploads"], expected: .operation(.CreateMultipartUpload)),
        Case(method: "POST", path: "/b/k", query: ["uploadId"], expected: .operation(.CompleteMultipartUpload)),
        Case(method: "DELETE", path: "/b/k", query: ["uploadId"], expected: .operation(.AbortMultipartUpload)),
        Case(method: "GET", path: "/b/k", query: ["uploadId"], expected: .operation(.ListParts)),
        Case(method: "GET", path: "/b/k", query: ["tagging"], expected: .operation(.GetObjectTagging)),
        Case(method: "PUT", path: "/b/k", query: ["acl"], expected: .operation(.PutObjectAcl)),
        Case(method: "GET", path: "/b/k", query: ["attributes"], expected: .operation(.GetObjectAttributes)),
        Case(method: "POST", path: "/b/k", query: ["restore"], expected: .operation(.RestoreObject)),
        Case(method: "POST", path: "/b/k", query: [], expected: .methodNotAllowed),
        Case(method: "PATCH", path: "/b/k", query: [], expected: .methodNotAllowed),
        Case(method: "GET", path: "/b/a/b/c", query: ["response-content-type"], expected: .operation(.GetObject)),
    ]

    @Test(arguments: cases)
    func resolves(_ c: Case) {
        let target = S3Target.parse(path: c.path, host: "localhost", domains: [])
        #expect(
            S3Route.resolve(method: c.method, target: target, query: Set(c.query), hasCopySource: c.copy) == c.expected)
    }

    @Test func pathStyleTargets() {
        #expect(S3Target.parse(path: "/", host: nil, domains: []) == S3Target(bucket: nil, key: nil))
        #expect(S3Target.parse(path: "/b", host: nil, domains: []) == S3Target(bucket: "b", key: nil))
        #expect(S3Target.parse(path: "/b/", host: nil, domains: []) == S3Target(bucket: "b", key: nil))
        #expect(S3Target.parse(path: "/b/a//c/", host: nil, domains: []) == S3Target(bucket: "b", key: "a//c/"))
        #expect(S3Target.parse(path: "/b/../x", host: nil, domains: []) == S3Target(bucket: "b", key: "../x"))
    }

    @Test func virtualHostTargets() {
        let d = ["s3.example.com"]
        #expect(
            S3Target.parse(path: "/k/x", host: "bucket.s3.example.com", domains: d)
                == S3Target(bucket: "bucket", key: "k/x", virtualHost: true))
        #expect(
            S3Target.parse(path: "/", host: "my.dotted.bucket.s3.example.com", domains: d)
                == S3Target(bucket: "my.dotted.bucket", key: nil, virtualHost: true))
        // The bare domain is path style.
        #expect(S3Target.parse(path: "/b/k", host: "s3.example.com", domains: d) == S3Target(bucket: "b", key: "k"))
        // Without a configured domain, the host is ignored.
        #expect(
            S3Target.parse(path: "/b/k", host: "bucket.s3.example.com", domains: []) == S3Target(bucket: "b", key: "k"))
    }

    @Test func writeClassification() {
        #expect(S3Operation.PutObject.isWrite)
        #expect(S3Operation.DeleteObjects.isWrite)
        #expect(!S3Operation.GetObject.isWrite)
        #expect(!S3Operation.ListObjectsV2.isWrite)
        #expect(!S3Operation.HeadBucket.isWrite)
    }
}

@Suite struct RouteSafetyTests {
    /// Sub-resources of operations we do not implement must never fall through to a destructive
    /// plain operation (DeleteBucket, PutObject, CreateBucket).
    @Test func unknownAWSSubresourcesDoNotFallThrough() {
        let bucket = S3Target(bucket: "b", key: nil)
        let object = S3Target(bucket: "b", key: "k")
        #expect(
            S3Route.resolve(method: "DELETE", target: bucket, query: ["metadataTable"], hasCopySource: false)
                == .operation(.DeleteBucketMetadataTableConfiguration))
        #expect(
            S3Route.resolve(method: "POST", target: bucket, query: ["metadataConfiguration"], hasCopySource: false)
                == .operation(.CreateBucketMetadataConfiguration))
        #expect(
            S3Route.resolve(method: "PUT", target: object, query: ["renameObject"], hasCopySource: false)
                == .operation(.RenameObject))
        #expect(
            S3Route.resolve(method: "PUT", target: bucket, query: ["metadataTable"], hasCopySource: false)
                == .methodNotAllowed)
    }
}

@Suite struct RouteFallThroughTests {
    /// Known sub-resources on a method that has no operation for them: 405, never the plain operation.
    @Test(arguments: [
        ("DELETE", "/b/k", ["acl"]), ("PUT", "/b/k", ["torrent"]), ("PUT", "/b/k", ["partNumber"]),
        ("PUT", "/b/k", ["uploadId"]), ("DELETE", "/b", ["session"]), ("DELETE", "/b", ["metadataInventoryTable"]),
        ("PUT", "/b", ["uploads"]), ("GET", "/b/k", ["uploads"]), ("PUT", "/b/k", ["restore"]),
    ])
    func noFallThrough(_ method: String, _ path: String, _ query: [String]) {
        let target = S3Target.parse(path: path, host: nil, domains: [])
        #expect(
            S3Route.resolve(method: method, target: target, query: Set(query), hasCopySource: false)
                == .methodNotAllowed)
    }

    @Test func unimplementedUpdatesAreNamed() {
        let bucket = S3Target(bucket: "b", key: nil)
        #expect(
            S3Route.resolve(method: "PUT", target: bucket, query: ["abac"], hasCopySource: false)
                == .operation(.PutBucketAbac))
        #expect(
            S3Route.resolve(method: "PUT", target: bucket, query: ["metadataJournalTable"], hasCopySource: false)
                == .operation(.UpdateBucketMetadataJournalTableConfiguration))
        #expect(
            S3Route.resolve(
                method: "PUT", target: S3Target(bucket: "b", key: "k"), query: ["encryption"], hasCopySource: false)
                == .operation(.UpdateObjectEncryption))
        // Ordinary parameters still reach the plain operations.
        #expect(
            S3Route.resolve(
                method: "GET", target: S3Target(bucket: "b", key: "k"),
                query: ["partNumber", "versionId", "response-content-type"], hasCopySource: false)
                == .operation(.GetObject))
        #expect(
            S3Route.resolve(
                method: "GET", target: bucket, query: ["list-type", "prefix", "delimiter"], hasCopySource: false)
                == .operation(.ListObjectsV2))
        #expect(
            S3Route.resolve(method: "PUT", target: bucket, query: ["x-id"], hasCopySource: false)
                == .operation(.CreateBucket))
    }
}
