import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOS3
import MaxIOSigV4
import MaxIOStorage
import NIOCore

/// Reads `multipart/form-data` from a request body: the fields before the file into memory (bounded), the file
/// part as a stream. The bytes are searched for `CRLF--boundary`; the body is read as it arrives.
final class FormDataReader: @unchecked Sendable {
    private var iterator: RequestBody.AsyncIterator
    private var buffer: ByteBuffer
    private let delimiter: [UInt8]
    private var exhausted = false
    /// Bytes taken from the body so far.
    private var fetched = 0
    /// True once the part being read has ended.
    private(set) var partEnded = false

    static let malformed = S3Error(
        .MalformedPOSTRequest, "The body of your POST request is not well-formed multipart/form-data.")

    init(body: RequestBody, boundary: String) {
        iterator = body.makeAsyncIterator()
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first boundary has no CRLF before it: start as if it had one.
        buffer = ByteBuffer(bytes: [0x0D, 0x0A])
    }

    private func fill() async throws -> Bool {
        guard !exhausted else { return false }
        guard var more = try await iterator.next() else {
            exhausted = true
            return false
        }
        fetched += more.readableBytes
        buffer.writeBuffer(&more)
        return true
    }

    private func find(_ needle: [UInt8]) -> Int? {
        buffer.withUnsafeReadableBytes { raw -> Int? in
            guard raw.count >= needle.count else { return nil }
            let first = needle[0]
            var i = 0
            let last = raw.count - needle.count
            while i <= last {
                if raw[i] == first {
                    var j = 1
                    while j < needle.count && raw[i + j] == needle[j] { j += 1 }
                    if j == needle.count { return i }
                }
                i += 1
            }
            return nil
        }
    }

    /// Moves to the next part and returns its headers (names lower-cased); nil after the closing boundary.
    /// Skips whatever is left of the current part.
    func nextPart() async throws -> [String: String]? {
        while !partEnded || buffer.readerIndex == 0 && buffer.readableBytes == 2 && !startedOnce {
            // Skip to the next delimiter.
            if let i = find(delimiter) {
                buffer.moveReaderIndex(forwardBy: i + delimiter.count)
                partEnded = true
                startedOnce = true
                break
            }
            let keep = delimiter.count - 1
            if buffer.readableBytes > keep { buffer.moveReaderIndex(forwardBy: buffer.readableBytes - keep) }
            guard try await fill() else { throw Self.malformed }
        }
        // After a delimiter: `--` closes the form; else CRLF, then the part's headers up to a blank line.
        while buffer.readableBytes < 2 { guard try await fill() else { throw Self.malformed } }
        if buffer.readableBytesView.starts(with: [0x2D, 0x2D]) { return nil }
        var headerEnd: Int?
        while true {
            headerEnd = find([0x0D, 0x0A, 0x0D, 0x0A])
            if headerEnd != nil { break }
            guard buffer.readableBytes < 16 * 1024, try await fill() else { throw Self.malformed }
        }
        let text = String(decoding: buffer.readableBytesView.prefix(headerEnd!), as: UTF8.self)
        buffer.moveReaderIndex(forwardBy: headerEnd! + 4)
        var headers: [String: String] = [:]
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].trimmingSpaces().lowercased()] = line[line.index(after: colon)...].trimmingSpaces()
        }
        partEnded = false
        return headers
    }
    private var startedOnce = false

    /// How far into the body the reader is (bytes consumed, not counting those still buffered).
    var offset: Int { max(0, fetched - buffer.readableBytes + 2) }

    /// The length of the delimiter that closes a part.
    var delimiterLength: Int { delimiter.count }

    /// The rest of the current part, at most `limit` bytes.
    func readPart(limit: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        while let chunk = try await nextChunk() {
            out.append(contentsOf: chunk.readableBytesView)
            if out.count > limit {
                throw S3Error(
                    .MaxPostPreDataLengthExceeded, "Your POST request fields preceeding the upload file were too large."
                )
            }
        }
        return out
    }

    /// The next bytes of the current part; nil when it has ended.
    func nextChunk() async throws -> ByteBuffer? {
        guard !partEnded else { return nil }
        while true {
            if let i = find(delimiter) {
                let chunk = buffer.readSlice(length: i)!
                buffer.moveReaderIndex(forwardBy: delimiter.count)
                partEnded = true
                if chunk.readableBytes > 0 { return chunk }
                return nil
            }
            let keep = delimiter.count - 1
            if buffer.readableBytes > keep + 64 * 1024 || (exhausted && buffer.readableBytes > keep) {
                let chunk = buffer.readSlice(length: buffer.readableBytes - keep)!
                buffer.discardReadBytes()
                return chunk
            }
            guard try await fill() else {
                if buffer.readableBytes > keep { continue }
                throw S3Error(.IncompleteBody, "The POST body ended inside the file.")
            }
        }
    }
}

