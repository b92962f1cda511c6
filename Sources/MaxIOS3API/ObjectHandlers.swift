import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOS3
import MaxIOSigV4
import MaxIOStorage
import NIOCore

extension HTTPField.Name {
    static let amzContentSHA256 = HTTPField.Name("x-amz-content-sha256")!
    static let amzDecodedContentLength = HTTPField.Name("x-amz-decoded-content-length")!
    static let contentMD5 = HTTPField.Name("content-md5")!
    static let amzStorageClass = HTTPField.Name("x-amz-storage-class")!
    static let amzCopySource = HTTPField.Name("x-amz-copy-source")!
    static let amzMetadataDirective = HTTPField.Name("x-amz-metadata-directive")!
    /// Internal marker between `selection` and `finishChecksumHeaders`; never sent.
    static let amzChecksumModeMarker = HTTPField.Name("x-maxiofs-checksum-mode")!
}

enum S3Limits {
    static let maxSinglePut: Int64 = 5 * 1024 * 1024 * 1024
    static let maxUserMetadata = 2048
    /// Objects up to this size are read in one piece for GET; larger ones stream.
    static let smallRead = 256 * 1024
    static let storageClasses: Set<String> = [
        "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
        "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE",
    ]
}

extension S3API {
    func requireKey(_ call: S3Call) throws -> (bucket: String, key: String) {
        guard let bucket = call.bucket, let key = call.key else { throw S3Error(.InvalidRequest) }
        guard key.utf8.count <= ObjectKeyRules.maxBytes else {
            throw S3Error(.KeyTooLongError, nil, extra: [("Size", String(key.utf8.count)), ("MaxSizeAllowed", "1024")])
        }
        return (bucket, key)
    }

    /// Object metadata from request headers (PutObject, CopyObject with REPLACE).
    func objectMeta(from call: S3Call) throws -> ObjectMeta {
        var meta = ObjectMeta()
        meta.contentType = call.header(.contentType)
        meta.cacheControl = call.header(.cacheControl)
        meta.contentDisposition = call.header(.contentDisposition)
        if let enc = call.header(.contentEncoding) {
            let parts = enc.split(separator: ",").map { $0.trimmingSpaces() }
                .filter { $0.lowercased() != "aws-chunked" && !$0.isEmpty }
            meta.contentEncoding = parts.isEmpty ? nil : parts.joined(separator: ",")
        }
        meta.contentLanguage = call.header(.contentLanguage)
        meta.expires = call.header(.expires)
        var userBytes = 0
        for field in call.request.headers {
            let name = field.name.canonicalName
            guard name.hasPrefix("x-amz-meta-") else { continue }
            let short = String(name.dropFirst("x-amz-meta-".count))
            if let existing = meta.user[short] {
                meta.user[short] = existing + "," + field.value
            } else {
                meta.user[short] = field.value
            }
            userBytes += short.utf8.count + field.value.utf8.count
        }
        if userBytes > S3Limits.maxUserMetadata {
            throw S3Error(.MetadataTooLarge, nil, extra: [("Size", String(userBytes)), ("MaxSizeAllowed", "2048")])
        }
        if let sc = call.header(.amzStorageClass) {
            guard S3Limits.storageClasses.contains(sc) else { throw S3Error(.InvalidStorageClass) }
            meta.storageClass = sc == "STANDARD" ? nil : sc
        }
        if let t = call.header(.amzTagging) { meta.tags = try TagRules.parseHeader(t) }
        try applyLockHeaders(call, to: &meta)
        return meta
    }

    func writeCondition(_ call: S3Call) throws -> WriteCondition? {
        if let inm = call.header(.ifNoneMatch) {
            guard inm.trimmingSpaces() == "*" else {
                throw S3Error(.NotImplemented, "If-None-Match on writes supports only '*'.")
            }
            return .ifNoneMatchAny
        }
        if let im = call.header(.ifMatch) {
            return .ifMatch(ETagMatch.strip(im))
        }
        return nil
    }

