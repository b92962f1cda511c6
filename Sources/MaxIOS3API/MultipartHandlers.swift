import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOS3
import MaxIOSigV4
import MaxIOStorage
import NIOCore

/// A request body as a handler streams it: plain, or decoded from aws-chunked (with chunk signatures and
/// trailers checked as bytes arrive).
struct S3Body: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    enum Source: Sendable {
        case plain(RequestBody)
        case chunked(AWSChunkedDecoder<RequestBody>)
    }
    let source: Source

    func makeAsyncIterator() -> Iterator {
        switch source {
        case .plain(let b): Iterator(state: .plain(b.makeAsyncIterator()))
        case .chunked(let d): Iterator(state: .chunked(d.makeAsyncIterator()))
        }
    }

    struct Iterator: AsyncIteratorProtocol {
        enum State {
            case plain(RequestBody.AsyncIterator)
            case chunked(AWSChunkedDecoder<RequestBody>.AsyncIterator)
        }
        var state: State

        mutating func next() async throws -> ByteBuffer? {
            switch state {
            case .plain(var it):
                defer { state = .plain(it) }
                return try await it.next()
            case .chunked(var it):
                defer { state = .chunked(it) }
                return try await it.next()
            }
        }
    }
}

extension HTTPField.Name {
    static let amzChecksumAlgorithm = HTTPField.Name("x-amz-checksum-algorithm")!
    static let amzChecksumType = HTTPField.Name("x-amz-checksum-type")!
    static let amzCopySourceRange = HTTPField.Name("x-amz-copy-source-range")!
    static let amzMPPartsCount = HTTPField.Name("x-amz-mp-parts-count")!
    static let amzVersionID = HTTPField.Name("x-amz-version-id")!
    static let amzDeleteMarker = HTTPField.Name("x-amz-delete-marker")!
    static let amzCopySourceVersionID = HTTPField.Name("x-amz-copy-source-version-id")!
}

extension S3API {
    /// The body of a write, decoded as its payload mode says.
    func requestBody(_ call: S3Call, trailers: TrailerBox) -> S3Body {
        switch call.auth.payload {
        case .streamingSigned(let trailer):
            return S3Body(
                source: .chunked(
                    AWSChunkedDecoder(
                        base: call.request.body, signer: call.auth.chunkSigner, expectTrailer: trailer,
                        trailers: trailers)))
        case .streamingUnsignedTrailer:
            return S3Body(
                source: .chunked(
                    AWSChunkedDecoder(base: call.request.body, signer: nil, expectTrailer: true, trailers: trailers)))
        case .signed, .unsigned:
            return S3Body(source: .plain(call.request.body))
        }
    }

    /// The size of a write's payload as declared: `x-amz-decoded-content-length` for aws-chunked bodies,
    /// `Content-Length` otherwise.
    func declaredSize(_ call: S3Call) throws -> Int64 {
        switch call.auth.payload {
        case .streamingSigned, .streamingUnsignedTrailer:
            guard let d = call.header(.amzDecodedContentLength).flatMap(Int64.init), d >= 0 else {
                throw S3Error(
                    .MissingContentLength, "x-amz-decoded-content-length is required for aws-chunked uploads.")
            }
            return d
        case .signed, .unsigned:
            guard let l = call.header(.contentLength).flatMap(Int64.init), l >= 0 else {
                throw S3Error(.MissingContentLength)
            }
            return l
        }
    }

    func uploadID(_ call: S3Call) throws -> String {
        guard let id = call.query["uploadId"], !id.isEmpty else {
            throw S3Error(.InvalidArgument, "This operation needs an uploadId.")
        }
        return id
    }

    func partNumber(_ call: S3Call) throws -> Int {
        guard let n = call.query["partNumber"].flatMap(Int.init), (1...MultipartLimits.maxPartNumber).contains(n)
        else {
            throw S3Error(
                .InvalidArgument, "Part number must be an integer between 1 and 10000, inclusive",
                extra: [("ArgumentName", "partNumber"), ("ArgumentValue", call.query["partNumber"] ?? "")])
        }
        return n
    }