/// The file part as an object body: counts the bytes, refuses more than `max` as they arrive and fewer than
/// `min` before the end (so nothing is committed).
struct PostFileBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let reader: FormDataReader
    let min: Int64
    let max: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        let reader: FormDataReader
        let min: Int64
        let max: Int64
        var total: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await reader.nextChunk() else {
                if total < min {
                    throw S3Error(
                        .EntityTooSmall, "Your proposed upload is smaller than the minimum allowed size",
                        extra: [("ProposedSize", String(total)), ("MinSizeAllowed", String(min))])
                }
                return nil
            }
            total += Int64(chunk.readableBytes)
            if total > max {
                throw S3Error(
                    .EntityTooLarge, "Your proposed upload exceeds the maximum allowed size",
                    extra: [("ProposedSize", String(total)), ("MaxSizeAllowed", String(max))])
            }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: reader, min: min, max: max) }
}

extension S3API {
    static let maxFormFieldBytes = 64 * 1024

    /// POST Object: a browser upload as `multipart/form-data`, authenticated by the form's policy and signature
    /// (SigV4 or SigV2), or anonymous where a bucket policy lets it in.
    func postObject(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        guard let contentType = call.header(.contentType),
            contentType.lowercased().hasPrefix("multipart/form-data"),
            let boundary = Self.boundary(contentType)
        else {
            throw S3Error(
                .PreconditionFailed, "Bucket POST must be of the enclosure-type multipart/form-data",
                extra: [("Condition", "Bucket POST must be of the enclosure-type multipart/form-data")])
        }
        try await call.state.sendContinueIfExpected()
        let reader = FormDataReader(body: call.request.body, boundary: boundary)
        var fields: [String: String] = [:]
        var filename: String?
        var fileContentType: String?
        var fieldBytes = 0
        while let part = try await reader.nextPart() {
            guard let disposition = part["content-disposition"], let name = Self.dispositionParam(disposition, "name")
            else { throw FormDataReader.malformed }
            if name.lowercased() == "file" {
                filename = Self.dispositionParam(disposition, "filename") ?? ""
                fileContentType = part["content-type"]
                break
            }
            let value = try await reader.readPart(limit: Self.maxFormFieldBytes - fieldBytes)
            fieldBytes += value.count + name.utf8.count
            fields[name.lowercased()] = String(decoding: value, as: UTF8.self)
        }
        guard let filename else {
            throw S3Error(
                .InvalidArgument, "POST requires exactly one file upload per request.",
                extra: [("ArgumentName", "file"), ("ArgumentValue", "0")])
        }
        _ = fileContentType
        guard var key = fields["key"], !key.isEmpty else {
            throw S3Error(
                .InvalidArgument,
                "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
                extra: [("ArgumentName", "key"), ("ArgumentValue", "")])
        }
        fields["bucket"] = bucket

        // Who sends it, and what the policy allows.
        let (identity, range) = try await postAuthentication(fields)
        let base = (filename as NSString).lastPathComponent
        key = key.replacingOccurrences(of: "${filename}", with: base)

        // The rest goes through PutObject's own checks, with the form's fields as its headers.
        var head = HTTPRequest(method: .post, scheme: nil, authority: call.request.head.authority, path: "/")
        for (name, value) in fields {
            guard
                Self.postHeaderFields.contains(name) || name.hasPrefix("x-amz-meta-") || name.hasPrefix("x-amz-grant-")
            else { continue }
            if let n = HTTPField.Name(name) { head.headerFields[n] = value }
        }
        // AWS's form field names for what PutObject takes as headers.
        if let acl = fields["acl"], head.headerFields[HTTPField.Name("x-amz-acl")!] == nil {
            head.headerFields[HTTPField.Name("x-amz-acl")!] = acl
        }
        if let tagging = fields["tagging"] {
            head.headerFields[.amzTagging] = try Self.taggingHeader(fromXML: tagging)
        }
        let form = S3Call(
            request: Request(head: head, body: RequestBody(buffer: ByteBuffer())), channel: call.channel,
            state: call.state, operation: .PostObject, requestID: call.requestID, bucket: bucket, key: key,
            query: [:], identity: identity, auth: .anonymous, resource: "/\(bucket)/\(key)")
        _ = try requireKey(form)
        if SOSAPI.document(for: key) != nil { throw Self.sosapiReadOnly }
        try rejectUnsupportedHeaders(form)
        var authorized = form
        authorized.access = try await authorize(form)
        let meta = try objectMeta(from: authorized)
        var putMeta = meta
        putMeta.acl = try await objectACLForWrite(authorized)
        let customer = try customerKey(authorized, write: true)
        let sealing = try await writeSealing(authorized, bucket: bucket, customer: customer)
        let maxSize = min(range?.upperBound ?? S3Limits.maxSinglePut, S3Limits.maxSinglePut)
        var reservation: String?
        var md5: [UInt8]?
        if let m = fields["content-md5"] {
            guard let d = Data(base64Encoded: m), d.count == 16 else { throw S3Error(.InvalidDigest) }
            md5 = Array(d)
        }
        let b = try await existingBucket(authorized)
        if !b.tenant.isEmpty || b.maxBytes > 0 || b.maxObjects > 0,
            let length = call.header(.contentLength).flatMap(Int64.init)
        {
            // What is left of the body after the fields bounds the file (the commit checks the real size again).
            let left = length - Int64(reader.offset) - Int64(reader.delimiterLength)
            reservation = try await objects.reserve(
                bucket: bucket, replacing: key, bytes: max(0, min(left, maxSize)), objects: 1)
        }
        var req = PutRequest(bucket: bucket, key: key, meta: putMeta, declaredSize: nil, contentMD5: md5)
        req.reservation = reservation
        req.sealing = sealing
        let record = try await objects.put(
            req, body: PostFileBody(reader: reader, min: range?.lowerBound ?? 0, max: maxSize))

        let etag = "\"\(record.etag)\""
        var headers = HTTPFields()
        headers[.eTag] = etag
        let location = "/\(bucket)/\(PercentEncoding.encode(key, keepSlash: true))"
        headers[.location] = location
        addVersionHeader(&headers, record.versionID)
        addSSEHeaders(&headers, record.meta, customer: customer)
        if let redirect = fields["success_action_redirect"] ?? fields["redirect"],
            let url = URLComponents(string: redirect),
            url.scheme != nil
        {
            // Every value fully encoded (`+` too, which form decoding would read as a space).
            let added = [("bucket", bucket), ("key", key), ("etag", etag)].map {
                "\($0.0)=\(PercentEncoding.encode($0.1))"
            }
            let (base, fragment) =
                redirect.firstIndex(of: "#").map { (String(redirect[..<$0]), String(redirect[$0...])) }
                ?? (redirect, "")
            headers[.location] = base + (base.contains("?") ? "&" : "?") + added.joined(separator: "&") + fragment
            headers[.contentLength] = "0"
            return Response(status: .seeOther, headers: headers)
        }
        switch fields["success_action_status"] {
        case "200":
            headers[.contentLength] = "0"
            return Response(status: .ok, headers: headers)
        case "201":
            var w = XMLWriter()
            w.open("PostResponse")
            w.element("Location", location)
            w.element("Bucket", bucket)
            w.element("Key", key)
            w.element("ETag", etag)
            w.close("PostResponse")
            var r = xmlResponse(w.finish(), status: .created)
            for f in headers { r.headers[f.name] = f.value }
            return r
        default:
            headers[.contentLength] = "0"
            return Response(status: .noContent, headers: headers)
        }
    }