    // MARK: PutObject

    func putObject(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let declared = try declaredSize(call)
        if declared > S3Limits.maxSinglePut {
            throw S3Error(
                .EntityTooLarge, nil,
                extra: [("ProposedSize", String(declared)), ("MaxSizeAllowed", String(S3Limits.maxSinglePut))])
        }
        let (md5, expectedSHA) = try payloadDigests(call)
        var meta = try objectMeta(from: call)
        meta.acl = try await objectACLForWrite(call)
        let customer = try customerKey(call, write: true)
        let sealing = try await writeSealing(call, bucket: bucket, customer: customer)
        let condition = try writeCondition(call)
        let trailers = TrailerBox()
        let (algorithm, expected) = try requestedChecksum(call, trailers: trailers)
        // As AWS: a write that ends up under Object Lock must carry an integrity check (Content-MD5, or a checksum
        // in a header or trailer, or one the SDK names). Its own lock headers are checked here, before the body;
        // the bucket's default retention in the write transaction.
        let integrity = md5 != nil || algorithm != nil
        let locked = meta.lockMode != nil || meta.legalHold
        var reservation: String?
        if locked || call.state.expectsContinue || declared > ObjectService.wholeWriteLimit {
            // Answer a missing bucket (or one without Object Lock) before the client sends, or we store, the body.
            let b = try await existingBucket(call)
            if locked && b.objectLock?.enabled != true { throw Self.missingLockConfiguration }
            // And a quota the body would exceed.
            if !b.tenant.isEmpty || b.maxBytes > 0 || b.maxObjects > 0 {
                reservation = try await objects.reserve(bucket: bucket, replacing: key, bytes: declared, objects: 1)
            }
        }
        do {
            if locked && !integrity {
                throw S3Error(
                    .InvalidRequest,
                    "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
                )
            }
            try await call.state.sendContinueIfExpected()
        } catch {
            await objects.release(reservation)
            throw error
        }
        var req = PutRequest(
            bucket: bucket, key: key, meta: meta, declaredSize: declared, contentMD5: md5,
            expectedSHA256: expectedSHA, condition: condition, checksum: algorithm, expectedChecksum: expected)
        req.bodyVerified = integrity
        req.reservation = reservation
        req.sealing = sealing
        let record = try await objects.put(req, body: requestBody(call, trailers: trailers))
        var headers = HTTPFields()
        headers[.eTag] = "\"\(record.etag)\""
        addVersionHeader(&headers, record.versionID)
        addSSEHeaders(&headers, record.meta, customer: customer)
        addChecksumHeaders(&headers, record: record)
        await addExpirationHeader(&headers, record)
        headers[.contentLength] = "0"
        return Response(status: .ok, headers: headers)
    }

    /// `Content-MD5` (decoded; 400 InvalidDigest when malformed) and the signed payload hash of a write.
    func payloadDigests(_ call: S3Call) throws -> (md5: [UInt8]?, sha256: [UInt8]?) {
        var md5: [UInt8]?
        if let m = call.header(.contentMD5) {
            guard let d = Data(base64Encoded: m), d.count == 16 else { throw S3Error(.InvalidDigest) }
            md5 = Array(d)
        }
        var sha: [UInt8]?
        if case .signed(let hex) = call.auth.payload { sha = Hex.decode(hex) }
        return (md5, sha)
    }