    func owner(_ w: inout XMLWriter, _ name: String, _ call: S3Call) {
        w.open(name, namespace: nil)
        w.element("ID", call.ownerID)
        w.element("DisplayName", call.displayName)
        w.close(name)
    }

    // MARK: CreateMultipartUpload

    func createMultipartUpload(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        var meta = try objectMeta(from: call)
        meta.acl = try await objectACLForWrite(call)
        let customer = try customerKey(call, write: true)
        meta.record(try await writeSealing(call, bucket: bucket, customer: customer))
        if meta.lockMode != nil || meta.legalHold, try await existingBucket(call).objectLock?.enabled != true {
            throw Self.missingLockConfiguration
        }
        var algorithm: ChecksumAlgorithm?
        if let name = call.header(.amzChecksumAlgorithm) {
            guard let a = ChecksumAlgorithm(rawValue: name.uppercased()) else {
                throw S3Error(
                    .InvalidRequest,
                    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
                )
            }
            algorithm = a
        }
        var type: ChecksumType?
        if let t = call.header(.amzChecksumType) {
            guard let parsed = ChecksumType(rawValue: t.uppercased()) else {
                throw S3Error(.InvalidRequest, "Value for x-amz-checksum-type header is invalid.")
            }
            guard let algorithm else {
                throw S3Error(
                    .InvalidRequest,
                    "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
            }
            guard parsed.allows(algorithm) else {
                throw S3Error(
                    .InvalidRequest,
                    "The \(parsed.rawValue) checksum type cannot be used with the \(algorithm.rawValue.lowercased()) checksum algorithm."
                )
            }
            type = parsed
        }
        let upload = try await objects.createUpload(
            bucket: bucket, key: key, owner: call.ownerID, meta: meta, checksum: algorithm,
            checksumType: type)
        var w = XMLWriter()
        w.open("InitiateMultipartUploadResult")
        w.element("Bucket", bucket)
        w.element("Key", key)
        w.element("UploadId", upload.uploadID)
        w.close("InitiateMultipartUploadResult")
        var response = xmlResponse(w.finish())
        if let a = upload.checksumAlgorithm { response.headers[.amzChecksumAlgorithm] = a.rawValue }
        if let t = upload.checksumType { response.headers[.amzChecksumType] = t.rawValue }
        addSSEHeaders(&response.headers, upload.meta, customer: customer)
        return response
    }

    // MARK: UploadPart / UploadPartCopy

    func uploadPart(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let id = try uploadID(call)
        let number = try partNumber(call)
        let declared = try declaredSize(call)
        if declared > MultipartLimits.maxPartSize {
            throw S3Error(
                .EntityTooLarge, nil,
                extra: [("ProposedSize", String(declared)), ("MaxSizeAllowed", String(MultipartLimits.maxPartSize))])
        }
        let (md5, expectedSHA) = try payloadDigests(call)
        let trailers = TrailerBox()
        let (algorithm, expected) = try requestedChecksum(call, trailers: trailers)
        let customer = try customerKey(call, write: true)
        // NoSuchUpload (and a missing or wrong customer key) before the client sends the body.
        let upload = try await objects.upload(id: id, bucket: bucket, key: key)
        _ = try ObjectService.sealing(of: upload.meta, customerKey: customer?.key)
        // A quota the part would exceed, before the body too.
        let reservation = try await objects.reserve(bucket: bucket, bytes: declared, objects: 0)
        do {
            try await call.state.sendContinueIfExpected()
        } catch {
            await objects.release(reservation)
            throw error
        }
        var req = PartUpload(
            bucket: bucket, key: key, uploadID: id, partNumber: number, declaredSize: declared, contentMD5: md5,
            expectedSHA256: expectedSHA, checksum: algorithm, expectedChecksum: expected)
        req.reservation = reservation
        req.customerKey = customer?.key
        let stored = try await objects.uploadPart(req, upload: upload, body: requestBody(call, trailers: trailers))
        var headers = HTTPFields()
        headers[.eTag] = "\"\(stored.part.etag)\""
        addSSEHeaders(&headers, upload.meta, customer: customer)
        if let (a, v) = stored.checksum, let n = HTTPField.Name(a.headerName) { headers[n] = v }
        headers[.contentLength] = "0"
        return Response(status: .ok, headers: headers)
    }

    /// `x-amz-copy-source`: bucket and key (URL-encoded, optional leading slash, optional `?versionId=`).
    func copySource(_ call: S3Call) throws -> (bucket: String, key: String, versionID: String?) {
        guard let rawSource = call.header(.amzCopySource) else { throw S3Error(.InvalidRequest) }
        var sourceText = rawSource
        var versionID: String?
        if let q = sourceText.range(of: "?") {
            let params = sourceText[q.upperBound...]
            sourceText = String(sourceText[..<q.lowerBound])
            for p in params.split(separator: "&") where p.hasPrefix("versionId=") {
                versionID = String(p.dropFirst("versionId=".count))
            }
        }
        guard let decoded = PercentEncoding.decode(sourceText) else {
            throw S3Error(
                .InvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
        }
        let trimmed = decoded.hasPrefix("/") ? String(decoded.dropFirst()) : decoded
        guard let slash = trimmed.firstIndex(of: "/"), trimmed.index(after: slash) < trimmed.endIndex else {
            throw S3Error(
                .InvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
        }
        let srcBucket = String(trimmed[..<slash])
        let srcKey = String(trimmed[trimmed.index(after: slash)...])
        if let v = versionID { try Self.checkVersionSyntax(v) }
        return (srcBucket, srcKey, versionID)
    }

    /// Opens a copy source, naming the missing bucket or key in the error.
    func openCopySource(_ call: S3Call, bucket: String, key: String, versionID: String?, customerKey: [UInt8]?)
        async throws -> OpenObject
    {
        try await authorizeCopySource(call, bucket: bucket, key: key, versionID: versionID)
        do {
            return try await objects.open(bucket: bucket, key: key, versionID: versionID, customerKey: customerKey)
        } catch StorageError.noSuchBucket {
            throw S3Error(.NoSuchBucket, nil, extra: [("BucketName", bucket)])
        } catch StorageError.noSuchKey {
            throw S3Error(.NoSuchKey, nil, extra: [("Key", key)])
        } catch StorageError.noSuchVersion {
            throw S3Error(.NoSuchVersion, nil, extra: [("Key", key), ("VersionId", versionID ?? "")])
        } catch StorageError.deleteMarker(_, let requested, _) {
            // As AWS: a copy source that is a delete marker is a missing key (or a bad version). The marker's
            // headers are not sent: they would describe the source, not the copy.
            throw requested
                ? S3Error(
                    .InvalidRequest,
                    "The source of a copy request may not specifically refer to a delete marker by version id.")
                : S3Error(.NoSuchKey, nil, extra: [("Key", key)])
        }
    }

    func uploadPartCopy(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let id = try uploadID(call)
        let number = try partNumber(call)
        let (srcBucket, srcKey, srcVersion) = try copySource(call)
        let sourceCustomer = try customerKey(call, copySource: true)
        let customer = try customerKey(call, write: true)
        let upload = try await objects.upload(id: id, bucket: bucket, key: key)
        _ = try ObjectService.sealing(of: upload.meta, customerKey: customer?.key)
        let source = try await openCopySource(
            call, bucket: srcBucket, key: srcKey, versionID: srcVersion, customerKey: sourceCustomer?.key)
        do {
            try evaluateCopyConditionals(call, record: source.record)
            let size = source.reader.size
            var range: Range<Int64> = 0..<size
            if let text = call.header(.amzCopySourceRange) {
                guard let r = Self.parseCopyRange(text), r.lowerBound < size, r.upperBound <= size else {
                    throw S3Error(
                        .InvalidArgument, "Range specified is not valid for source object of size: \(size)",
                        extra: [("ArgumentName", "x-amz-copy-source-range"), ("ArgumentValue", text)])
                }
                range = r
            }
            let count = range.upperBound - range.lowerBound
            if count > MultipartLimits.maxPartSize {
                throw S3Error(
                    .InvalidRequest,
                    "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120")
            }
            var req = PartUpload(bucket: bucket, key: key, uploadID: id, partNumber: number, declaredSize: count)
            req.reservation = try await objects.reserve(bucket: bucket, bytes: count, objects: 0)
            req.customerKey = customer?.key
            let stored = try await objects.uploadPart(
                req, upload: upload, body: BlobByteSequence(reader: source.reader, range: range))
            await source.reader.close()
            var w = XMLWriter()
            w.open("CopyPartResult")
            w.element("LastModified", WireDate.iso8601(stored.part.lastModified))
            w.element("ETag", "\"\(stored.part.etag)\"")
            if let (a, v) = stored.checksum { w.element("Checksum" + a.rawValue, v) }
            w.close("CopyPartResult")
            var response = xmlResponse(w.finish())
            addSSEHeaders(&response.headers, upload.meta, customer: customer)
            if !source.record.versionID.isEmpty {
                response.headers[.amzCopySourceVersionID] = source.record.versionID
            }
            return response
        } catch {
            await source.reader.close()
            throw error
        }
    }

    /// `bytes=first-last` (both required, as AWS), as a half-open range.
    static func parseCopyRange(_ text: String) -> Range<Int64>? {
        guard text.hasPrefix("bytes=") else { return nil }
        let parts = text.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = Int64(parts[0]), let last = Int64(parts[1]), first >= 0, first <= last
        else { return nil }
        return first..<(last + 1)
    }

    // MARK: CompleteMultipartUpload / AbortMultipartUpload

    func completeMultipartUpload(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let id = try uploadID(call)
        // No body at all is malformed too (as AWS answers), not MissingRequestBodyError.
        guard let doc = try await readXMLBody(call, limit: 4 << 20, required: false),
            doc.name == "CompleteMultipartUpload"
        else {
            throw S3Error(.MalformedXML)
        }
        var parts: [CompletedPart] = []
        for p in doc.all("Part") {
            guard let n = p.child("PartNumber").flatMap({ Int($0.text.trimmingSpaces()) }),
                let etag = p.child("ETag")?.text
            else {
                throw S3Error(.MalformedXML)
            }
            var checksums: [ChecksumAlgorithm: String] = [:]
            for a in ChecksumAlgorithm.allCases {
                if let c = p.child("Checksum" + a.rawValue)?.text.trimmingSpaces(), !c.isEmpty { checksums[a] = c }
            }
            parts.append(CompletedPart(partNumber: n, etag: ETagMatch.strip(etag), checksums: checksums))
        }
        guard !parts.isEmpty, parts.count <= MultipartLimits.maxPartNumber else { throw S3Error(.MalformedXML) }
        var expected = CompletionExpectations()
        for a in ChecksumAlgorithm.allCases {
            if let v = call.header(a.headerName) { expected.checksums[a] = v.trimmingSpaces() }
        }
        if let t = call.header(.amzChecksumType) {
            guard let parsed = ChecksumType(rawValue: t.uppercased()) else {
                throw S3Error(.InvalidRequest, "Value for x-amz-checksum-type header is invalid.")
            }
            expected.checksumType = parsed
        }
        if let s = call.header("x-amz-mp-object-size") {
            guard let size = Int64(s), size >= 0 else {
                throw S3Error(.InvalidRequest, "Value for x-amz-mp-object-size header is invalid.")
            }
            expected.objectSize = size
        }
        // SSE-C headers are not needed to complete, but bad ones are refused before anything changes.
        let customer = try customerKey(call)
        let result = try await objects.completeUpload(
            bucket: bucket, key: key, uploadID: id, parts: parts, condition: try writeCondition(call),
            expected: expected)
        let record = result.record
        var w = XMLWriter()
        w.open("CompleteMultipartUploadResult")
        let host = call.request.head.authority ?? "localhost"
        w.element(
            "Location",
            "http://\(host)/\(PercentEncoding.encode(bucket))/\(PercentEncoding.encode(key, keepSlash: true))")
        w.element("Bucket", bucket)
        w.element("Key", key)
        w.element("ETag", "\"\(record.etag)\"")
        for (name, value) in (record.meta.checksums ?? [:]).sorted(by: { $0.key < $1.key }) {
            w.element("Checksum" + name, value)
        }
        if let t = record.meta.checksumType { w.element("ChecksumType", t) }
        w.close("CompleteMultipartUploadResult")
        var response = xmlResponse(w.finish())
        addVersionHeader(&response.headers, record.versionID)
        // The key MD5 is echoed only for the object's own key.
        let own = customer.flatMap { c in
            record.meta.sseCustomerVerifier.map { CustomerKey.matches(c.key, verifier: $0) } == true ? c : nil
        }
        addSSEHeaders(&response.headers, record.meta, customer: own)
        return response
    }

    func abortMultipartUpload(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        try await objects.abortUpload(bucket: bucket, key: key, uploadID: try uploadID(call))
        return Response(status: .noContent)
    }

    // MARK: ListParts / ListMultipartUploads

    func listParts(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let id = try uploadID(call)
        let maxParts = try pageSize(call, "max-parts")
        var marker = 0
        if let m = call.query["part-number-marker"], !m.isEmpty {
            guard let v = Int(m), v >= 0 else {
                throw S3Error(.InvalidArgument, "Provided part-number-marker not an integer or within integer range")
            }
            marker = v
        }
        let (upload, fetched) = try await metadata.listParts(
            uploadID: id, bucket: bucket, key: key, after: marker, limit: maxParts + 1)
        let page = fetched.prefix(maxParts)
        let truncated = fetched.count > maxParts
        var w = XMLWriter(capacity: 512 + page.count * 200)
        w.open("ListPartsResult")
        w.element("Bucket", bucket)
        w.element("Key", key)
        w.element("UploadId", id)
        w.element("PartNumberMarker", marker)
        if let last = page.last { w.element("NextPartNumberMarker", last.partNumber) }
        w.element("MaxParts", maxParts)
        w.element("IsTruncated", truncated)
        for p in page {
            w.open("Part", namespace: nil)
            w.element("PartNumber", p.partNumber)
            w.element("LastModified", WireDate.iso8601(p.lastModified))
            w.element("ETag", "\"\(p.etag)\"")
            w.element("Size", p.size)
            if let a = upload.checksumAlgorithm, let c = p.checksum { w.element("Checksum" + a.rawValue, c) }
            w.close("Part")
        }
        owner(&w, "Initiator", call)
        owner(&w, "Owner", call)
        w.element("StorageClass", upload.meta.storageClass ?? "STANDARD")
        if let a = upload.checksumAlgorithm { w.element("ChecksumAlgorithm", a.rawValue) }
        if let t = upload.checksumType { w.element("ChecksumType", t.rawValue) }
        w.close("ListPartsResult")
        return xmlResponse(w.finish())
    }

    func listMultipartUploads(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        let maxUploads = try pageSize(call, "max-uploads")
        let encodeURL = try urlEncoding(call)
        func enc(_ s: String) -> String { encodeURL ? PercentEncoding.encode(s, keepSlash: true) : s }
        let prefix = call.param("prefix") ?? ""
        let delimiter = call.param("delimiter")
        let keyMarker = call.param("key-marker")
        // As AWS: the upload-id marker means nothing without a key marker.
        let uploadIDMarker = keyMarker == nil ? nil : call.param("upload-id-marker")
        let page = try await metadata.listUploads(
            bucket: bucket,
            query: UploadsQuery(
                prefix: prefix, delimiter: delimiter, keyMarker: keyMarker, uploadIDMarker: uploadIDMarker,
                maxUploads: maxUploads))
        var w = XMLWriter(capacity: 512 + page.uploads.count * 400)
        w.open("ListMultipartUploadsResult")
        w.element("Bucket", bucket)
        w.element("KeyMarker", enc(keyMarker ?? ""))
        w.element("UploadIdMarker", uploadIDMarker ?? "")
        if let k = page.nextKeyMarker { w.element("NextKeyMarker", enc(k)) }
        if let u = page.nextUploadIDMarker { w.element("NextUploadIdMarker", u) }
        if let delimiter { w.element("Delimiter", enc(delimiter)) }
        w.element("Prefix", enc(prefix))
        w.element("MaxUploads", maxUploads)
        if encodeURL { w.element("EncodingType", "url") }
        w.element("IsTruncated", page.isTruncated)
        for u in page.uploads {
            w.open("Upload", namespace: nil)
            w.element("Key", enc(u.key))
            w.element("UploadId", u.uploadID)
            owner(&w, "Initiator", call)
            owner(&w, "Owner", call)
            w.element("StorageClass", u.meta.storageClass ?? "STANDARD")
            w.element("Initiated", WireDate.iso8601(u.initiated))
            if let a = u.checksumAlgorithm { w.element("ChecksumAlgorithm", a.rawValue) }
            if let t = u.checksumType { w.element("ChecksumType", t.rawValue) }
            w.close("Upload")
        }
        for p in page.commonPrefixes {
            w.open("CommonPrefixes", namespace: nil)
            w.element("Prefix", enc(p))
            w.close("CommonPrefixes")
        }
        w.close("ListMultipartUploadsResult")
        return xmlResponse(w.finish())
    }
}

// MARK: GetObjectAttributes

extension S3API {
    static let objectAttributes: Set<String> = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]

    func getObjectAttributes(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let versionID = try versionParam(call)
        let requested = Set(
            (call.header("x-amz-object-attributes") ?? "").split(separator: ",").map { $0.trimmingSpaces() }
                .filter { !$0.isEmpty })
        guard !requested.isEmpty else {
            throw S3Error(
                .InvalidArgument,
                "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty"
            )
        }
        if let bad = requested.first(where: { !Self.objectAttributes.contains($0) }) {
            throw S3Error(.InvalidArgument, "Invalid attribute name specified: \(bad)")
        }
        var maxParts = 1000
        if let m = call.header("x-amz-max-parts") {
            guard let v = Int(m), v >= 0 else { throw S3Error(.InvalidArgument, "Invalid value for x-amz-max-parts") }
            maxParts = min(v, 1000)
        }
        var marker = 0
        if let m = call.header("x-amz-part-number-marker"), !m.isEmpty {
            guard let v = Int(m), v >= 0 else {
                throw S3Error(.InvalidArgument, "Invalid value for x-amz-part-number-marker")
            }
            marker = v
        }
        let (record, parts) = try await objects.headWithParts(
            bucket: bucket, key: key, versionID: versionID, customerKey: try customerKey(call)?.key)
        var w = XMLWriter(capacity: 512 + (requested.contains("ObjectParts") ? parts.count * 120 : 0))
        w.open("GetObjectAttributesResponse")
        if requested.contains("ETag") { w.element("ETag", record.etag) }
        if requested.contains("Checksum"), let checksums = record.meta.checksums, !checksums.isEmpty {
            w.open("Checksum", namespace: nil)
            for (name, value) in checksums.sorted(by: { $0.key < $1.key }) {
                // The attribute carries the checksum itself, without the `-N` of a composite value.
                let bare = value.split(separator: "-").first.map(String.init) ?? value
                w.element("Checksum" + name, bare)
            }
            w.element("ChecksumType", record.meta.checksumType ?? ChecksumType.FULL_OBJECT.rawValue)
            w.close("Checksum")
        }
        if requested.contains("ObjectParts"), !parts.isEmpty {
            let after = parts.filter { $0.number > marker }
            let page = after.prefix(maxParts)
            w.open("ObjectParts", namespace: nil)
            w.element("PartsCount", parts.count)  // the SDKs call it TotalPartsCount
            w.element("PartNumberMarker", marker)
            if let last = page.last { w.element("NextPartNumberMarker", last.number) }
            w.element("MaxParts", maxParts)
            w.element("IsTruncated", after.count > maxParts)
            // As AWS: parts are listed only for objects with an additional checksum.
            let algorithm = record.meta.checksums?.keys.first
            for p in page where algorithm != nil {
                w.open("Part", namespace: nil)
                w.element("PartNumber", p.number)
                w.element("Size", p.size)
                if let algorithm, let c = p.checksum { w.element("Checksum" + algorithm, c) }
                w.close("Part")
            }
            w.close("ObjectParts")
        }
        if requested.contains("StorageClass") { w.element("StorageClass", record.meta.storageClass ?? "STANDARD") }
        if requested.contains("ObjectSize") { w.element("ObjectSize", record.size) }
        w.close("GetObjectAttributesResponse")
        var response = xmlResponse(w.finish())
        response.headers[.lastModified] = WireDate.http(record.lastModified)
        addVersionHeader(&response.headers, record.versionID)
        return response
    }
}