    /// The form fields that become the object's headers, as for PutObject.
    static let postHeaderFields: Set<String> = [
        "cache-control", "content-type", "content-disposition", "content-encoding", "content-language", "expires",
        "x-amz-storage-class", "x-amz-acl", "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-customer-algorithm", "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-md5", "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-website-redirect-location", "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date",
        "x-amz-object-lock-legal-hold",
    ]

    /// The signer of a form and the size range its policy allows. A form without a signature is anonymous
    /// (a bucket policy must allow it); a signed form must carry a policy, checked before anything is stored.
    func postAuthentication(_ fields: [String: String]) async throws -> (Identity?, ClosedRange<Int64>?) {
        let v4 = fields["x-amz-signature"]
        let v2 = fields["signature"]
        guard v4 != nil || v2 != nil else { return (nil, nil) }
        guard let policyText = fields["policy"] else {
            throw S3Error(
                .InvalidArgument, "Bucket POST must contain a field named 'policy'.",
                extra: [("ArgumentName", "policy"), ("ArgumentValue", "")])
        }
        let accessKey: String
        let scope: CredentialScope?
        if v4 != nil {
            let s = try PostSignature.credential(fields, region: config.region)
            accessKey = s.accessKey
            scope = s
        } else {
            guard let k = fields["awsaccesskeyid"] else {
                throw S3Error(
                    .InvalidArgument, "Bucket POST must contain a field named 'AWSAccessKeyId'.",
                    extra: [("ArgumentName", "AWSAccessKeyId"), ("ArgumentValue", "")])
            }
            accessKey = k
            scope = nil
        }
        guard let identity = try await iam.identity(accessKey: accessKey) else {
            throw SignatureError(.invalidAccessKeyId, accessKey: accessKey)
        }
        let good =
            if let scope, let v4 {
                PostSignature.verifyV4(policy: policyText, signature: v4, secret: identity.secret, scope: scope)
            } else {
                PostSignature.verifyV2(policy: policyText, signature: v2 ?? "", secret: identity.secret)
            }
        guard good else {
            throw S3Error(
                .SignatureDoesNotMatch,
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                extra: [("AWSAccessKeyId", accessKey)])
        }
        let usableIdentity = try usable(identity)
        do {
            let policy = try PostPolicy.parse(base64: policyText)
            return (usableIdentity, try policy.check(fields: fields, now: Date()))
        } catch {
            throw S3Error(error.malformed ? .InvalidPolicyDocument : .AccessDenied, error.message)
        }
    }