    /// The additional checksum a write asks for: a `x-amz-checksum-*` header with its value, a declared
    /// trailer (`x-amz-trailer`), or only `x-amz-sdk-checksum-algorithm`.
    func requestedChecksum(_ call: S3Call, trailers: TrailerBox?) throws -> (
        ChecksumAlgorithm?, (@Sendable () -> String?)?
    ) {
        var found: [(ChecksumAlgorithm, String)] = []
        for field in call.request.headers {
            if let a = ChecksumAlgorithm(headerName: field.name.canonicalName) { found.append((a, field.value)) }
        }
        if found.count > 1 { throw S3Error(.InvalidRequest, "Expecting a single x-amz-checksum- header") }
        if let (algorithm, value) = found.first {
            guard let d = Data(base64Encoded: value), d.count == algorithm.size else {
                throw S3Error(.InvalidRequest, "Value for \(algorithm.headerName) header is invalid.")
            }
            return (algorithm, { value })
        }
        if let t = call.header("x-amz-trailer") {
            guard let algorithm = ChecksumAlgorithm(headerName: t.trimmingSpaces().lowercased()),
                let trailers
            else {
                throw S3Error(.InvalidRequest, "The value specified in the x-amz-trailer header is not supported")
            }
            // A declared trailer that never came compares as "" and fails as BadDigest.
            return (algorithm, { trailers.value(algorithm.headerName) ?? "" })
        }
        if let name = call.header("x-amz-sdk-checksum-algorithm") ?? call.header("x-amz-checksum-algorithm") {
            guard let algorithm = ChecksumAlgorithm(rawValue: name.uppercased()) else {
                throw S3Error(
                    .InvalidRequest,
                    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
                )
            }
            return (algorithm, nil)
        }
        return (nil, nil)
    }

    func addChecksumHeaders(_ headers: inout HTTPFields, record: ObjectRecord) {
        for (name, value) in record.meta.checksums ?? [:] {
            if let a = ChecksumAlgorithm(rawValue: name), let n = HTTPField.Name(a.headerName) { headers[n] = value }
        }
        if record.meta.checksums?.isEmpty == false {
            headers[.amzChecksumType] = record.meta.checksumType ?? ChecksumType.FULL_OBJECT.rawValue
        }
    }

    // MARK: GetObject / HeadObject

    /// The `versionId` a request names: `null` or one of our ids (32 hex digits); nil when absent.
    func versionParam(_ call: S3Call) throws -> String? {
        guard let v = call.query["versionId"] else { return nil }
        try Self.checkVersionSyntax(v)
        return v
    }

    static func checkVersionSyntax(_ v: String) throws {
        guard v == VersionID.null || (v.utf8.count == 32 && v.utf8.allSatisfy { Hex.isHexDigit($0) }) else {
            throw S3Error(
                .InvalidArgument, v.isEmpty ? "Version id cannot be the empty string" : "Invalid version id specified",
                extra: [("ArgumentName", "versionId"), ("ArgumentValue", v)])
        }
    }

    /// `x-amz-version-id` for a record of a bucket that has (or had) versioning.
    func addVersionHeader(_ headers: inout HTTPFields, _ versionID: String) {
        if !versionID.isEmpty { headers[.amzVersionID] = versionID }
    }

    /// Evaluates GET/HEAD conditionals with S3's precedence. Returns 304/412 as an error.
    func evaluateConditionals(_ call: S3Call, record: ObjectRecord) throws {
        let etag = record.etag
        let modified = floor(record.lastModified.timeIntervalSince1970)
        var matchPassed = false
        if let im = call.header(.ifMatch) {
            guard ETagMatch.matches(im, etag: etag) else {
                throw S3Error(.PreconditionFailed, nil, extra: [("Condition", "If-Match")])
            }
            matchPassed = true
        }
        if !matchPassed, let ius = call.header(.ifUnmodifiedSince), let d = WireDate.parseHTTP(ius),
            modified > d.timeIntervalSince1970
        {
            throw S3Error(.PreconditionFailed, nil, extra: [("Condition", "If-Unmodified-Since")])
        }
        let notModified = S3Error(
            .NotModified, headers: [("ETag", "\"\(etag)\""), ("Last-Modified", WireDate.http(record.lastModified))])
        if let inm = call.header(.ifNoneMatch) {
            if ETagMatch.matches(inm, etag: etag) { throw notModified }
            return
        }
        if let ims = call.header(.ifModifiedSince), let d = WireDate.parseHTTP(ims), modified <= d.timeIntervalSince1970
        {
            throw notModified
        }
    }

