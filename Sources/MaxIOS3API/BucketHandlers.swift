import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOS3
import MaxIOSigV4
import MaxIOStorage
import NIOCore

extension S3API {
    /// Reads a small XML request body (with a limit), after `100 Continue`.
    /// With `verifyIntegrity`, the body must come with a Content-MD5 or `x-amz-checksum-*` header that
    /// matches it (as DeleteObjects requires).
    func readXMLBody(_ call: S3Call, limit: Int = 1 << 20, required: Bool, verifyIntegrity: Bool = false)
        async throws -> XMLNode?
    {
        let tooLarge = S3Error(
            .MalformedXML, "The XML you provided was larger than the maximum \(limit) bytes allowed.")
        let buffer = try await readSmallBody(call, limit: limit, tooLarge: tooLarge, verifyIntegrity: verifyIntegrity)
        if buffer.readableBytes == 0 {
            if required { throw S3Error(.MissingRequestBodyError) }
            return nil
        }
        do {
            return try XMLParser.parse(Array(buffer.readableBytesView))
        } catch {
            throw S3Error(.MalformedXML)
        }
    }

    /// Reads a small request body whole (at most `limit` bytes, else `tooLarge`), checking its payload hash,
    /// Content-MD5 and checksum headers.
    func readSmallBody(_ call: S3Call, limit: Int, tooLarge: S3Error, verifyIntegrity: Bool = false) async throws
        -> ByteBuffer
    {
        switch call.auth.payload {
        case .streamingSigned, .streamingUnsignedTrailer:
            throw S3Error(.InvalidRequest, "aws-chunked request bodies are accepted by PutObject and UploadPart only.")
        case .signed, .unsigned:
            break
        }
        var checksum: (ChecksumAlgorithm, String)?
        if verifyIntegrity {
            let (algorithm, expected) = try requestedChecksum(call, trailers: nil)
            if let algorithm, let value = expected?() { checksum = (algorithm, value) }
            if call.header(.contentMD5) == nil && checksum == nil {
                throw S3Error(.InvalidRequest, "Missing required header for this request: Content-MD5")
            }
        }
        if let len = call.header(.contentLength).flatMap(Int.init), len > limit { throw tooLarge }
        try await call.state.sendContinueIfExpected()
        let body = call.request.body
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw tooLarge
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            throw S3Error(.IncompleteBody)
        }
        if case .signed(let hex) = call.auth.payload,
            Hex.encode(SHA256.hash(data: buffer.readableBytesView)) != hex
        {
            throw S3Error(.XAmzContentSHA256Mismatch)
        }
        if let md5 = call.header(.contentMD5) {
            guard let d = Data(base64Encoded: md5), d.count == 16 else { throw S3Error(.InvalidDigest) }
            guard Array(d) == Array(Insecure.MD5.hash(data: buffer.readableBytesView)) else {
                throw S3Error(.BadDigest)
            }
        }
        if let (algorithm, value) = checksum {
            var h = ChecksumHasher(algorithm)
            buffer.withUnsafeReadableBytes { h.update($0) }
            guard h.base64() == value else { throw StorageError.checksumMismatch(algorithm) }
        }
        return buffer
    }

    func requireBucket(_ call: S3Call) throws -> String {
        guard let bucket = call.bucket else { throw S3Error(.InvalidRequest) }
        return bucket
    }

    func listBuckets(_ call: S3Call) async throws -> Response {
        var limit = 10000
        if let m = call.query["max-buckets"] {
            guard let v = Int(m), (1...10000).contains(v) else {
                throw S3Error(.InvalidArgument, "max-buckets must be an integer between 1 and 10000.")
            }
            limit = v
        }
        var after: String?
        if let token = call.query["continuation-token"] {
            guard let decoded = Data(base64Encoded: token).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw S3Error(.InvalidArgument, "The continuation token provided is incorrect")
            }
            after = decoded
        }
        let prefix = call.query["prefix"]
        let buckets = try await visibleBuckets(call, prefix: prefix, after: after, limit: limit + 1)
        let page = buckets.prefix(limit)
        var w = XMLWriter(capacity: 256 + 128 * page.count)
        w.open("ListAllMyBucketsResult")
        w.open("Owner", namespace: nil)
        w.element("ID", call.ownerID)
        w.element("DisplayName", call.displayName)
        w.close("Owner")
        w.open("Buckets", namespace: nil)
        for b in page {
            w.open("Bucket", namespace: nil)
            w.element("Name", b.name)
            w.element("CreationDate", WireDate.iso8601(b.createdAt))
            w.element("BucketRegion", b.region)
            w.close("Bucket")
        }
        w.close("Buckets")
        if buckets.count > limit, let last = page.last {
            w.element("ContinuationToken", Data(last.name.utf8).base64EncodedString())
        }
        if let prefix { w.element("Prefix", prefix) }
        w.close("ListAllMyBucketsResult")
        return xmlResponse(w.finish())
    }

    /// The buckets a caller may at least read (all of them for global administrators), in name order.
    func visibleBuckets(_ call: S3Call, prefix: String?, after: String?, limit: Int) async throws -> [BucketRecord] {
        guard let principal = call.principal, !principal.isGlobalAdmin else {
            return try await metadata.listBuckets(owner: nil, prefix: prefix, after: after, limit: limit)
        }
        var out: [BucketRecord] = []
        var cursor = after
        while out.count < limit {
            let batch = try await metadata.listBuckets(owner: nil, prefix: prefix, after: cursor, limit: 1000)
            for b in batch {
                let access = try await bucketAccess(b)
                if Authorizer.identityAllows(principal, level: .read, action: "s3:ListBucket", bucket: access) {
                    out.append(b)
                    if out.count == limit { break }
                }
            }
            guard batch.count == 1000, let last = batch.last else { break }
            cursor = last.name
        }
        return out
    }

    func createBucket(_ call: S3Call) async throws -> Response {
        let name = try requireBucket(call)
        guard BucketName.isValid(name) else {
            throw S3Error(.InvalidBucketName, nil, extra: [("BucketName", name)])
        }
        let body = try await readXMLBody(call, limit: 64 << 10, required: false)
        var region = config.region
        if let body {
            guard body.name == "CreateBucketConfiguration" else { throw S3Error(.MalformedXML) }
            if let lc = body.child("LocationConstraint")?.text, !lc.isEmpty {
                // As AWS: us-east-1 is named by an empty constraint, never explicitly.
                guard lc != "us-east-1" else {
                    throw S3Error(.InvalidLocationConstraint, "The specified location-constraint is not valid")
                }
                guard lc == config.region else {
                    throw S3Error(
                        .IllegalLocationConstraintException,
                        "The \(lc) location constraint is incompatible for the region specific endpoint this request was sent to."
                    )
                }
                region = lc
            }
        }
        // Object Lock at creation turns versioning on, for good.
        let locked = call.header(.amzBucketObjectLockEnabled)?.lowercased() == "true"
        var record = BucketRecord(
            name: name, owner: call.ownerID, region: region, createdAt: Date(),
            versioning: locked ? .enabled : .unversioned, objectLock: locked ? ObjectLockConfig(enabled: true) : nil)
        record.tenant = call.principal?.tenantID ?? ""
        // Object ownership (AWS's default for new buckets: ACLs disabled) and the bucket ACL.
        var ownership = ObjectOwnership.bucketOwnerEnforced
        if let o = call.header("x-amz-object-ownership") {
            guard let parsed = ObjectOwnership(rawValue: o) else {
                throw S3Error(.InvalidArgument, "Invalid x-amz-object-ownership header: \(o)")
            }
            ownership = parsed
        }
        record.ownership = ownership.rawValue
        if let acl = try requestedACL(call, owner: call.ownerID, bucketOwner: call.ownerID, forObject: false) {
            if ownership == .bucketOwnerEnforced && !acl.onlyOwners(bucketOwner: call.ownerID) {
                throw S3Error(.InvalidBucketAclWithObjectOwnership)
            }
            if ownership != .bucketOwnerEnforced { record.acl = acl.encoded() }
        }
        try await metadata.createBucket(record)
        accessCache.drop(name)
        corsCache.drop(name)
        var headers = HTTPFields()
        headers[.location] = "/" + name
        headers[.contentLength] = "0"
        return Response(status: .ok, headers: headers)
    }

    /// The bucket, if it exists; throws NoSuchBucket otherwise.
    func existingBucket(_ call: S3Call) async throws -> BucketRecord {
        let name = try requireBucket(call)
        guard let b = try await metadata.bucket(name) else {
            throw S3Error(.NoSuchBucket, nil, extra: [("BucketName", name)])
        }
        return b
    }

    func headBucket(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        var headers = HTTPFields()
        headers[HTTPField.Name("x-amz-bucket-region")!] = b.region
        headers[.contentLength] = "0"
        return Response(status: .ok, headers: headers)
    }

    func deleteBucket(_ call: S3Call) async throws -> Response {
        let name = try requireBucket(call)
        do {
            try await objects.deleteBucket(name)
            lifecycleCache.forget(name)
            // A bucket created again under this name is another bucket: other owner, no grants, no policy.
            accessCache.drop(name)
            corsCache.drop(name)
        } catch StorageError.noSuchBucket {
            throw S3Error(.NoSuchBucket, nil, extra: [("BucketName", name)])
        } catch StorageError.bucketNotEmpty {
            throw S3Error(.BucketNotEmpty, nil, extra: [("BucketName", name)])
        }
        return Response(status: .noContent)
    }

    func getBucketLocation(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        // us-east-1 answers an empty LocationConstraint, as AWS does.
        var w = XMLWriter()
        w.open("LocationConstraint")
        w.text(b.region == "us-east-1" ? "" : b.region)
        w.close("LocationConstraint")
        return xmlResponse(w.finish())
    }
}