    static func boundary(_ contentType: String) -> String? {
        for param in contentType.split(separator: ";").dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
            if kv.count == 2, kv[0].lowercased() == "boundary" {
                let b =
                    kv[1].hasPrefix("\"") && kv[1].hasSuffix("\"") && kv[1].count >= 2
                    ? String(kv[1].dropFirst().dropLast()) : kv[1]
                return b.isEmpty || b.utf8.count > 200 ? nil : b
            }
        }
        return nil
    }

    /// A parameter of `Content-Disposition: form-data; name="x"; filename="y"`.
    static func dispositionParam(_ value: String, _ name: String) -> String? {
        var rest = Substring(value)
        while let semi = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semi)...]
            let piece = rest.prefix { $0 != ";" }.trimmingSpaces()
            guard let eq = piece.firstIndex(of: "=") else { continue }
            let k = piece[..<eq].trimmingSpaces().lowercased()
            var v = piece[piece.index(after: eq)...].trimmingSpaces()
            if v.hasPrefix("\"") {
                // A quoted value may hold `;`: read to the closing quote in the full text.
                let start = rest.firstIndex(of: "\"")!
                let after = rest[rest.index(after: start)...]
                guard let close = after.firstIndex(of: "\"") else { return nil }
                v = String(after[..<close])
                if k == name { return v }
                rest = after[after.index(after: close)...]
                continue
            }
            if k == name { return v }
        }
        return nil
    }

    /// The `tagging` field (a `<Tagging>` document) as an `x-amz-tagging` header value.
    static func taggingHeader(fromXML text: String) throws -> String {
        guard let doc = try? XMLParser.parse(Array(text.utf8)), doc.name == "Tagging" else {
            throw S3Error(.MalformedXML)
        }
        let tags = doc.child("TagSet")?.all("Tag") ?? []
        return tags.map { t in
            PercentEncoding.encode(t.child("Key")?.text ?? "") + "="
                + PercentEncoding.encode(t.child("Value")?.text ?? "")
        }.joined(separator: "&")
    }
}