    func objectHeaders(_ call: S3Call, record: ObjectRecord) -> HTTPFields {
        var h = HTTPFields()
        let m = record.meta
        h[.eTag] = "\"\(record.etag)\""
        h[.lastModified] = WireDate.http(record.lastModified)
        addVersionHeader(&h, record.versionID)
        h[.acceptRanges] = "bytes"
        h[.contentType] = call.query["response-content-type"] ?? m.contentType ?? "binary/octet-stream"
        if let v = call.query["response-cache-control"] ?? m.cacheControl { h[.cacheControl] = v }
        if let v = call.query["response-content-disposition"] ?? m.contentDisposition { h[.contentDisposition] = v }
        if let v = call.query["response-content-encoding"] ?? m.contentEncoding { h[.contentEncoding] = v }
        if let v = call.query["response-content-language"] ?? m.contentLanguage { h[.contentLanguage] = v }
        if let v = call.query["response-expires"] ?? m.expires { h[.expires] = v }
        if let sc = m.storageClass { h[.amzStorageClass] = sc }
        if !m.tags.isEmpty { h[.amzTaggingCount] = String(m.tags.count) }
        addLockHeaders(&h, m)
        for (k, v) in m.user.sorted(by: { $0.key < $1.key }) {
            if let name = HTTPField.Name("x-amz-meta-" + k) { h[name] = v }
        }
        return h
    }

    /// What part of an object a GET/HEAD returns: the whole object (200), or a `Range` / `partNumber`
    /// selection (206 with Content-Range).
    func selection(_ call: S3Call, size: UInt64, parts: [ObjectPart], headers: inout HTTPFields) throws -> (
        status: HTTPResponse.Status, range: ClosedRange<UInt64>?
    ) {
        let rangeHeader = call.header(.range)
        if let part = call.query["partNumber"] {
            guard let n = Int(part), (1...10000).contains(n) else {
                throw S3Error(.InvalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
            }
            guard rangeHeader == nil else {
                throw S3Error(.InvalidRequest, "Cannot specify both Range header and partNumber query parameter")
            }
            if !parts.isEmpty {
                headers[.amzMPPartsCount] = String(parts.count)
                guard n <= parts.count else { throw S3Error(.InvalidPartNumber) }
                let p = parts[n - 1]
                guard p.size > 0 else { return (.ok, nil) }
                let first = UInt64(p.offset)
                let last = first + UInt64(p.size) - 1
                headers[.contentRange] = "bytes \(first)-\(last)/\(size)"
                return (.partialContent, first...last)
            }
            // An object written in one piece has exactly one part.
            guard n == 1 else { throw S3Error(.InvalidPartNumber) }
            guard size > 0 else { return (.ok, nil) }
            headers[.contentRange] = "bytes 0-\(size - 1)/\(size)"
            return (.partialContent, 0...(size - 1))
        }
        guard let rangeHeader, let range = ByteRange.parse(rangeHeader) else {
            if call.header("x-amz-checksum-mode")?.uppercased() == "ENABLED" { headers[.amzChecksumModeMarker] = "1" }
            return (.ok, size == 0 ? nil : 0...(size - 1))
        }
        guard let r = range.resolve(size: size) else { throw invalidRange(size, requested: rangeHeader) }
        headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"
        return (.partialContent, r)
    }

    func getObject(_ call: S3Call, head: Bool) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let versionID = try versionParam(call)
        try rejectSSEOnRead(call)
        let customer = try customerKey(call)
        if head {
            let record: ObjectRecord
            var parts: [ObjectPart] = []
            if call.query["partNumber"] != nil {
                (record, parts) = try await objects.headWithParts(
                    bucket: bucket, key: key, versionID: versionID, customerKey: customer?.key)
            } else {
                record = try await objects.head(
                    bucket: bucket, key: key, versionID: versionID, customerKey: customer?.key)
            }
            try evaluateConditionals(call, record: record)
            var headers = objectHeaders(call, record: record)
            addSSEHeaders(&headers, record.meta, customer: customer)
            if versionID == nil { await addExpirationHeader(&headers, record) }
            let (status, range) = try selection(call, size: UInt64(record.size), parts: parts, headers: &headers)
            finishChecksumHeaders(&headers, record: record)
            headers[.contentLength] = String(range?.count ?? 0)
            return Response(status: status, headers: headers)
        }
        let object = try await objects.read(
            bucket: bucket, key: key, versionID: versionID, customerKey: customer?.key, wholeUpTo: S3Limits.smallRead)
        switch object.body {
        case .bytes(let bytes):
            try evaluateConditionals(call, record: object.record)
            var headers = objectHeaders(call, record: object.record)
            addSSEHeaders(&headers, object.record.meta, customer: customer)
            if versionID == nil { await addExpirationHeader(&headers, object.record) }
            let (status, range) = try selection(
                call, size: UInt64(bytes.readableBytes), parts: object.parts, headers: &headers)
            finishChecksumHeaders(&headers, record: object.record)
            let body = range.flatMap {
                bytes.getSlice(at: bytes.readerIndex + Int($0.lowerBound), length: Int($0.count))
            }
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body ?? ByteBuffer()))
        case .reader(let reader):
            do {
                return try await streamObject(
                    call, record: object.record, reader: reader, parts: object.parts, customer: customer)
            } catch {
                await reader.close()
                throw error
            }
        }
    }

    /// Answers a GET from an open blob, streaming it in 1 MiB reads; the reader is closed when done.
    func streamObject(
        _ call: S3Call, record: ObjectRecord, reader: any BlobReader, parts: [ObjectPart], customer: CustomerKeyHeaders?
    ) async throws -> Response {
        try evaluateConditionals(call, record: record)
        var headers = objectHeaders(call, record: record)
        addSSEHeaders(&headers, record.meta, customer: customer)
        if call.query["versionId"] == nil { await addExpirationHeader(&headers, record) }
        let (status, range) = try selection(call, size: UInt64(reader.size), parts: parts, headers: &headers)
        finishChecksumHeaders(&headers, record: record)
        guard let range else {
            await reader.close()
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer()))
        }
        let bytes = BlobByteSequence(
            reader: reader, range: Int64(range.lowerBound)..<Int64(range.upperBound + 1), chunk: 1 << 20)
        let body = ResponseBody(contentLength: Int(range.count)) { writer in
            do {
                for try await buffer in bytes { try await writer.write(buffer) }
                await reader.close()
            } catch {
                await reader.close()
                throw error
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// Adds the stored checksum when the client asked for it (`x-amz-checksum-mode: ENABLED`) and the
    /// whole object is returned.
    func finishChecksumHeaders(_ headers: inout HTTPFields, record: ObjectRecord) {
        if headers[.amzChecksumModeMarker] != nil {
            headers[.amzChecksumModeMarker] = nil
            addChecksumHeaders(&headers, record: record)
        }
    }

    func invalidRange(_ size: UInt64, requested: String) -> S3Error {
        S3Error(
            .InvalidRange, nil, extra: [("RangeRequested", requested), ("ActualObjectSize", String(size))],
            headers: [("Content-Range", "bytes */\(size)")])
    }

    // MARK: DeleteObject(s)

    func deleteObject(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let outcome = try await objects.delete(
            bucket: bucket, key: key, versionID: try versionParam(call),
            ifMatch: call.header(.ifMatch).map { ETagMatch.strip($0) }, bypassGovernance: bypassesGovernance(call))
        var headers = HTTPFields()
        if let v = outcome.versionID { headers[.amzVersionID] = v }
        if outcome.deleteMarker { headers[.amzDeleteMarker] = "true" }
        return Response(status: .noContent, headers: headers)
    }

    func deleteObjects(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        guard let doc = try await readXMLBody(call, limit: 2 << 20, required: true, verifyIntegrity: true),
            doc.name == "Delete"
        else {
            throw S3Error(.MalformedXML)
        }
        let quiet = doc.child("Quiet")?.text.trimmingSpaces().lowercased() == "true"
        let entries = doc.all("Object")
        guard !entries.isEmpty, entries.count <= 1000 else { throw S3Error(.MalformedXML) }
        var valid: [DeleteTarget] = []
        var errors: [(key: String, version: String?, code: String, message: String)] = []
        for e in entries {
            guard let key = e.child("Key")?.text else { throw S3Error(.MalformedXML) }
            let version = e.child("VersionId")?.text
            if key.isEmpty || key.utf8.count > ObjectKeyRules.maxBytes {
                errors.append(
                    (
                        key, version, "InvalidArgument",
                        key.isEmpty ? "The key must not be empty." : "Your key is too long"
                    ))
            } else if SOSAPI.document(for: key) != nil {
                errors.append((key, version, "AccessDenied", Self.sosapiReadOnly.message))
            } else if let v = version, (try? Self.checkVersionSyntax(v)) == nil {
                errors.append((key, version, "NoSuchVersion", "The specified version does not exist."))
            } else if !allowsInBucket(
                call, action: version == nil ? "s3:DeleteObject" : "s3:DeleteObjectVersion", key: key)
            {
                errors.append((key, version, "AccessDenied", "Access Denied"))
            } else {
                valid.append(DeleteTarget(key: key, versionID: version))
            }
        }
        let outcomes =
            valid.isEmpty
            ? [] : try await objects.delete(bucket: bucket, targets: valid, bypassGovernance: bypassesGovernance(call))
        for (t, o) in zip(valid, outcomes) {
            if case .objectLocked(let message)? = o.error {
                errors.append((t.key, t.versionID, "AccessDenied", message))
            }
        }
        var w = XMLWriter(capacity: 128 + valid.count * 64)
        w.open("DeleteResult")
        if !quiet {
            for (t, o) in zip(valid, outcomes) where o.error == nil {
                w.open("Deleted", namespace: nil)
                w.element("Key", t.key)
                if let v = t.versionID {
                    w.element("VersionId", v)
                    if o.deleteMarker {
                        w.element("DeleteMarker", true)
                        w.element("DeleteMarkerVersionId", v)
                    }
                } else if o.deleteMarker, let m = o.versionID {
                    w.element("DeleteMarker", true)
                    w.element("DeleteMarkerVersionId", m)
                }
                w.close("Deleted")
            }
        }
        for e in errors {
            w.open("Error", namespace: nil)
            w.element("Key", e.key)
            if let v = e.version { w.element("VersionId", v) }
            w.element("Code", e.code)
            w.element("Message", e.message)
            w.close("Error")
        }
        w.close("DeleteResult")
        return xmlResponse(w.finish())
    }

    // MARK: CopyObject

    func copyObject(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let (srcBucket, srcKey, srcVersion) = try copySource(call)
        let directive = call.header(.amzMetadataDirective) ?? "COPY"
        guard directive == "COPY" || directive == "REPLACE" else {
            throw S3Error(.InvalidArgument, "Unknown metadata directive.")
        }
        let taggingDirective = call.header(.amzTaggingDirective) ?? "COPY"
        guard taggingDirective == "COPY" || taggingDirective == "REPLACE" else {
            throw S3Error(.InvalidArgument, "Unknown tagging directive.")
        }
        let newTags = try call.header(.amzTagging).map(TagRules.parseHeader) ?? []
        let sourceCustomer = try customerKey(call, copySource: true)
        let customer = try customerKey(call, write: true)
        let sealing = try await writeSealing(call, bucket: bucket, customer: customer)
        if srcBucket == bucket && srcKey == key && srcVersion == nil && directive == "COPY"
            && call.header(.amzStorageClass) == nil && taggingDirective == "COPY" && call.header(.amzSSE) == nil
            && customer == nil
        {
            throw S3Error(
                .InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            )
        }
        let open = try await openCopySource(
            call, bucket: srcBucket, key: srcKey, versionID: srcVersion, customerKey: sourceCustomer?.key)
        do {
            try evaluateCopyConditionals(call, record: open.record)
            if open.record.size > S3Limits.maxSinglePut {
                throw S3Error(
                    .InvalidRequest,
                    "The specified copy source is larger than the maximum allowable size for a copy source: \(S3Limits.maxSinglePut)"
                )
            }
            var meta: ObjectMeta
            if directive == "REPLACE" {
                meta = try objectMeta(from: call)
            } else {
                meta = open.record.meta
                if let sc = call.header(.amzStorageClass) {
                    guard S3Limits.storageClasses.contains(sc) else { throw S3Error(.InvalidStorageClass) }
                    meta.storageClass = sc == "STANDARD" ? nil : sc
                }
            }
            meta.tags = taggingDirective == "REPLACE" ? newTags : open.record.meta.tags
            // ACLs are never copied (as AWS): the request's, or the default.
            meta.acl = try await objectACLForWrite(call)
            // Object Lock settings are never copied: the request's headers (or the bucket default) apply.
            try applyLockHeaders(call, to: &meta)
            var algorithm = open.record.meta.checksums?.keys.first.flatMap(ChecksumAlgorithm.init(rawValue:))
            if let name = call.header("x-amz-checksum-algorithm") {
                guard let a = ChecksumAlgorithm(rawValue: name.uppercased()) else {
                    throw S3Error(.InvalidRequest, "Checksum algorithm provided is unsupported.")
                }
                algorithm = a
            }
            var req = PutRequest(
                bucket: bucket, key: key, meta: meta, declaredSize: open.record.size,
                condition: try writeCondition(call), checksum: algorithm)
            req.sealing = sealing
            let record = try await objects.copy(from: open, to: req)
            await open.reader.close()
            var w = XMLWriter()
            w.open("CopyObjectResult")
            w.element("LastModified", WireDate.iso8601(record.lastModified))
            w.element("ETag", "\"\(record.etag)\"")
            w.close("CopyObjectResult")
            var response = xmlResponse(w.finish())
            addVersionHeader(&response.headers, record.versionID)
            addSSEHeaders(&response.headers, record.meta, customer: customer)
            if !open.record.versionID.isEmpty { response.headers[.amzCopySourceVersionID] = open.record.versionID }
            return response
        } catch {
            await open.reader.close()
            throw error
        }
    }

    func evaluateCopyConditionals(_ call: S3Call, record: ObjectRecord) throws {
        let modified = floor(record.lastModified.timeIntervalSince1970)
        let failed = S3Error(.PreconditionFailed)
        var matchPassed = false
        if let im = call.header("x-amz-copy-source-if-match") {
            guard ETagMatch.matches(im, etag: record.etag) else { throw failed }
            matchPassed = true
        }
        if !matchPassed, let ius = call.header("x-amz-copy-source-if-unmodified-since"),
            let d = WireDate.parseHTTP(ius), modified > d.timeIntervalSince1970
        {
            throw failed
        }
        if let inm = call.header("x-amz-copy-source-if-none-match") {
            if ETagMatch.matches(inm, etag: record.etag) { throw failed }
            return
        }
        if let ims = call.header("x-amz-copy-source-if-modified-since"), let d = WireDate.parseHTTP(ims),
            modified <= d.timeIntervalSince1970
        {
            throw failed
        }
    }
}

/// ETag comparison for conditional headers: lists, `*`, quotes and weak prefixes.
enum ETagMatch {
    static func strip(_ s: some StringProtocol) -> String {
        var t = s.trimmingSpaces()
        if t.hasPrefix("W/") { t = String(t.dropFirst(2)) }
        if t.hasPrefix("\"") && t.hasSuffix("\"") && t.count >= 2 { t = String(t.dropFirst().dropLast()) }
        return t
    }

    static func matches(_ header: String, etag: String) -> Bool {
        for part in header.split(separator: ",") {
            let t = strip(part)
            if t == "*" || t == etag { return true }
        }
        return false
    }
}
